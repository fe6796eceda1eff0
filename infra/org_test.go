package infra_test

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/infra"
)

// stacksetTemplate is infra/template.yaml translated to plain CloudFormation
// by `make org-templates` (infra/org/stackset.py). These tests prove it says
// what the SAM template says, so it cannot drift into a hand-kept copy.
const stacksetTemplate = "org/guard-stackset.yaml"

const codeBucketPrefix = "dhmc-guard-code"

// stackSetStackName is how StackSets name the stack of an instance:
// StackSet-<StackSet name>-<UUID>. infra/org/README.md names the guard's
// StackSet "dhmc".
const stackSetStackName = "StackSet-dhmc-guard-organisation-rollout-production-0d5c5a8e-6a0b-4f1e-9d3e-2b7c1f0a9e11"

func load(t *testing.T, file string) *infra.Template {
	t.Helper()
	tmpl, err := infra.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func serverless(typ string) bool { return strings.HasPrefix(typ, "AWS::Serverless::") }

// samFunctions are the logical IDs of the SAM template's functions.
func samFunctions(t *testing.T) []string {
	t.Helper()
	res, _ := load(t, mainTemplate).Raw("Resources").(map[string]any)
	var out []string
	for name, r := range res {
		if m, _ := r.(map[string]any); m["Type"] == "AWS::Serverless::Function" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatal("the SAM template has no function")
	}
	return out
}

// codeKeyParameter is the StackSet parameter holding function fn's object key.
func codeKeyParameter(fn string) string {
	name := strings.TrimSuffix(fn, "Function")
	if name == "" {
		name = fn
	}
	return name + "CodeKey"
}

func codeKey(fn string) string { return "dhmc-guard/" + strings.ToLower(fn) + "-0123456789abcdef.zip" }

// stackSetEnv is env plus the code location the StackSet template needs.
func stackSetEnv(t *testing.T, env infra.Env) infra.Env {
	t.Helper()
	params := map[string]string{"CodeBucketPrefix": codeBucketPrefix}
	for k, v := range env.Params {
		params[k] = v
	}
	for _, fn := range samFunctions(t) {
		params[codeKeyParameter(fn)] = codeKey(fn)
	}
	env.Params = params
	return env
}

// equivalenceCases are the deployments both templates must agree on:
// defaults and every parameter changed, in Regions where IAM events arrive
// directly and where they do not.
var equivalenceCases = []struct {
	region string
	params map[string]string
}{
	{"eu-west-1", nil},
	{"us-east-1", nil},
	{"ap-southeast-2", map[string]string{
		"RoleName": "Dhmc", "RolePath": "/", "ManagedRegions": "ap-southeast-2,us-east-1", "Mode": "detect",
		"ExtraPolicyArns":        "arn:aws:iam::123456789012:policy/extra",
		"PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/boundary",
		"ScheduleRate":           "rate(15 minutes)", "SweepAlarmPeriodSeconds": "1800", "Parallelism": "4",
		"LogLevel": "DEBUG", "LogRetentionDays": "30", "AlertEmail": "oncall@example.com",
		"AllowForwarders": "false", "ForwarderRoleNamePrefix": "fwd-",
		"CentralEventBusArn": "arn:aws:events:eu-west-1:210987654321:event-bus/dhmc-central",
		"CentralTopicArn":    "arn:aws:sns:eu-west-1:210987654321:dhmc-central",
	}},
}

func TestStackSetTemplateHasTheSAMTemplatesParameters(t *testing.T) {
	sam, _ := load(t, mainTemplate).Raw("Parameters").(map[string]any)
	set, _ := load(t, stacksetTemplate).Raw("Parameters").(map[string]any)
	for name, def := range sam {
		if !reflect.DeepEqual(set[name], def) {
			t.Errorf("parameter %s differs:\n SAM      %v\n StackSet %v", name, def, set[name])
		}
	}
	want := []string{"CodeBucketPrefix"}
	for _, fn := range samFunctions(t) {
		want = append(want, codeKeyParameter(fn))
	}
	var extra []string
	for name, def := range set {
		if _, ok := sam[name]; ok {
			continue
		}
		extra = append(extra, name)
		// The code location differs per organisation: a default would
		// deploy someone else's bucket.
		if d, _ := def.(map[string]any); d["Default"] != nil {
			t.Errorf("code parameter %s has a default", name)
		}
	}
	sort.Strings(extra)
	sort.Strings(want)
	if !slices.Equal(extra, want) {
		t.Errorf("StackSet-only parameters = %v, want the code location %v", extra, want)
	}
}

func TestStackSetTemplateMatchesTheSAMTemplate(t *testing.T) {
	for _, tc := range equivalenceCases {
		t.Run(fmt.Sprintf("%s %d params", tc.region, len(tc.params)), func(t *testing.T) {
			env := envWith(tc.region, tc.params)
			sam := render(t, mainTemplate, env)
			set := render(t, stacksetTemplate, stackSetEnv(t, env))

			if !reflect.DeepEqual(sam.Conditions, set.Conditions) {
				t.Errorf("conditions differ:\n SAM      %v\n StackSet %v", sam.Conditions, set.Conditions)
			}
			if !reflect.DeepEqual(sam.Outputs, set.Outputs) {
				t.Errorf("outputs differ:\n SAM      %v\n StackSet %v", sam.Outputs, set.Outputs)
			}
			generated := map[string]string{}
			for name, res := range sam.Resources {
				if !serverless(res.Type) {
					if !reflect.DeepEqual(res, set.Resources[name]) {
						t.Errorf("resource %s differs:\n SAM      %+v\n StackSet %+v", name, res, set.Resources[name])
					}
					continue
				}
				if res.Type != "AWS::Serverless::Function" {
					t.Errorf("%s is a %s: teach this test how SAM translates it", name, res.Type)
					continue
				}
				for k, v := range checkFunction(t, name, res, set, tc.region) {
					generated[k] = v
				}
			}
			for name, res := range set.Resources {
				if _, ok := sam.Resources[name]; ok {
					continue
				}
				if typ, ok := generated[name]; !ok || typ != res.Type {
					t.Errorf("StackSet template has %s (%s), which no SAM resource explains", name, res.Type)
				}
			}
		})
	}
}

// passedThrough are the SAM function properties that reach
// AWS::Lambda::Function unchanged.
var passedThrough = []string{
	"Description", "Handler", "Runtime", "MemorySize", "Timeout", "Role", "Environment",
	"ReservedConcurrentExecutions", "Architectures", "LoggingConfig", "Layers", "VpcConfig",
	"KmsKeyArn", "EphemeralStorage", "FunctionName", "RuntimeManagementConfig", "RecursiveLoop",
}

// checkFunction compares SAM function fn with what the StackSet template
// made of it, and returns the resources SAM generated for it (name -> type).
func checkFunction(t *testing.T, fn string, sam infra.Resource, set *infra.Rendered, region string) map[string]string {
	t.Helper()
	generated := map[string]string{fn: "AWS::Lambda::Function"}
	got, ok := set.Resources[fn]
	if !ok || got.Type != "AWS::Lambda::Function" {
		t.Errorf("StackSet template has no AWS::Lambda::Function %s", fn)
		return generated
	}
	if sam.Properties["Role"] == nil {
		t.Errorf("%s has no Role: SAM would generate one this test does not check", fn)
	}
	for prop, v := range sam.Properties {
		switch {
		case slices.Contains(passedThrough, prop):
			if !reflect.DeepEqual(got.Properties[prop], v) {
				t.Errorf("%s.%s = %v in the StackSet template, %v in SAM", fn, prop, got.Properties[prop], v)
			}
		case prop == "CodeUri", prop == "Events", prop == "EventInvokeConfig":
		default:
			t.Errorf("%s.%s: teach this test how SAM translates it", fn, prop)
		}
	}
	for _, prop := range passedThrough {
		if _, inSAM := sam.Properties[prop]; !inSAM && got.Properties[prop] != nil {
			t.Errorf("%s.%s = %v appeared in the StackSet template", fn, prop, got.Properties[prop])
		}
	}
	wantCode := map[string]any{"S3Bucket": codeBucketPrefix + "-" + region, "S3Key": codeKey(fn)}
	if !reflect.DeepEqual(got.Properties["Code"], wantCode) {
		t.Errorf("%s.Code = %v, want %v (a bucket in the function's Region)", fn, got.Properties["Code"], wantCode)
	}
	wantTags := []any{map[string]any{"Key": "lambda:createdBy", "Value": "SAM"}}
	if sam.Properties["Tags"] == nil && !reflect.DeepEqual(got.Properties["Tags"], wantTags) {
		t.Errorf("%s.Tags = %v", fn, got.Properties["Tags"])
	}
	for k := range got.Properties {
		if !slices.Contains(passedThrough, k) && k != "Code" && k != "Tags" {
			t.Errorf("%s.%s appeared in the StackSet template", fn, k)
		}
	}

	if eic, ok := sam.Properties["EventInvokeConfig"].(map[string]any); ok {
		name := fn + "EventInvokeConfig"
		generated[name] = "AWS::Lambda::EventInvokeConfig"
		cfg := resource(t, set, name, "AWS::Lambda::EventInvokeConfig").Properties
		checks := []struct {
			what      string
			got, want any
		}{
			{"FunctionName", cfg["FunctionName"], "ref:" + fn},
			{"Qualifier", cfg["Qualifier"], "$LATEST"},
			{"MaximumRetryAttempts", cfg["MaximumRetryAttempts"], eic["MaximumRetryAttempts"]},
			{"MaximumEventAgeInSeconds", cfg["MaximumEventAgeInSeconds"], eic["MaximumEventAgeInSeconds"]},
		}
		if _, ok := eic["DestinationConfig"]; ok {
			checks = append(checks, struct {
				what      string
				got, want any
			}{"OnFailure", get(t, cfg, "DestinationConfig", "OnFailure", "Destination"), get(t, eic, "DestinationConfig", "OnFailure", "Destination")})
		} else if dc, ok := cfg["DestinationConfig"].(map[string]any); ok && len(dc) > 0 {
			// SAM writes an empty DestinationConfig when the function has none.
			t.Errorf("%s has a DestinationConfig %v the SAM template does not", name, dc)
		}
		for _, c := range checks {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("%s.%s = %v, want %v", name, c.what, c.got, c.want)
			}
		}
	}

	events, _ := sam.Properties["Events"].(map[string]any)
	for ev, raw := range events {
		typ := str(get(t, raw, "Type"))
		props, _ := get(t, raw, "Properties").(map[string]any)
		name := fn + ev
		switch typ {
		case "EventBridgeRule":
			generated[name] = "AWS::Events::Rule"
			generated[name+"Permission"] = "AWS::Lambda::Permission"
			checkRule(t, fn, name, props, set)
		case "ScheduleV2":
			generated[name] = "AWS::Scheduler::Schedule"
			generated[name+"Role"] = "AWS::IAM::Role"
			checkSchedule(t, fn, name, props, set)
		default:
			t.Errorf("%s event %s is a %s: teach this test how SAM translates it", fn, ev, typ)
		}
	}
	return generated
}

func checkRule(t *testing.T, fn, name string, sam map[string]any, set *infra.Rendered) {
	t.Helper()
	for k := range sam {
		if k != "Pattern" {
			t.Errorf("%s: event property %s: teach this test how SAM translates it", name, k)
		}
	}
	rule := resource(t, set, name, "AWS::Events::Rule").Properties
	if !reflect.DeepEqual(rule["EventPattern"], sam["Pattern"]) {
		t.Errorf("%s pattern differs:\n SAM      %v\n StackSet %v", name, sam["Pattern"], rule["EventPattern"])
	}
	if s := rule["State"]; s != nil && str(s) != "ENABLED" {
		t.Errorf("%s State = %v", name, s)
	}
	targets, _ := rule["Targets"].([]any)
	if len(targets) != 1 || str(get(t, targets[0], "Arn")) != "getatt:"+fn+".Arn" {
		t.Errorf("%s targets = %v, want the function only", name, targets)
	}
	perm := resource(t, set, name+"Permission", "AWS::Lambda::Permission").Properties
	want := map[string]any{
		"Action": "lambda:InvokeFunction", "FunctionName": "ref:" + fn,
		"Principal": "events.amazonaws.com", "SourceArn": "getatt:" + name + ".Arn",
	}
	if !reflect.DeepEqual(perm, want) {
		t.Errorf("%sPermission = %v, want %v", name, perm, want)
	}
}

func checkSchedule(t *testing.T, fn, name string, sam map[string]any, set *infra.Rendered) {
	t.Helper()
	sched := resource(t, set, name, "AWS::Scheduler::Schedule").Properties
	for k, v := range sam {
		var got any
		switch k {
		case "Name", "ScheduleExpression", "FlexibleTimeWindow", "State", "Description", "ScheduleExpressionTimezone":
			got = sched[k]
		case "Input", "RetryPolicy":
			got = get(t, sched, "Target", k)
		default:
			t.Errorf("%s: schedule property %s: teach this test how SAM translates it", name, k)
			continue
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("%s.%s = %v in the StackSet template, %v in SAM", name, k, got, v)
		}
	}
	if got := str(get(t, sched, "Target", "Arn")); got != "getatt:"+fn+".Arn" {
		t.Errorf("%s target = %s", name, got)
	}
	if got := str(get(t, sched, "Target", "RoleArn")); got != "getatt:"+name+"Role.Arn" {
		t.Errorf("%s target role = %s", name, got)
	}
	role := resource(t, set, name+"Role", "AWS::IAM::Role").Properties
	trust := statements(t, get(t, role, "AssumeRolePolicyDocument"))
	if len(trust) != 1 || principal(trust[0]) != "service:scheduler.amazonaws.com" {
		t.Errorf("%sRole trust = %v, want EventBridge Scheduler only", name, trust)
	}
	policies, _ := role["Policies"].([]any)
	var grants []string
	for _, p := range policies {
		for _, st := range statements(t, get(t, p, "PolicyDocument")) {
			grants = append(grants, str(st["Effect"])+" "+strings.Join(strs(st["Action"]), ",")+" on "+strings.Join(strs(st["Resource"]), ","))
		}
	}
	if want := []string{"Allow lambda:InvokeFunction on getatt:" + fn + ".Arn"}; !slices.Equal(grants, want) {
		t.Errorf("%sRole grants %v, want %v", name, grants, want)
	}
}

// walk calls fn for every value in v (depth first).
func walk(v any, fn func(any)) {
	fn(v)
	switch v := v.(type) {
	case map[string]any:
		for _, c := range v {
			walk(c, fn)
		}
	case []any:
		for _, c := range v {
			walk(c, fn)
		}
	case infra.Intrinsic:
		walk(v.Arg, fn)
	}
}

// Service-managed StackSets refuse templates with macros (Transform at the
// top, Fn::Transform, AWS::Include) and AWS::Serverless resources.
func TestStackSetTemplatesUseNoMacros(t *testing.T) {
	for _, file := range []string{stacksetTemplate, forwarderTemplate} {
		t.Run(file, func(t *testing.T) {
			tmpl := load(t, file)
			if tr := tmpl.Raw("Transform"); tr != nil {
				t.Errorf("Transform: %v", tr)
			}
			res, _ := tmpl.Raw("Resources").(map[string]any)
			if len(res) == 0 {
				t.Fatal("no resources: the test checked nothing")
			}
			for name, r := range res {
				if typ := str(get(t, r, "Type")); serverless(typ) || typ == "AWS::CloudFormation::Macro" {
					t.Errorf("%s is a %s", name, typ)
				}
			}
			for _, section := range []string{"Parameters", "Conditions", "Resources", "Outputs", "Metadata", "Mappings"} {
				walk(tmpl.Raw(section), func(v any) {
					if in, ok := v.(infra.Intrinsic); ok && in.Fn == "Fn::Transform" {
						t.Errorf("%s uses Fn::Transform: %v", section, in.Arg)
					}
					if s, ok := v.(string); ok && s == "AWS::Include" {
						t.Errorf("%s uses AWS::Include", section)
					}
				})
			}
		})
	}
}

func TestStackSetTemplateTakesTheCodeFromABucketInTheFunctionsRegion(t *testing.T) {
	raw, err := os.ReadFile(stacksetTemplate)
	if err != nil {
		t.Fatal(err)
	}
	for _, local := range []string{"CodeUri", "../", "functions/", "ZipFile", "ImageUri"} {
		if strings.Contains(string(raw), local) {
			t.Errorf("the StackSet template mentions %q: code must come from S3", local)
		}
	}
	for _, region := range []string{"eu-central-1", "us-west-2"} {
		set := render(t, stacksetTemplate, stackSetEnv(t, envWith(region, nil)))
		for _, fn := range samFunctions(t) {
			code := resource(t, set, fn, "AWS::Lambda::Function").Properties["Code"]
			if got := str(get(t, code, "S3Bucket")); got != codeBucketPrefix+"-"+region {
				t.Errorf("%s in %s reads code from bucket %s", fn, region, got)
			}
		}
	}
	if _, err := load(t, stacksetTemplate).Render(envWith("", nil)); err == nil {
		t.Error("the StackSet template renders without a code location")
	}
}

// globalNames are name properties of resources whose names are unique per
// account (not per Region): a StackSet deploying to several Regions of one
// account must vary them by Region.
var globalNames = map[string]string{
	"AWS::IAM::Role":             "RoleName",
	"AWS::IAM::ManagedPolicy":    "ManagedPolicyName",
	"AWS::IAM::InstanceProfile":  "InstanceProfileName",
	"AWS::CloudWatch::Dashboard": "DashboardName",
}

func TestStackSetResourceNamesAreUniquePerRegion(t *testing.T) {
	cases := []struct {
		file   string
		params map[string]string
		env    func(*testing.T, infra.Env) infra.Env
	}{
		{stacksetTemplate, nil, stackSetEnv},
		{forwarderTemplate, map[string]string{"HomeRegion": "eu-west-1"}, func(_ *testing.T, e infra.Env) infra.Env { return e }},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			seen := map[string]string{}
			named := 0
			for _, region := range []string{"us-east-1", "ap-southeast-2", "eu-central-1"} {
				env := c.env(t, envWith(region, c.params))
				env.StackName = stackSetStackName
				r := render(t, c.file, env)
				for name, res := range r.Resources {
					prop, global := globalNames[res.Type]
					if !global || res.Properties[prop] == nil {
						continue
					}
					named++
					n := str(res.Properties[prop])
					if other, dup := seen[n]; dup {
						t.Errorf("%s %s is named %s in %s and in %s", res.Type, name, n, other, region)
					}
					seen[n] = region
				}
			}
			if c.file == forwarderTemplate && named == 0 {
				t.Error("no named role found in the forwarder: the test checked nothing")
			}
		})
	}
}

// A StackSet's stacks are named StackSet-<name>-<UUID>; names built from
// the stack name must still fit their resource's limits.
func TestStackSetStackNameFitsTheNamesBuiltFromIt(t *testing.T) {
	env := stackSetEnv(t, envWith("", nil))
	env.StackName = stackSetStackName
	r := render(t, stacksetTemplate, env)
	limits := []struct {
		resource, prop string
		max            int
		pattern        string
	}{
		{"ForwardersMayPutEvents", "StatementId", 64, `^[a-zA-Z0-9_-]+$`},
		{"GuardLogGroup", "LogGroupName", 512, `^[.\-_/#A-Za-z0-9]+$`},
		{"AlertKeyAlias", "AliasName", 256, `^alias/[a-zA-Z0-9/_-]+$`},
	}
	for _, l := range limits {
		res, ok := r.Resources[l.resource]
		if !ok {
			t.Errorf("no resource %s", l.resource)
			continue
		}
		v := str(res.Properties[l.prop])
		if len(v) > l.max || !regexp.MustCompile(l.pattern).MatchString(v) {
			t.Errorf("%s.%s = %q (%d characters): over %d or not %s", l.resource, l.prop, v, len(v), l.max, l.pattern)
		}
	}
}

func TestForwarderFitsAServiceManagedStackSet(t *testing.T) {
	tmpl := load(t, forwarderTemplate)
	params, _ := tmpl.Raw("Parameters").(map[string]any)
	// HomeRegion differs per OU (parameter overrides); a default would
	// quietly send events to the wrong Region.
	if d, _ := params["HomeRegion"].(map[string]any); d == nil || d["Default"] != nil {
		t.Errorf("HomeRegion = %v, want a parameter without a default", params["HomeRegion"])
	}
	// Deployed by mistake in the home Region, it must create nothing that
	// could forward the home bus to itself.
	home := render(t, forwarderTemplate, envWith("eu-west-1", map[string]string{"HomeRegion": "eu-west-1"}))
	for name, res := range home.Resources {
		if res.Type != "AWS::CloudFormation::WaitConditionHandle" {
			t.Errorf("home Region gets %s (%s)", name, res.Type)
		}
	}
	// No account or Region written into the template: every account gets
	// the same body.
	raw, err := os.ReadFile(forwarderTemplate)
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`\b[0-9]{12}\b`).FindString(string(raw)); m != "" {
		t.Errorf("forwarder template holds an account ID %s", m)
	}
}

// create-stack-set --template-body takes at most 51,200 bytes; past that
// the README's commands need --template-url (an S3 object) instead.
func TestStackSetTemplateFitsATemplateBody(t *testing.T) {
	for _, file := range []string{stacksetTemplate, forwarderTemplate, "org/central.yaml"} {
		info, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() > 51_200 {
			t.Errorf("%s is %d bytes, over the 51,200 byte --template-body limit: switch the README to --template-url", file, info.Size())
		}
	}
}
