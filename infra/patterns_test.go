package infra_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/infra"
	"github.com/dhmc-guard/dhmc-guard/internal/eventpattern"
)

const forwarderTemplate = "forwarder.yaml"

// groupsMatching returns the rule groups ("ssm", "iam") whose patterns
// match the event.
func groupsMatching(t *testing.T, patterns map[string]*eventpattern.Pattern, event []byte) []string {
	t.Helper()
	var out []string
	for group, rules := range ruleGroups {
		for _, rule := range rules {
			p, ok := patterns[rule]
			if !ok {
				t.Fatalf("no rule %s", rule)
			}
			ok, err := p.Match(event)
			if err != nil {
				t.Fatalf("matching: %v", err)
			}
			if ok {
				out = append(out, group)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

func compiledFunctionPatterns(t *testing.T, env infra.Env) map[string]*eventpattern.Pattern {
	t.Helper()
	out := map[string]*eventpattern.Pattern{}
	for name, p := range functionPatterns(t, render(t, mainTemplate, env)) {
		out[name] = compile(t, p)
	}
	if len(out) != 4 {
		t.Fatalf("function has %d EventBridge rules, want 4", len(out))
	}
	return out
}

func TestSampleEventsReachTheFunctionOnlyWhenTheyShould(t *testing.T) {
	patterns := compiledFunctionPatterns(t, infra.DefaultEnv())
	for name, s := range loadSamples(t) {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "events", name))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			if s.MatchesRule != nil && *s.MatchesRule != "schedule" {
				want = []string{*s.MatchesRule}
			}
			got := groupsMatching(t, patterns, raw)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s (%s: %s) matches rules %v, index says %v", name, s.Kind, s.Description, got, want)
			}
		})
	}
}

// cloudTrail builds a CloudTrail-via-EventBridge event.
func cloudTrail(source, eventName string, params map[string]any) []byte {
	ev := map[string]any{
		"version": "0", "id": "x", "detail-type": "AWS API Call via CloudTrail", "source": source,
		"account": account, "time": "2026-03-10T09:14:03Z", "region": "eu-west-1", "resources": []any{},
		"detail": map[string]any{
			"eventSource":       strings.TrimPrefix(source, "aws.") + ".amazonaws.com",
			"eventName":         eventName,
			"awsRegion":         "eu-west-1",
			"requestParameters": params,
		},
	}
	b, _ := json.Marshal(ev)
	return b
}

// The rules' intent, independent of the samples: each case would have to be
// wrong in the template for the test to pass.
func TestRulesMatchOnlyTheDhmcSettingAndRole(t *testing.T) {
	patterns := compiledFunctionPatterns(t, infra.DefaultEnv())
	tests := []struct {
		name  string
		event []byte
		want  string
	}{
		{"update by short id", cloudTrail("aws.ssm", "UpdateServiceSetting", map[string]any{"settingId": "/ssm/managed-instance/default-ec2-instance-management-role", "settingValue": "x"}), "ssm"},
		{"reset by ARN", cloudTrail("aws.ssm", "ResetServiceSetting", map[string]any{"settingId": "arn:aws:ssm:ap-south-1:" + account + settingSuffix}), "ssm"},
		{"update by ARN in another partition", cloudTrail("aws.ssm", "UpdateServiceSetting", map[string]any{"settingId": "arn:aws-cn:ssm:cn-north-1:" + account + settingSuffix}), "ssm"},
		{"register DHMC", cloudTrail("aws.ssm", "RegisterDefaultHostManagementConfiguration", map[string]any{"roleArn": "x"}), "ssm"},
		{"deregister DHMC", cloudTrail("aws.ssm", "DeregisterDefaultHostManagementConfiguration", nil), "ssm"},
		{"another setting", cloudTrail("aws.ssm", "UpdateServiceSetting", map[string]any{"settingId": "/ssm/parameter-store/high-throughput-enabled"}), ""},
		{"a setting whose ID merely starts like ours", cloudTrail("aws.ssm", "UpdateServiceSetting", map[string]any{"settingId": "/ssm/managed-instance/default-ec2-instance-management-role-v2"}), ""},
		{"reading the setting", cloudTrail("aws.ssm", "GetServiceSetting", map[string]any{"settingId": "/ssm/managed-instance/default-ec2-instance-management-role"}), ""},
		{"other SSM call", cloudTrail("aws.ssm", "PutParameter", map[string]any{"name": "x"}), ""},
		{"detach from the DHMC role", cloudTrail("aws.iam", "DetachRolePolicy", map[string]any{"roleName": dhmcRoleName, "policyArn": "x"}), "iam"},
		{"put a boundary on the DHMC role", cloudTrail("aws.iam", "PutRolePermissionsBoundary", map[string]any{"roleName": dhmcRoleName, "permissionsBoundary": "x"}), "iam"},
		{"delete the DHMC role", cloudTrail("aws.iam", "DeleteRole", map[string]any{"roleName": dhmcRoleName}), "iam"},
		{"detach from another role", cloudTrail("aws.iam", "DetachRolePolicy", map[string]any{"roleName": "SomeAppRole", "policyArn": "x"}), ""},
		{"a role named like ours in other case (IAM names are case-insensitive)", cloudTrail("aws.iam", "DeleteRole", map[string]any{"roleName": strings.ToLower(dhmcRoleName)}), "iam"},
		{"a role whose name only starts like ours", cloudTrail("aws.iam", "DeleteRole", map[string]any{"roleName": dhmcRoleName + "2"}), ""},
		{"a new version of this account's policy", cloudTrail("aws.iam", "CreatePolicyVersion", map[string]any{"policyArn": "arn:aws:iam::" + account + ":policy/Boundary", "setAsDefault": true}), "iam"},
		{"a default version set", cloudTrail("aws.iam", "SetDefaultPolicyVersion", map[string]any{"policyArn": "arn:aws:iam::" + account + ":policy/Boundary", "versionId": "v2"}), "iam"},
		{"another account's policy", cloudTrail("aws.iam", "CreatePolicyVersion", map[string]any{"policyArn": "arn:aws:iam::210987654321:policy/Boundary"}), ""},
		{"creating a policy", cloudTrail("aws.iam", "CreatePolicy", map[string]any{"policyName": "x"}), ""},
		{"tag the DHMC role", cloudTrail("aws.iam", "TagRole", map[string]any{"roleName": dhmcRoleName}), ""},
		{"IAM call with the setting source", cloudTrail("aws.ssm", "DeleteRole", map[string]any{"roleName": dhmcRoleName}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(groupsMatching(t, patterns, tt.event), ",")
			if got != tt.want {
				t.Errorf("matched %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIamRuleFollowsTheRoleNameParameter(t *testing.T) {
	patterns := compiledFunctionPatterns(t, envWith("", map[string]string{"RoleName": "OpsDhmcRole"}))
	ours := cloudTrail("aws.iam", "AttachRolePolicy", map[string]any{"roleName": "OpsDhmcRole"})
	defaultName := cloudTrail("aws.iam", "AttachRolePolicy", map[string]any{"roleName": dhmcRoleName})
	if got := groupsMatching(t, patterns, ours); strings.Join(got, ",") != "iam" {
		t.Errorf("event on the configured role matched %v", got)
	}
	if got := groupsMatching(t, patterns, defaultName); len(got) != 0 {
		t.Errorf("event on the default-named role matched %v though RoleName is OpsDhmcRole", got)
	}
}

func TestIamRuleMatchesPerRegionRoleNames(t *testing.T) {
	patterns := compiledFunctionPatterns(t, envWith("", map[string]string{"RoleName": "AWS-QuickSetup-SSM-DefaultEC2MgmtRole-{region}", "RolePath": "/"}))
	for role, want := range map[string]string{
		"AWS-QuickSetup-SSM-DefaultEC2MgmtRole-eu-west-1": "iam",
		"aws-quicksetup-ssm-defaultec2mgmtrole-us-east-1": "iam",
		"AWS-QuickSetup-SSM-Other":                        "",
		dhmcRoleName:                                      "",
	} {
		got := strings.Join(groupsMatching(t, patterns, cloudTrail("aws.iam", "DetachRolePolicy", map[string]any{"roleName": role})), ",")
		if got != want {
			t.Errorf("role %s matched %q, want %q", role, got, want)
		}
	}
}

func TestForwarderSendsTheSameEventsToTheHomeBus(t *testing.T) {
	home := functionPatterns(t, render(t, mainTemplate, infra.DefaultEnv()))
	rules := map[string]string{
		"SsmSettingChangeRule":       "SsmSettingChange",
		"SsmDhmcApiCallRule":         "SsmDhmcApiCall",
		"IamRoleChangeRule":          "IamRoleChange",
		"IamPolicyVersionChangeRule": "IamPolicyVersionChange",
	}
	tests := []struct {
		region  string
		want    []string // rules deployed
		hasRole bool
	}{
		{"us-east-1", []string{"IamPolicyVersionChangeRule", "IamRoleChangeRule", "SsmDhmcApiCallRule", "SsmSettingChangeRule"}, true},
		{"ap-southeast-2", []string{"SsmDhmcApiCallRule", "SsmSettingChangeRule"}, true},
		{"eu-west-1", nil, false}, // the home Region: a rule there would loop
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			r := render(t, forwarderTemplate, envWith(tt.region, map[string]string{"HomeRegion": "eu-west-1"}))
			var got []string
			for name, res := range r.Resources {
				if res.Type != "AWS::Events::Rule" {
					continue
				}
				got = append(got, name)
				if !reflect.DeepEqual(res.Properties["EventPattern"], home[rules[name]]) {
					t.Errorf("%s pattern differs from the main template's %s:\n%v\n%v", name, rules[name], res.Properties["EventPattern"], home[rules[name]])
				}
				if str(res.Properties["State"]) != "ENABLED" {
					t.Errorf("%s is not enabled", name)
				}
				targets, _ := res.Properties["Targets"].([]any)
				if len(targets) != 1 {
					t.Fatalf("%s has %d targets, want the home bus", name, len(targets))
				}
				if got := str(get(t, targets[0], "Arn")); got != "arn:aws:events:eu-west-1:"+account+":event-bus/default" {
					t.Errorf("%s target = %s, want the home Region's default bus", name, got)
				}
				if got := str(get(t, targets[0], "RoleArn")); got != "getatt:ForwarderRole.Arn" {
					t.Errorf("%s target role = %s", name, got)
				}
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("rules %v, want %v", got, tt.want)
			}
			role, ok := r.Resources["ForwarderRole"]
			if ok != tt.hasRole {
				t.Fatalf("forwarder role present = %v, want %v", ok, tt.hasRole)
			}
			if !ok {
				return
			}
			if name := str(role.Properties["RoleName"]); !strings.Contains(name, tt.region) {
				t.Errorf("role name %s is not unique per Region", name)
			}
			st := statements(t, get(t, role.Properties, "Policies", 0, "PolicyDocument"))
			if len(st) != 1 || str(st[0]["Action"]) != "events:PutEvents" || str(st[0]["Resource"]) != "arn:aws:events:eu-west-1:"+account+":event-bus/default" {
				t.Errorf("forwarder role policy = %v, want events:PutEvents on the home bus only", st)
			}
			trust := statements(t, get(t, role.Properties, "AssumeRolePolicyDocument"))
			if len(trust) != 1 || principal(trust[0]) != "service:events.amazonaws.com" {
				t.Errorf("forwarder role trust = %v, want EventBridge", trust)
			}
		})
	}
}
