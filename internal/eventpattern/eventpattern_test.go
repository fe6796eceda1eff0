package eventpattern_test

import (
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/eventpattern"
)

func TestMatch(t *testing.T) {
	const event = `{
		"source": "aws.ssm",
		"detail-type": "AWS API Call via CloudTrail",
		"resources": [],
		"detail": {
			"eventSource": "ssm.amazonaws.com",
			"eventName": "UpdateServiceSetting",
			"awsRegion": "eu-west-1",
			"count": 5,
			"ok": true,
			"nothing": null,
			"tags": ["blue", "green"],
			"items": [{"name": "a", "size": 1}, {"name": "b", "size": 2}],
			"requestParameters": {
				"settingId": "arn:aws:ssm:eu-west-1:123456789012:servicesetting/ssm/managed-instance/default-ec2-instance-management-role"
			}
		}
	}`
	tests := []struct {
		name    string
		pattern string
		want    bool
	}{
		{"exact string matches", `{"source":["aws.ssm"]}`, true},
		{"exact string differs", `{"source":["aws.iam"]}`, false},
		{"any listed value matches", `{"source":["aws.iam","aws.ssm"]}`, true},
		{"matching is case sensitive", `{"source":["AWS.SSM"]}`, false},
		{"nested object", `{"detail":{"eventName":["UpdateServiceSetting"]}}`, true},
		{"every field must match", `{"source":["aws.ssm"],"detail":{"eventName":["ResetServiceSetting"]}}`, false},
		{"missing field does not match", `{"detail":{"errorCode":["AccessDenied"]}}`, false},
		{"missing parent does not match", `{"nope":{"x":["y"]}}`, false},
		{"prefix", `{"detail":{"awsRegion":[{"prefix":"eu-"}]}}`, true},
		{"prefix differs", `{"detail":{"awsRegion":[{"prefix":"us-"}]}}`, false},
		{"prefix ignoring case", `{"detail":{"awsRegion":[{"prefix":{"equals-ignore-case":"EU-"}}]}}`, true},
		{"suffix", `{"detail":{"requestParameters":{"settingId":[{"suffix":":servicesetting/ssm/managed-instance/default-ec2-instance-management-role"}]}}}`, true},
		{"suffix differs", `{"detail":{"requestParameters":{"settingId":[{"suffix":"/other-setting"}]}}}`, false},
		{"equals-ignore-case", `{"detail":{"eventName":[{"equals-ignore-case":"updateservicesetting"}]}}`, true},
		{"anything-but a value", `{"detail":{"eventName":[{"anything-but":"ResetServiceSetting"}]}}`, true},
		{"anything-but the value", `{"detail":{"eventName":[{"anything-but":"UpdateServiceSetting"}]}}`, false},
		{"anything-but a list holding the value", `{"detail":{"eventName":[{"anything-but":["A","UpdateServiceSetting"]}]}}`, false},
		{"anything-but a prefix", `{"detail":{"awsRegion":[{"anything-but":{"prefix":"us-"}}]}}`, true},
		{"anything-but a matching prefix", `{"detail":{"awsRegion":[{"anything-but":{"prefix":"eu-"}}]}}`, false},
		{"anything-but does not match a missing field", `{"detail":{"errorCode":[{"anything-but":"x"}]}}`, false},
		{"exists true on a present leaf", `{"detail":{"eventName":[{"exists":true}]}}`, true},
		{"exists true on a missing field", `{"detail":{"errorCode":[{"exists":true}]}}`, false},
		{"exists false on a missing field", `{"detail":{"errorCode":[{"exists":false}]}}`, true},
		{"exists false on a present field", `{"detail":{"eventName":[{"exists":false}]}}`, false},
		{"exists false under a missing parent", `{"detail":{"additionalEventData":{"x":[{"exists":false}]}}}`, true},
		{"exists true does not match an object", `{"detail":{"requestParameters":[{"exists":true}]}}`, false},
		{"number equal numerically", `{"detail":{"count":[5.0]}}`, true},
		{"number differs", `{"detail":{"count":[6]}}`, false},
		{"number is not a string", `{"detail":{"count":["5"]}}`, false},
		{"boolean", `{"detail":{"ok":[true]}}`, true},
		{"null matches null", `{"detail":{"nothing":[null]}}`, true},
		{"null does not match a missing field", `{"detail":{"missing":[null]}}`, false},
		{"array in event: any element", `{"detail":{"tags":["green"]}}`, true},
		{"array in event: no element", `{"detail":{"tags":["red"]}}`, false},
		{"empty array in event is like a missing field", `{"resources":[{"exists":false}]}`, true},
		{"objects in an array: one element matches all fields", `{"detail":{"items":{"name":["b"],"size":[2]}}}`, true},
		{"objects in an array: fields from different elements", `{"detail":{"items":{"name":["a"],"size":[2]}}}`, false},
		{"wildcard", `{"detail":{"requestParameters":{"settingId":[{"wildcard":"arn:aws:ssm:*:123456789012:servicesetting/ssm/*"}]}}}`, true},
		{"wildcard differs", `{"detail":{"requestParameters":{"settingId":[{"wildcard":"arn:aws:ssm:*:210987654321:*"}]}}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := eventpattern.Parse([]byte(tt.pattern))
			if err != nil {
				t.Fatalf("Parse(%s): %v", tt.pattern, err)
			}
			got, err := p.Match([]byte(event))
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tt.want {
				t.Errorf("pattern %s: got %v, want %v", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestParseRejectsWhatItCannotMatch(t *testing.T) {
	tests := []struct {
		name, pattern, wantErr string
	}{
		{"not an object", `["aws.ssm"]`, "must be a JSON object"},
		{"empty", `{}`, "empty"},
		{"scalar instead of a list", `{"source":"aws.ssm"}`, "must be an array or an object"},
		{"empty list", `{"source":[]}`, "empty array"},
		{"numeric is outside the subset", `{"detail":{"n":[{"numeric":[">",0]}]}}`, `"numeric" is not supported`},
		{"cidr is outside the subset", `{"detail":{"ip":[{"cidr":"10.0.0.0/8"}]}}`, `"cidr" is not supported`},
		{"$or is outside the subset", `{"$or":[{"a":["b"]}]}`, `"$or" is not supported`},
		{"two operators in one matcher", `{"a":[{"prefix":"x","suffix":"y"}]}`, "exactly one operator"},
		{"prefix of a number", `{"a":[{"prefix":5}]}`, "prefix takes a string"},
		{"exists with a string", `{"a":[{"exists":"yes"}]}`, "exists takes true or false"},
		{"nested list", `{"a":[["b"]]}`, "unsupported pattern value"},
		{"bad JSON", `{"a":`, "parsing event pattern"},
		{"trailing data", `{"a":["b"]} {}`, "trailing data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := eventpattern.Parse([]byte(tt.pattern))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Parse(%s) error = %v, want one containing %q", tt.pattern, err, tt.wantErr)
			}
		})
	}
}

func TestMatchRejectsAnEventThatIsNotAnObject(t *testing.T) {
	p := eventpattern.MustParse(`{"source":["aws.ssm"]}`)
	for _, event := range []string{`[]`, `"aws.ssm"`, `{`, ``} {
		if _, err := p.Match([]byte(event)); err == nil {
			t.Errorf("Match(%q): no error", event)
		}
	}
}

func TestFieldsListsTheLeafPaths(t *testing.T) {
	p := eventpattern.MustParse(`{"source":["a"],"detail":{"eventName":["b"],"requestParameters":{"roleName":["c"]}}}`)
	got := strings.Join(p.Fields(), " ")
	want := "detail.eventName detail.requestParameters.roleName source"
	if got != want {
		t.Errorf("Fields() = %q, want %q", got, want)
	}
}
