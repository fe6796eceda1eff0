package infra_test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/infra"
)

// nameRule says where a resource type carries the physical name it creates,
// in what scope AWS holds that name unique, and the name's limits. A type
// with an empty prop creates nothing whose name another stack could take.
type nameRule struct {
	prop string
	// within names the property that narrows the scope (a rule's or a bus
	// policy statement's bus, a schedule's group); "" for the account
	// (IAM, dashboards) or the Region (everything else), see account.
	within  string
	account bool
	max     int
	pattern string
}

var physicalNames = map[string]nameRule{
	"AWS::IAM::Role":              {prop: "RoleName", account: true, max: 64, pattern: `^[\w+=,.@-]+$`},
	"AWS::IAM::ManagedPolicy":     {prop: "ManagedPolicyName", account: true, max: 128, pattern: `^[\w+=,.@-]+$`},
	"AWS::IAM::RolePolicy":        {prop: "PolicyName", within: "RoleName", account: true, max: 128, pattern: `^[\w+=,.@-]+$`},
	"AWS::CloudWatch::Dashboard":  {prop: "DashboardName", account: true, max: 255, pattern: `^[A-Za-z0-9_-]+$`},
	"AWS::Logs::LogGroup":         {prop: "LogGroupName", max: 512, pattern: `^[.\-_/#A-Za-z0-9]+$`},
	"AWS::Logs::ResourcePolicy":   {prop: "PolicyName", max: 255, pattern: `^\S+$`},
	"AWS::KMS::Alias":             {prop: "AliasName", max: 256, pattern: `^alias/[a-zA-Z0-9/_-]+$`},
	"AWS::Scheduler::Schedule":    {prop: "Name", within: "GroupName", max: 64, pattern: `^[0-9a-zA-Z-_.]+$`},
	"AWS::Events::EventBus":       {prop: "Name", max: 256, pattern: `^[/\.\-_A-Za-z0-9]+$`},
	"AWS::Events::EventBusPolicy": {prop: "StatementId", within: "EventBusName", max: 64, pattern: `^[a-zA-Z0-9-_]+$`},
	"AWS::Events::Rule":           {prop: "Name", within: "EventBusName", max: 64, pattern: `^[\.\-_A-Za-z0-9]+$`},
	"AWS::Lambda::Function":       {prop: "FunctionName", max: 64, pattern: `^[a-zA-Z0-9-_]+$`},
	"AWS::DynamoDB::Table":        {prop: "TableName", max: 255, pattern: `^[a-zA-Z0-9_.-]+$`},
	"AWS::SQS::Queue":             {prop: "QueueName", max: 80, pattern: `^[a-zA-Z0-9_-]+$`},
	"AWS::SNS::Topic":             {prop: "TopicName", max: 256, pattern: `^[a-zA-Z0-9_-]+$`},
	"AWS::CloudWatch::Alarm":      {prop: "AlarmName", max: 255, pattern: `^\S.*$`},
	// Named by CloudFormation or by their owner, or not named at all.
	"AWS::KMS::Key":                            {},
	"AWS::SNS::TopicPolicy":                    {},
	"AWS::SNS::Subscription":                   {},
	"AWS::SQS::QueuePolicy":                    {},
	"AWS::Lambda::Permission":                  {},
	"AWS::Lambda::EventInvokeConfig":           {},
	"AWS::CloudFormation::WaitConditionHandle": {},
}

// physical is one name a stack takes in an account.
type physical struct{ scope, name string }

// physicalNamesOf lists every name stack r takes in its account, failing
// on a resource type the table above does not know (a new type must say
// whether it names something), a name over its limit, and a name taken
// twice by the stack itself.
func physicalNamesOf(t *testing.T, what string, env infra.Env, r *infra.Rendered) map[physical]string {
	t.Helper()
	out := map[physical]string{}
	add := func(logical, typ string, rule nameRule, props map[string]any) {
		v, ok := props[rule.prop]
		if !ok || v == nil {
			return // left to CloudFormation
		}
		name := str(v)
		if len(name) > rule.max || !regexp.MustCompile(rule.pattern).MatchString(name) {
			t.Errorf("%s: %s %s name %q (%d characters) is over %d or not %s", what, typ, logical, name, len(name), rule.max, rule.pattern)
		}
		scope := typ + " in " + env.AccountID
		if !rule.account {
			scope += " " + env.Region
		}
		if rule.within != "" {
			within := "default"
			if w, ok := props[rule.within]; ok && w != nil {
				within = nameOf(env, r, str(w))
			}
			scope += " " + rule.within + "=" + within
		}
		p := physical{scope, name}
		if other, dup := out[p]; dup {
			t.Errorf("%s: %s and %s are both %s %q", what, other, logical, scope, name)
		}
		out[p] = logical
	}
	for logical, res := range r.Resources {
		if res.Type == "AWS::Serverless::Function" {
			for ev, rule := range samEventNames(t, logical, res) {
				add(ev, "AWS::Scheduler::Schedule", physicalNames["AWS::Scheduler::Schedule"], rule)
			}
			add(logical, "AWS::Lambda::Function", physicalNames["AWS::Lambda::Function"], res.Properties)
			continue
		}
		rule, known := physicalNames[res.Type]
		if !known {
			t.Errorf("%s: %s is a %s: add the type to physicalNames (which property names it, in what scope)", what, logical, res.Type)
			continue
		}
		if rule.prop != "" {
			add(logical, res.Type, rule, res.Properties)
		}
	}
	return out
}

// nameOf turns a reference to a resource of the stack ("ref:CentralBus")
// into that resource's name: the name it sets, or else one CloudFormation
// makes unique to the stack.
func nameOf(env infra.Env, r *infra.Rendered, v string) string {
	logical, ok := strings.CutPrefix(v, "ref:")
	if !ok {
		return v
	}
	if res, ok := r.Resources[logical]; ok {
		if rule := physicalNames[res.Type]; rule.prop != "" && res.Properties[rule.prop] != nil {
			return str(res.Properties[rule.prop])
		}
	}
	return "generated for " + env.StackName + "/" + logical
}

// samEventNames returns, for a SAM function, the properties of the schedules
// its ScheduleV2 events become, with the name SAM gives them: the event's
// Name, or else the function's and the event's logical IDs, the same in
// every stack. EventBridge rules SAM makes are named by CloudFormation
// unless the event sets RuleName (then it is checked as a rule name).
func samEventNames(t *testing.T, fn string, res infra.Resource) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	events, _ := res.Properties["Events"].(map[string]any)
	for name, raw := range events {
		ev, _ := raw.(map[string]any)
		props, _ := ev["Properties"].(map[string]any)
		switch typ := str(ev["Type"]); typ {
		case "ScheduleV2":
			p := map[string]any{"Name": fn + name, "GroupName": props["GroupName"]}
			if n, ok := props["Name"]; ok {
				p["Name"] = n
			}
			out[fn+name] = p
		case "EventBridgeRule":
			if props["RuleName"] != nil {
				t.Errorf("%s event %s sets RuleName: add it to the names this test checks", fn, name)
			}
		default:
			t.Errorf("%s event %s is a %s: teach samEventNames what it names", fn, name, typ)
		}
	}
	return out
}

// collisions lists the names that stacks a and b would both take.
func collisions(a, b map[physical]string) []string {
	var out []string
	for p, logical := range a {
		if other, ok := b[p]; ok {
			out = append(out, fmt.Sprintf("%s %q (%s and %s)", p.scope, p.name, logical, other))
		}
	}
	sort.Strings(out)
	return out
}

type stackCase struct {
	what string
	file string
	env  infra.Env
}

func stackNamed(t *testing.T, what, file, region, stackName string, params map[string]string, stackSet bool) stackCase {
	t.Helper()
	env := envWith(region, params)
	if stackSet {
		env = stackSetEnv(t, env)
	}
	env.StackName = stackName
	return stackCase{what: what, file: file, env: env}
}

// A per-account stack (the README's first path) and an organisation
// StackSet instance, two per-account stacks, two forwarders and two central
// stacks can each live in one account and Region: no name they create is
// the same.
func TestTwoStacksInOneAccountAndRegionTakeNoSameName(t *testing.T) {
	fwd := map[string]string{"HomeRegion": "eu-west-1"}
	pairs := []struct{ a, b stackCase }{
		{
			stackNamed(t, "per-account guard", mainTemplate, "eu-west-1", "dhmc-guard", nil, false),
			stackNamed(t, "StackSet guard instance", stacksetTemplate, "eu-west-1", stackSetStackName, nil, true),
		},
		{
			stackNamed(t, "per-account guard in us-east-1", mainTemplate, "us-east-1", "dhmc-guard", nil, false),
			stackNamed(t, "StackSet guard instance in us-east-1", stacksetTemplate, "us-east-1", stackSetStackName, nil, true),
		},
		{
			stackNamed(t, "per-account guard", mainTemplate, "eu-west-1", "dhmc-guard", nil, false),
			stackNamed(t, "a second per-account guard", mainTemplate, "eu-west-1", "dhmc-guard-staging", nil, false),
		},
		{
			stackNamed(t, "self-managed forwarder StackSet instance", forwarderTemplate, "us-east-1", "StackSet-dhmc-forwarder-3f1c0b7e-2a44-4c1e-8f0e-5b1d2c3a4e5f", fwd, false),
			stackNamed(t, "service-managed forwarder StackSet instance", forwarderTemplate, "us-east-1", "StackSet-dhmc-forwarder-org-9a8b7c6d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", fwd, false),
		},
		{
			stackNamed(t, "central stack", centralTemplate, "eu-west-1", "dhmc-guard-central", map[string]string{"OrganizationId": orgID}, false),
			stackNamed(t, "a second central stack", centralTemplate, "eu-west-1", "dhmc-guard-central-test", map[string]string{"OrganizationId": orgID}, false),
		},
	}
	for _, p := range pairs {
		t.Run(p.a.what+" and "+p.b.what, func(t *testing.T) {
			a := physicalNamesOf(t, p.a.what, p.a.env, render(t, p.a.file, p.a.env))
			b := physicalNamesOf(t, p.b.what, p.b.env, render(t, p.b.file, p.b.env))
			if len(a) == 0 || len(b) == 0 {
				t.Fatalf("%d and %d names found: the test checked nothing", len(a), len(b))
			}
			// The check itself: a stack beside its own copy collides on
			// every name it sets.
			if self := collisions(a, a); len(self) != len(a) {
				t.Fatalf("a stack beside itself collides on %d of its %d names", len(self), len(a))
			}
			if c := collisions(a, b); len(c) > 0 {
				t.Errorf("%s and %s both create:\n  %s", p.a.what, p.b.what, strings.Join(c, "\n  "))
			}
		})
	}
}

// The forwarder's roles are account-wide: one account's forwarders in every
// Region, of two StackSets, never share a name.
func TestForwarderRolesOfOneAccountNeverShareAName(t *testing.T) {
	fwd := map[string]string{"HomeRegion": "eu-west-1"}
	seen := map[physical]string{}
	for _, stack := range []string{"StackSet-dhmc-forwarder-3f1c0b7e-2a44-4c1e-8f0e-5b1d2c3a4e5f", "StackSet-dhmc-forwarder-org-9a8b7c6d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"} {
		for _, region := range []string{"us-east-1", "ap-southeast-2", "eu-central-1", "ap-southeast-5"} {
			c := stackNamed(t, stack+" in "+region, forwarderTemplate, region, stack, fwd, false)
			for p := range physicalNamesOf(t, c.what, c.env, render(t, c.file, c.env)) {
				if !strings.HasPrefix(p.scope, "AWS::IAM::Role") {
					continue
				}
				if other, dup := seen[p]; dup {
					t.Errorf("role %s is created by %s and %s", p.name, other, c.what)
				}
				seen[p] = c.what
			}
		}
	}
	if len(seen) != 8 {
		t.Errorf("%d forwarder roles found, want 8 (2 stacks x 4 Regions)", len(seen))
	}
}

// The longest names the forwarder role can get still fit IAM's 64 characters:
// the longest prefix the parameter allows and a 14-character Region.
func TestForwarderRoleNameFitsAtTheLongestPrefix(t *testing.T) {
	prefix := strings.Repeat("p", 40)
	c := stackNamed(t, "forwarder", forwarderTemplate, "ap-southeast-5", "StackSet-dhmc-forwarder-3f1c0b7e-2a44-4c1e-8f0e-5b1d2c3a4e5f",
		map[string]string{"HomeRegion": "eu-west-1", "ForwarderRoleNamePrefix": prefix}, false)
	r := render(t, c.file, c.env)
	name := str(resource(t, r, "ForwarderRole", "AWS::IAM::Role").Properties["RoleName"])
	if !strings.HasPrefix(name, prefix+"ap-southeast-5-") || len(name) > 64 {
		t.Errorf("forwarder role %q (%d characters): want the prefix and Region first, at most 64", name, len(name))
	}
	physicalNamesOf(t, c.what, c.env, r) // checks the limits too
}
