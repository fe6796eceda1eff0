package infra_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/dhmc-guard/dhmc-guard/infra"
	"github.com/dhmc-guard/dhmc-guard/internal/central"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

const (
	centralTemplate = "org/central.yaml"
	orgID           = "o-a1b2c3d4e5"
)

func renderCentral(t *testing.T, params map[string]string) *infra.Rendered {
	t.Helper()
	p := map[string]string{"OrganizationId": orgID}
	for k, v := range params {
		p[k] = v
	}
	return render(t, centralTemplate, envWith("", p))
}

// centralRuleARN is the rule's ARN as EventBridge forms it for a rule on a
// custom bus: rule/<bus>/<rule>.
func centralRuleARN(t *testing.T, r *infra.Rendered) string {
	t.Helper()
	rule := resource(t, r, "ToOnCall", "AWS::Events::Rule").Properties
	bus := resource(t, r, "CentralBus", "AWS::Events::EventBus").Properties
	if got := str(rule["EventBusName"]); got != "ref:CentralBus" {
		t.Fatalf("rule is on bus %s, want the central bus", got)
	}
	return "arn:aws:events:eu-west-1:" + account + ":rule/" + str(bus["Name"]) + "/" + str(rule["Name"])
}

func condition(st map[string]any, op, key string) string {
	c, _ := st["Condition"].(map[string]any)
	m, _ := c[op].(map[string]any)
	if m[key] == nil {
		return ""
	}
	return str(m[key])
}

// policies are every policy document of the central template, by where
// they live.
func centralPolicies(t *testing.T, r *infra.Rendered) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	bus := resource(t, r, "OrganisationGuardsMayPutEvents", "AWS::Events::EventBusPolicy").Properties
	out["bus"] = []map[string]any{get(t, bus, "Statement").(map[string]any)}
	out["key"] = statements(t, get(t, resource(t, r, "CentralKey", "AWS::KMS::Key").Properties, "KeyPolicy"))
	out["topic"] = statements(t, get(t, resource(t, r, "CentralTopicPolicy", "AWS::SNS::TopicPolicy").Properties, "PolicyDocument"))
	var logs map[string]any
	raw := str(resource(t, r, "CentralLogGroupPolicy", "AWS::Logs::ResourcePolicy").Properties["PolicyDocument"])
	if err := json.Unmarshal([]byte(raw), &logs); err != nil {
		t.Fatalf("log group policy is not JSON: %v\n%s", err, raw)
	}
	out["logs"] = statements(t, logs)
	return out
}

func TestCentralBusAcceptsDhmcGuardEventsFromTheOrganisationOnly(t *testing.T) {
	r := renderCentral(t, nil)
	st := centralPolicies(t, r)["bus"][0]
	checks := []struct{ what, got, want string }{
		{"Effect", str(st["Effect"]), "Allow"},
		{"Action", strings.Join(strs(st["Action"]), ","), "events:PutEvents"},
		{"Resource", str(st["Resource"]), "getatt:CentralBus.Arn"},
		{"aws:PrincipalOrgID", condition(st, "StringEquals", "aws:PrincipalOrgID"), orgID},
		{"events:source", condition(st, "StringEquals", "events:source"), central.Source},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("bus policy %s = %q, want %q", c.what, c.got, c.want)
		}
	}
	if _, err := load(t, centralTemplate).Render(envWith("", map[string]string{"OrganizationId": "123456789012"})); err == nil {
		t.Error("an account ID was accepted as the organisation ID")
	}
}

// Nothing is public: a statement open to every principal is held to the
// organisation, and a service principal to this account and rule.
func TestCentralPoliciesAreNeverPublic(t *testing.T) {
	r := renderCentral(t, nil)
	rule := centralRuleARN(t, r)
	checked := 0
	for where, sts := range centralPolicies(t, r) {
		for _, st := range sts {
			if str(st["Effect"]) != "Allow" {
				continue
			}
			checked++
			p := principal(st)
			switch {
			case p == "*" || p == "aws:*":
				if condition(st, "StringEquals", "aws:PrincipalOrgID") != orgID {
					t.Errorf("%s %v: open to every principal without aws:PrincipalOrgID", where, st["Sid"])
				}
			case strings.HasPrefix(p, "service:"):
				if condition(st, "ArnEquals", "aws:SourceArn") != rule {
					t.Errorf("%s %v: %s may act for any rule (aws:SourceArn %q, want %s)", where, st["Sid"], p,
						condition(st, "ArnEquals", "aws:SourceArn"), rule)
				}
			case p == "aws:arn:aws:iam::"+account+":root":
			default:
				t.Errorf("%s %v: principal %s", where, st["Sid"], p)
			}
		}
	}
	if checked < 6 {
		t.Errorf("only %d statements checked", checked)
	}
}

func TestCentralTopicIsEncryptedWithAKeyTheRuleAndTheGuardsMayUse(t *testing.T) {
	r := renderCentral(t, nil)
	if got := str(resource(t, r, "CentralTopic", "AWS::SNS::Topic").Properties["KmsMasterKeyId"]); got != "ref:CentralKey" {
		t.Errorf("topic KmsMasterKeyId = %s, want the stack's key", got)
	}
	key := resource(t, r, "CentralKey", "AWS::KMS::Key").Properties
	if str(key["EnableKeyRotation"]) != "true" {
		t.Error("key rotation is off")
	}
	var events, guards bool
	for _, st := range centralPolicies(t, r)["key"] {
		acts := strs(st["Action"])
		mayEncrypt := slices.Contains(acts, "kms:GenerateDataKey*") && slices.Contains(acts, "kms:Decrypt")
		switch principal(st) {
		case "service:events.amazonaws.com":
			events = mayEncrypt && sourceAccountCondition(st) == account
		case "*":
			guards = mayEncrypt && condition(st, "StringEquals", "kms:ViaService") == "sns.eu-west-1.amazonaws.com"
		}
	}
	if !events {
		t.Error("EventBridge may not use the key: the rule cannot deliver to the encrypted topic")
	}
	if !guards {
		t.Error("the organisation's guards may not use the key through SNS: direct alerts would fail")
	}
}

// envelope is what EventBridge delivers for a PutEvents entry.
func envelope(t *testing.T, e ebtypes.PutEventsRequestEntry) []byte {
	t.Helper()
	var detail any
	if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &detail); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{
		"version": "0", "id": "x", "detail-type": aws.ToString(e.DetailType), "source": aws.ToString(e.Source),
		"account": "210987654321", "time": "2026-03-10T10:00:00Z", "region": "eu-west-1", "resources": e.Resources,
		"detail": detail,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCentralRuleDeliversWhatTheGuardsPublishToTopicAndLogs(t *testing.T) {
	r := renderCentral(t, map[string]string{"BusName": "org-dhmc"})
	rule := resource(t, r, "ToOnCall", "AWS::Events::Rule").Properties
	pattern := compile(t, rule["EventPattern"])

	bus := "arn:aws:events:eu-west-1:" + account + ":event-bus/org-dhmc"
	drift := &dhmc.Report{Cause: dhmc.Cause{Trigger: "schedule"}, AccountID: "210987654321", Mode: "enforce",
		StartedAt: "2026-03-10T10:00:00Z", Results: []dhmc.Result{{Finding: dhmc.Finding{Kind: dhmc.KindSettingDisabled, Region: "eu-west-1"}, Outcome: dhmc.OutcomeDone}}}
	run, ok := central.RunEvent(bus, drift)
	if !ok {
		t.Fatal("no run event")
	}
	summary, err := central.SummaryEvent(bus, central.BuildSummary(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), []dhmc.Report{*drift}))
	if err != nil {
		t.Fatal(err)
	}
	other := run
	other.Source = aws.String("aws.ssm")
	renamed := run
	renamed.DetailType = aws.String("DHMC Guard Something Else")
	tests := []struct {
		name  string
		entry ebtypes.PutEventsRequestEntry
		want  bool
	}{
		{"a run report", run, true},
		{"a daily summary", summary, true},
		{"another source", other, false},
		{"another detail type", renamed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pattern.Match(envelope(t, tt.entry))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("matched = %v, want %v", got, tt.want)
			}
		})
	}

	targets, _ := rule["Targets"].([]any)
	var arns []string
	for _, tg := range targets {
		arns = append(arns, str(get(t, tg, "Arn")))
	}
	logGroupARN := "arn:aws:logs:eu-west-1:" + account + ":log-group:ref:CentralLogGroup"
	if want := []string{"ref:CentralTopic", logGroupARN}; !slices.Equal(arns, want) {
		t.Errorf("targets = %v, want %v", arns, want)
	}
	if name := str(resource(t, r, "CentralLogGroup", "AWS::Logs::LogGroup").Properties["LogGroupName"]); !strings.HasPrefix(name, "/aws/events/") {
		t.Errorf("log group %s is not under /aws/events/", name)
	}
	logs := centralPolicies(t, r)["logs"]
	if len(logs) != 1 || !slices.Contains(strs(logs[0]["Action"]), "logs:PutLogEvents") ||
		str(logs[0]["Resource"]) != logGroupARN+":*" || !strings.Contains(principal(logs[0]), "events.amazonaws.com") {
		t.Errorf("log group policy %v does not let the rule write to the group", logs)
	}
	if got, want := str(r.Outputs["BusArn"]), "getatt:CentralBus.Arn"; got != want {
		t.Errorf("output BusArn = %s, want %s", got, want)
	}
}

func TestGuardMayPublishToTheConfiguredCentralTargetsOnly(t *testing.T) {
	const (
		bus   = "arn:aws:events:eu-west-1:210987654321:event-bus/dhmc-guard-central"
		topic = "arn:aws:sns:eu-west-1:210987654321:central"
		key   = "arn:aws:kms:eu-west-1:210987654321:key/0d5c5a8e-6a0b-4f1e-9d3e-2b7c1f0a9e11"
	)
	tests := []struct {
		name   string
		params map[string]string
		want   map[string]string // Sid -> "actions on resource"
	}{
		{"off", nil, map[string]string{}},
		{"bus only", map[string]string{"CentralEventBusArn": bus},
			map[string]string{"CentralEventBus": "events:PutEvents on " + bus}},
		{"bus and encrypted topic", map[string]string{"CentralEventBusArn": bus, "CentralTopicArn": topic, "CentralTopicKeyArn": key},
			map[string]string{"CentralEventBus": "events:PutEvents on " + bus, "CentralTopic": "sns:Publish on " + topic,
				"CentralTopicKey": "kms:Decrypt,kms:GenerateDataKey on " + key}},
		{"a key without a topic grants nothing", map[string]string{"CentralTopicKeyArn": key}, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]string{}
			for sid, st := range functionStatements(t, tt.params) {
				if strings.HasPrefix(sid, "Central") {
					got[sid] = strings.Join(strs(st["Action"]), ",") + " on " + strings.Join(strs(st["Resource"]), ",")
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("central statements %v, want %v", got, tt.want)
			}
			for sid, w := range tt.want {
				if got[sid] != w {
					t.Errorf("%s = %q, want %q", sid, got[sid], w)
				}
			}
			fn := resource(t, render(t, mainTemplate, envWith("", tt.params)), "GuardFunction", "AWS::Serverless::Function")
			vars := get(t, fn.Properties, "Environment", "Variables").(map[string]any)
			if str(vars[central.EnvBusARN]) != tt.params["CentralEventBusArn"] || str(vars[central.EnvTopicARN]) != tt.params["CentralTopicArn"] {
				t.Errorf("environment %s=%v %s=%v", central.EnvBusARN, vars[central.EnvBusARN], central.EnvTopicARN, vars[central.EnvTopicARN])
			}
		})
	}
	for _, bad := range []map[string]string{
		{"CentralEventBusArn": topic},
		{"CentralTopicArn": bus},
		{"CentralTopicKeyArn": "alias/central"},
	} {
		if _, err := load(t, mainTemplate).Render(envWith("", bad)); err == nil {
			t.Errorf("parameters %v accepted", bad)
		}
	}
}
