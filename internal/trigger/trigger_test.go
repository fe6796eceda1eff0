package trigger

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

const (
	eventsDir = "../../events"
	selfARN   = "arn:aws:iam::123456789012:role/dhmc-guard-GuardFunctionRole-EXAMPLE"
	account   = "123456789012"
)

// allRegions manages every Region; someRegions is a deployment limited to three.
var (
	allRegions  = Config{RoleName: dhmc.DefaultRoleName, RolePath: dhmc.DefaultRolePath, SelfRoleARN: selfARN}
	someRegions = Config{RoleName: dhmc.DefaultRoleName, RolePath: dhmc.DefaultRolePath, SelfRoleARN: selfARN,
		Regions: []string{"eu-west-1", "eu-central-1", "us-east-1"}}
)

func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleFiles lists the sample events (every JSON file but the index).
func sampleFiles(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if b := filepath.Base(n); b != "index.json" {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Fatal("no sample events found")
	}
	return out
}

func TestParseSampleEvents(t *testing.T) {
	ssoActor := "SSO user alice@example.com (permission set AdministratorAccess)"
	iam := func(event string) Request {
		return Request{Action: ActionReconcile, Role: true, Cause: dhmc.Cause{Trigger: TriggerCloudTrail, EventName: event, Region: "us-east-1"}}
	}
	ssm := func(event, region string) Request {
		return Request{Action: ActionReconcile, Regions: []string{region}, Cause: dhmc.Cause{Trigger: TriggerCloudTrail, EventName: event, Region: region}}
	}
	ignored := func(event, region, reason string, errorCode ...string) Request {
		c := dhmc.Cause{Trigger: TriggerCloudTrail, EventName: event, Region: region}
		if len(errorCode) > 0 {
			c.ErrorCode = errorCode[0]
		}
		return Request{Action: ActionIgnore, Reason: reason, Cause: c}
	}
	schedule := Request{Action: ActionReconcile, Role: true, Cause: dhmc.Cause{Trigger: TriggerSchedule}}
	manual := func(mode dhmc.Mode, regions ...string) Request {
		return Request{Action: ActionReconcile, Role: true, Manual: true, Mode: mode, Regions: regions, Cause: dhmc.Cause{Trigger: TriggerManual}}
	}

	tests := []struct {
		file string
		cfg  Config
		want Request
		// actor, when set, is the readable caller expected in the Cause.
		actor string
	}{
		{file: "ssm-update-service-setting.json", want: ssm("UpdateServiceSetting", "eu-west-1"), actor: "user alice"},
		{file: "ssm-update-service-setting-arn.json", want: ssm("UpdateServiceSetting", "eu-west-1"), actor: "role Deployer (session ci-run-4711)"},
		{file: "ssm-reset-service-setting.json", want: ssm("ResetServiceSetting", "eu-west-1"), actor: ssoActor},
		{file: "ssm-register-dhmc.json", want: ssm("RegisterDefaultHostManagementConfiguration", "eu-central-1")},
		{file: "ssm-deregister-dhmc.json", want: ssm("DeregisterDefaultHostManagementConfiguration", "eu-central-1")},
		{file: "ssm-reset-forwarded.json", want: ssm("ResetServiceSetting", "eu-central-1")},
		{file: "ssm-reset-forwarded.json", cfg: someRegions, want: ssm("ResetServiceSetting", "eu-central-1")},
		{file: "iam-detach-role-policy.json", want: iam("DetachRolePolicy"), actor: "user alice"},
		{file: "iam-attach-role-policy-admin.json", want: iam("AttachRolePolicy"), actor: "role Deployer (session ci-run-4711)"},
		{file: "iam-put-role-policy.json", want: iam("PutRolePolicy")},
		{file: "iam-delete-role-policy.json", want: iam("DeleteRolePolicy")},
		{file: "iam-delete-role.json", want: iam("DeleteRole")},
		{file: "iam-update-assume-role-policy.json", want: iam("UpdateAssumeRolePolicy")},
		{file: "iam-put-role-permissions-boundary.json", want: iam("PutRolePermissionsBoundary")},
		{file: "iam-delete-role-permissions-boundary.json", want: iam("DeleteRolePermissionsBoundary")},
		{file: "iam-detach-role-policy-sso.json", want: iam("DetachRolePolicy"), actor: ssoActor},
		{file: "iam-delete-role-root.json", want: iam("DeleteRole"), actor: "root of account 123456789012"},
		{file: "iam-attach-role-policy-forwarded.json", want: iam("AttachRolePolicy")},
		{file: "iam-attach-role-policy-forwarded.json", cfg: someRegions, want: iam("AttachRolePolicy")},
		{file: "iam-detach-role-policy-service.json", want: iam("DetachRolePolicy"), actor: "service cloudformation.amazonaws.com"},
		{file: "ignore-ssm-other-setting.json", want: ignored("UpdateServiceSetting", "eu-west-1", `UpdateServiceSetting on setting "arn:aws:ssm:eu-west-1:123456789012:servicesetting/ssm/parameter-store/high-throughput-enabled", not the DHMC setting`)},
		{file: "ignore-iam-other-role.json", want: ignored("AttachRolePolicy", "us-east-1", `AttachRolePolicy on role "SomeAppRole", not the DHMC role`)},
		{file: "ignore-ssm-region-not-managed.json", cfg: someRegions, want: ignored("ResetServiceSetting", "ap-southeast-2", "ResetServiceSetting in ap-southeast-2, which is not a managed Region")},
		{file: "ignore-ssm-region-not-managed.json", want: ssm("ResetServiceSetting", "ap-southeast-2")},
		{file: "ignore-own-repair.json", want: ignored("AttachRolePolicy", "us-east-1", "own repair: the caller is this function's role "+selfARN)},
		{file: "ignore-own-repair-ssm.json", want: ignored("UpdateServiceSetting", "eu-west-1", "own repair: the caller is this function's role "+selfARN)},
		{file: "ignore-denied-other-role.json", want: ignored("DeleteRole", "us-east-1", `DeleteRole on role "SomeAppRole", not the DHMC role`, "AccessDenied")},
		{file: "denied-detach-role-policy.json", want: Request{Action: ActionDenied,
			Reason: "DetachRolePolicy on the DHMC role AWSSystemsManagerDefaultEC2InstanceManagementRole by role Deployer (session ci-run-4711) failed with AccessDenied: nothing changed",
			Cause:  dhmc.Cause{Trigger: TriggerCloudTrail, EventName: "DetachRolePolicy", Region: "us-east-1", ErrorCode: "AccessDenied"}}},
		{file: "denied-reset-service-setting.json", want: Request{Action: ActionDenied,
			Reason: "ResetServiceSetting on the DHMC setting in eu-west-1 by role Deployer (session ci-run-4711) failed with AccessDenied: nothing changed",
			Cause:  dhmc.Cause{Trigger: TriggerCloudTrail, EventName: "ResetServiceSetting", Region: "eu-west-1", ErrorCode: "AccessDenied"}}},
		{file: "schedule.json", want: schedule},
		{file: "scheduler.json", want: schedule},
		{file: "manual-check.json", want: manual(dhmc.ModeCheck)},
		{file: "manual-remediate.json", want: manual(dhmc.ModeEnforce)},
		{file: "manual-check-region.json", want: manual(dhmc.ModeCheck, "eu-west-1")},
		{file: "manual-remediate-region.json", cfg: someRegions, want: manual(dhmc.ModeEnforce, "eu-central-1")},
	}

	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		cfg := tt.cfg
		if cfg.SelfRoleARN == "" {
			cfg = allRegions
		}
		name := tt.file
		if len(cfg.Regions) > 0 {
			name += "/some regions"
		}
		t.Run(name, func(t *testing.T) {
			got, err := Parse(readEvent(t, tt.file), cfg)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			// The table names the fields that decide the outcome; the
			// event's identifiers are checked for presence below.
			cmp := got
			cmp.Cause = dhmc.Cause{Trigger: got.Cause.Trigger, EventName: got.Cause.EventName, Region: got.Cause.Region, ErrorCode: got.Cause.ErrorCode}
			if got.Cause.Trigger == TriggerSchedule {
				cmp.Cause.EventName, cmp.Cause.Region = "", ""
			}
			if got.Cause.Trigger == TriggerManual {
				cmp.Cause.EventName = ""
			}
			if !reflect.DeepEqual(cmp, tt.want) {
				t.Errorf("Parse =\n %+v\nwant\n %+v", cmp, tt.want)
			}
			if got.Cause.Trigger == TriggerCloudTrail {
				c := got.Cause
				if c.EventID == "" || c.EventTime == "" || c.Actor == "" || c.ActorARN == "" || c.ActorType == "" || c.SourceIP == "" || c.UserAgent == "" {
					t.Errorf("cause is missing event facts: %+v", c)
				}
				if c.ErrorCode != "" && c.ErrorMsg == "" {
					t.Errorf("cause has error code %q but no message", c.ErrorCode)
				}
			}
			if tt.actor != "" && got.Cause.Actor != tt.actor {
				t.Errorf("actor = %q, want %q", got.Cause.Actor, tt.actor)
			}
		})
	}
	for _, f := range sampleFiles(t) {
		if !covered[f] {
			t.Errorf("sample %s has no expected outcome in this table", f)
		}
	}
}

// TestSampleIndexMatchesOutcomes keeps events/index.json (read by the
// infrastructure tests) true to what Parse does with each file.
func TestSampleIndexMatchesOutcomes(t *testing.T) {
	var index map[string]struct {
		Kind        string  `json:"kind"`
		MatchesRule *string `json:"matchesRule"`
	}
	if err := json.Unmarshal(readEvent(t, "index.json"), &index); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	files := sampleFiles(t)
	if len(index) != len(files) {
		t.Errorf("index.json has %d entries, events/ has %d samples", len(index), len(files))
	}
	for _, f := range files {
		e, ok := index[f]
		if !ok {
			t.Errorf("%s is not in index.json", f)
			continue
		}
		raw := readEvent(t, f)
		got, err := Parse(raw, someRegions)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		var env struct {
			Source string `json:"source"`
		}
		_ = json.Unmarshal(raw, &env)
		wantRule := map[string]string{"aws.ssm": "ssm", "aws.iam": "iam", "aws.events": "schedule"}[env.Source]
		gotRule := ""
		if e.MatchesRule != nil {
			gotRule = *e.MatchesRule
		}
		// A rule may filter more finely than the source (role name, setting
		// ID), so a sample may match no rule; it never matches another
		// source's rule, and every sample the function acts on matches one.
		if gotRule != "" && gotRule != wantRule {
			t.Errorf("%s: matchesRule %q, want %q for source %q", f, gotRule, wantRule, env.Source)
		}
		if gotRule == "" && wantRule != "" && got.Action != ActionIgnore {
			t.Errorf("%s: Parse says %q but index says no rule delivers it", f, got.Action)
		}
		wantAction := map[string]Action{
			"cloudtrail-ssm": ActionReconcile, "cloudtrail-iam": ActionReconcile, "schedule": ActionReconcile,
			"scheduler": ActionReconcile, "manual": ActionReconcile, "ignore": ActionIgnore,
			"own-repair": ActionIgnore, "denied": ActionDenied,
		}[e.Kind]
		if got.Action != wantAction {
			t.Errorf("%s: kind %q but Parse says %q (%s)", f, e.Kind, got.Action, got.Reason)
		}
		if e.Kind == "own-repair" && !strings.HasPrefix(got.Reason, "own repair") {
			t.Errorf("%s: own-repair sample ignored for another reason: %s", f, got.Reason)
		}
	}
}

// TestSamplesRoundTrip checks that every sample is valid JSON whose
// CloudTrail detail decodes without losing a declared field.
func TestSamplesRoundTrip(t *testing.T) {
	for _, f := range sampleFiles(t) {
		raw := readEvent(t, f)
		var env struct {
			DetailType string          `json:"detail-type"`
			Detail     json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal(raw, &env); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if env.DetailType != detailTypeCloudTrail {
			continue
		}
		var d CloudTrailDetail
		if err := json.Unmarshal(env.Detail, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		again, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var orig, back map[string]any
		_ = json.Unmarshal(env.Detail, &orig)
		_ = json.Unmarshal(again, &back)
		for k, v := range back {
			if ov, ok := orig[k]; ok && !reflect.DeepEqual(ov, v) {
				t.Errorf("%s: field %s changed on round trip: %v -> %v", f, k, ov, v)
			}
		}
		for _, k := range []string{"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
			"sourceIPAddress", "userAgent", "requestParameters", "responseElements", "requestID", "eventID", "readOnly",
			"eventType", "managementEvent", "recipientAccountId", "eventCategory"} {
			if _, ok := orig[k]; !ok {
				t.Errorf("%s: real CloudTrail records carry %q; the sample does not", f, k)
			}
		}
		if d.EventType != "AwsApiCall" || d.EventCategory != "Management" || d.RecipientAccountID != account {
			t.Errorf("%s: eventType %q, eventCategory %q, recipient %q", f, d.EventType, d.EventCategory, d.RecipientAccountID)
		}
		if d.EventSource == "iam.amazonaws.com" && d.AWSRegion != "us-east-1" {
			t.Errorf("%s: IAM events are recorded in us-east-1, sample says %s", f, d.AWSRegion)
		}
	}
}

func TestParseLoopProtection(t *testing.T) {
	raw := readEvent(t, "ignore-own-repair.json")
	tests := []struct {
		name    string
		selfARN string
		want    Action
	}{
		{"exact role ARN", selfARN, ActionIgnore},
		{"role ARN with a path", "arn:aws:iam::123456789012:role/lambda/dhmc-guard-GuardFunctionRole-EXAMPLE", ActionIgnore},
		{"role name in another case", "arn:aws:iam::123456789012:role/DHMC-GUARD-GuardFunctionRole-EXAMPLE", ActionIgnore},
		{"assumed-role ARN", "arn:aws:sts::123456789012:assumed-role/dhmc-guard-GuardFunctionRole-EXAMPLE/fn", ActionIgnore},
		{"same name in another account", "arn:aws:iam::210987654321:role/dhmc-guard-GuardFunctionRole-EXAMPLE", ActionReconcile},
		{"another role", "arn:aws:iam::123456789012:role/dhmc-guard-Other", ActionReconcile},
		{"not configured", "", ActionReconcile},
		{"not an ARN", "dhmc-guard-GuardFunctionRole-EXAMPLE", ActionReconcile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := allRegions
			cfg.SelfRoleARN = tt.selfARN
			got, err := Parse(raw, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got.Action != tt.want {
				t.Errorf("Action = %q (%s), want %q", got.Action, got.Reason, tt.want)
			}
		})
	}
}

// edit decodes a sample, lets f change it, and encodes it again.
func edit(t *testing.T, file string, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readEvent(t, file), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func detail(m map[string]any) map[string]any { return m["detail"].(map[string]any) }
func reqParams(m map[string]any) map[string]any {
	return detail(m)["requestParameters"].(map[string]any)
}

func TestParseEventVariants(t *testing.T) {
	tests := []struct {
		name   string
		raw    []byte
		want   Action
		reason string // substring of Reason
	}{
		{"role named by ARN", edit(t, "iam-detach-role-policy.json", func(m map[string]any) {
			reqParams(m)["roleName"] = "arn:aws:iam::123456789012:role/service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"
		}), ActionReconcile, ""},
		{"role name in another case", edit(t, "iam-detach-role-policy.json", func(m map[string]any) {
			reqParams(m)["roleName"] = "awssystemsmanagerdefaultec2instancemanagementrole"
		}), ActionReconcile, ""},
		{"role with a similar name", edit(t, "iam-detach-role-policy.json", func(m map[string]any) {
			reqParams(m)["roleName"] = "AWSSystemsManagerDefaultEC2InstanceManagementRole2"
		}), ActionIgnore, "not the DHMC role"},
		{"other IAM event on the role", edit(t, "iam-detach-role-policy.json", func(m map[string]any) {
			detail(m)["eventName"] = "TagRole"
		}), ActionIgnore, "TagRole does not change the DHMC role"},
		{"other SSM event", edit(t, "ssm-update-service-setting.json", func(m map[string]any) {
			detail(m)["eventName"] = "PutParameter"
		}), ActionIgnore, "PutParameter does not change the DHMC setting"},
		{"setting ARN in another partition", edit(t, "ssm-update-service-setting.json", func(m map[string]any) {
			reqParams(m)["settingId"] = "arn:aws-cn:ssm:cn-north-1:123456789012:servicesetting/ssm/managed-instance/default-ec2-instance-management-role"
		}), ActionReconcile, ""},
		{"setting ID with a suffix", edit(t, "ssm-update-service-setting.json", func(m map[string]any) {
			reqParams(m)["settingId"] = "/ssm/managed-instance/default-ec2-instance-management-role-2"
		}), ActionIgnore, "not the DHMC setting"},
		{"update without request parameters is checked", edit(t, "ssm-update-service-setting.json", func(m map[string]any) {
			detail(m)["requestParameters"] = nil
		}), ActionReconcile, ""},
		{"failed update without request parameters", edit(t, "denied-reset-service-setting.json", func(m map[string]any) {
			detail(m)["requestParameters"] = nil
		}), ActionIgnore, "cannot tell"},
		{"failed IAM call without request parameters", edit(t, "denied-detach-role-policy.json", func(m map[string]any) {
			detail(m)["requestParameters"] = nil
		}), ActionIgnore, "cannot tell"},
		{"denied in an unmanaged Region", edit(t, "denied-reset-service-setting.json", func(m map[string]any) {
			detail(m)["awsRegion"] = "ap-south-1"
		}), ActionIgnore, "not a managed Region"},
		{"own repair that failed", edit(t, "ignore-own-repair.json", func(m map[string]any) {
			detail(m)["errorCode"] = "ThrottlingException"
		}), ActionIgnore, "own repair"},
		{"a failed call that is not a denial is counted, not paged", edit(t, "iam-detach-role-policy.json", func(m map[string]any) {
			detail(m)["errorCode"] = "NoSuchEntity"
			detail(m)["errorMessage"] = "Policy is not attached"
		}), ActionIgnore, "not an access denial"},
		{"throttled setting update is not a denial", edit(t, "ssm-update-service-setting.json", func(m map[string]any) {
			detail(m)["errorCode"] = "ThrottlingException"
		}), ActionIgnore, "not an access denial"},
		{"TooManyUpdates is not a denial", edit(t, "ssm-update-service-setting.json", func(m map[string]any) {
			detail(m)["errorCode"] = "TooManyUpdates"
		}), ActionIgnore, "not an access denial"},
		{"a validation error is not a denial", edit(t, "ssm-update-service-setting.json", func(m map[string]any) {
			detail(m)["errorCode"] = "ValidationException"
		}), ActionIgnore, "not an access denial"},
		{"AccessDeniedException is a denial", edit(t, "ssm-update-service-setting.json", func(m map[string]any) {
			detail(m)["errorCode"] = "AccessDeniedException"
		}), ActionDenied, "failed with AccessDeniedException"},
		{"role name in another case is the DHMC role", edit(t, "iam-detach-role-policy.json", func(m map[string]any) {
			reqParams(m)["roleName"] = "awssystemsmanagerdefaultec2instancemanagementrole"
		}), ActionReconcile, ""},
		{"cross-account caller", edit(t, "iam-detach-role-policy.json", func(m map[string]any) {
			detail(m)["userIdentity"].(map[string]any)["accountId"] = "210987654321"
		}), ActionReconcile, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.raw, someRegions)
			if err != nil {
				t.Fatal(err)
			}
			if got.Action != tt.want || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("got %q (%q), want %q with reason containing %q", got.Action, got.Reason, tt.want, tt.reason)
			}
			assertValid(t, got, someRegions)
		})
	}
}

func TestParseCrossAccountActorSaysSo(t *testing.T) {
	raw := edit(t, "iam-detach-role-policy.json", func(m map[string]any) {
		detail(m)["userIdentity"].(map[string]any)["accountId"] = "210987654321"
	})
	got, err := Parse(raw, allRegions)
	if err != nil {
		t.Fatal(err)
	}
	if want := "user alice from account 210987654321"; got.Cause.Actor != want {
		t.Errorf("actor = %q, want %q", got.Cause.Actor, want)
	}
}

func TestParseManualDeduplicatesRegions(t *testing.T) {
	got, err := Parse([]byte(`{"action":"check","regions":["eu-west-1","eu-central-1","eu-west-1"]}`), allRegions)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"eu-west-1", "eu-central-1"}; !slices.Equal(got.Regions, want) {
		t.Errorf("Regions = %v, want %v", got.Regions, want)
	}
}

// badInputs is the corpus of payloads that must be rejected, each with a
// piece of the message that tells the caller what was wrong.
var badInputs = []struct {
	name, raw, msg string
}{
	{"empty", ``, "payload is empty"},
	{"whitespace", " \n\t", "payload is empty"},
	{"null", `null`, "got null"},
	{"array", `[{"action":"check"}]`, "got an array"},
	{"string", `"check"`, "got a string"},
	{"number", `42`, "got a number"},
	{"boolean", `true`, "got a boolean"},
	{"garbage", `action=check`, "not JSON"},
	{"empty object", `{}`, "empty object"},
	{"truncated JSON", `{"action":"check"`, "not valid JSON"},
	{"trailing garbage", `{"action":"check"} x`, "not valid JSON"},
	{"two objects", `{"action":"check"}{"action":"remediate"}`, "not valid JSON"},
	{"unknown keys", `{"foo":1}`, `keys are "foo"`},
	{"unknown action", `{"action":"delete"}`, `unknown action "delete"`},
	{"empty action", `{"action":""}`, `unknown action ""`},
	{"action in another case", `{"action":"Check"}`, `unknown action "Check"`},
	{"action wrong type", `{"action":1}`, `field "action": got JSON number where a string was expected`},
	{"action null", `{"action":null}`, `unknown action ""`},
	{"regions wrong type", `{"action":"check","regions":"eu-west-1"}`, `field "regions": got JSON string where an array of strings was expected`},
	{"region wrong type", `{"action":"check","regions":[1]}`, `field "regions": got JSON number where a string was expected`},
	{"invalid region", `{"action":"check","regions":["eu-west-1","mars-1"]}`, `regions[1] "mars-1" is not a Region code`},
	{"region not managed", `{"action":"check","regions":["ap-south-1"]}`, `not a managed Region`},
	{"misspelt field", `{"action":"check","region":["eu-west-1"]}`, `unknown field(s) "region"`},
	{"field in another case", `{"action":"check","Regions":["ap-south-1"]}`, `unknown field(s) "Regions"`},
	{"Action in another case", `{"Action":"check"}`, `keys are "Action"`},
	{"scheduler unknown trigger", `{"trigger":"cron"}`, `unknown trigger "cron"`},
	{"scheduler placeholder left", `{"trigger":"schedule","scheduleArn":"<aws.scheduler.schedule-arn>"}`, "placeholder"},
	{"scheduler bad time", `{"trigger":"schedule","scheduledTime":"yesterday"}`, "RFC 3339"},
	{"scheduler extra field", `{"trigger":"schedule","action":"remediate"}`, "unknown field"},
	{"unknown detail-type", `{"detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","detail":{}}`, `detail-type "EC2 Instance State-change Notification"`},
	{"detail-type wrong type", `{"detail-type":5}`, `field "detail-type": got JSON number where a string was expected`},
	{"cloudtrail other source", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","detail":{}}`, `source "aws.ec2"`},
	{"schedule other source", `{"detail-type":"Scheduled Event","source":"custom.app","detail":{}}`, `source "custom.app"`},
	{"cloudtrail without detail", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.iam"}`, `"detail" must be an object`},
	{"cloudtrail detail array", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":[]}`, `"detail" must be an object`},
	{"cloudtrail empty detail", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{}}`, "eventSource"},
	{"cloudtrail source mismatch", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{"eventSource":"ssm.amazonaws.com","eventName":"ResetServiceSetting","awsRegion":"eu-west-1"}}`, "does not match source"},
	{"cloudtrail no event name", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{"eventSource":"iam.amazonaws.com","awsRegion":"us-east-1"}}`, "eventName is missing"},
	{"cloudtrail bad region", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.ssm","detail":{"eventSource":"ssm.amazonaws.com","eventName":"ResetServiceSetting","awsRegion":"global"}}`, `awsRegion "global"`},
	{"cloudtrail wrong type", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{"eventSource":"iam.amazonaws.com","eventName":"DeleteRole","awsRegion":"us-east-1","readOnly":"no"}}`, `field "readOnly": got JSON string where true or false was expected`},
	{"cloudtrail params array", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{"eventSource":"iam.amazonaws.com","eventName":"DeleteRole","awsRegion":"us-east-1","requestParameters":[]}}`, "requestParameters must be an object"},
	{"cloudtrail roleName wrong type", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{"eventSource":"iam.amazonaws.com","eventName":"DeleteRole","awsRegion":"us-east-1","requestParameters":{"roleName":7}}}`, "roleName must be a string"},
	{"cloudtrail settingId wrong type", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.ssm","detail":{"eventSource":"ssm.amazonaws.com","eventName":"ResetServiceSetting","awsRegion":"eu-west-1","requestParameters":{"settingId":{}}}}`, "settingId must be a string"},
	{"envelope bad time", `{"detail-type":"Scheduled Event","source":"aws.events","time":"noon","detail":{}}`, "EventBridge event"},
	{"deep nesting", `{"action":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, "not valid JSON"},
	{"huge payload", `{"action":"check","pad":"` + strings.Repeat("x", MaxPayload) + `"}`, "more than the 262144"},
}

func TestParseRejectsBadInput(t *testing.T) {
	for _, tt := range badInputs {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.raw), someRegions)
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", got)
			}
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("error %T is not an *InputError: %v", err, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			if !reflect.DeepEqual(got, Request{}) {
				t.Errorf("a rejected input returned a request: %+v", got)
			}
		})
	}
}

func TestInputErrorNamesItselfForLambda(t *testing.T) {
	_, err := Parse([]byte(`{}`), allRegions)
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("got %T", err)
	}
	// aws-lambda-go reports the type name of the error as errorType.
	if got := reflect.TypeOf(err).Elem().Name(); got != "InputError" {
		t.Errorf("errorType would be %q", got)
	}
	if !strings.HasPrefix(err.Error(), "invalid input: ") {
		t.Errorf("message %q", err)
	}
}

// assertValid checks what every accepted Request must satisfy.
func assertValid(t *testing.T, r Request, cfg Config) {
	t.Helper()
	switch r.Action {
	case ActionReconcile:
		if r.Reason != "" {
			t.Errorf("reconcile with a reason: %q", r.Reason)
		}
		if !r.Role && len(r.Regions) == 0 {
			t.Errorf("reconcile with no scope at all: %+v", r)
		}
	case ActionIgnore, ActionDenied:
		if r.Reason == "" {
			t.Errorf("%s without a reason", r.Action)
		}
		if r.Role || r.Regions != nil || r.Manual || r.Mode != "" {
			t.Errorf("%s with a scope: %+v", r.Action, r)
		}
	default:
		t.Errorf("unknown action %q", r.Action)
	}
	for _, region := range r.Regions {
		if !dhmc.ValidRegion(region) {
			t.Errorf("invalid Region %q", region)
		}
		if len(cfg.Regions) > 0 && !slices.Contains(cfg.Regions, region) {
			t.Errorf("unmanaged Region %q", region)
		}
	}
	if r.Regions != nil && len(r.Regions) == 0 {
		t.Errorf("empty but non-nil Regions")
	}
	switch r.Cause.Trigger {
	case TriggerCloudTrail:
		if r.Manual || r.Mode != "" {
			t.Errorf("CloudTrail request with manual fields: %+v", r)
		}
		if r.Cause.Region == "" || !dhmc.ValidRegion(r.Cause.Region) {
			t.Errorf("CloudTrail request without a valid Region: %q", r.Cause.Region)
		}
	case TriggerSchedule:
		if r.Action != ActionReconcile || !r.Role || r.Regions != nil {
			t.Errorf("schedule is not a full sweep: %+v", r)
		}
	case TriggerManual:
		if !r.Manual || (r.Mode != dhmc.ModeCheck && r.Mode != dhmc.ModeEnforce) {
			t.Errorf("manual request without mode: %+v", r)
		}
	default:
		t.Errorf("unknown trigger %q", r.Cause.Trigger)
	}
	if r.Action == ActionDenied && r.Cause.ErrorCode == "" {
		t.Errorf("denied without an error code")
	}
}

func FuzzParse(f *testing.F) {
	names, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, b := range badInputs {
		if len(b.raw) < 4096 {
			f.Add([]byte(b.raw))
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, cfg := range []Config{allRegions, someRegions} {
			r, err := Parse(raw, cfg)
			if err != nil {
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("error %T is not an *InputError: %v", err, err)
				}
				if !reflect.DeepEqual(r, Request{}) {
					t.Fatalf("error with a request: %+v", r)
				}
				continue
			}
			assertValid(t, r, cfg)
		}
	})
}

func TestPerRegionRoleNamesMatchManagedRegionsOnly(t *testing.T) {
	cfg := someRegions
	cfg.RoleName, cfg.RolePath = "AWS-QuickSetup-SSM-DefaultEC2MgmtRole-{region}", "/"
	for _, tt := range []struct {
		role string
		want Action
	}{
		{"AWS-QuickSetup-SSM-DefaultEC2MgmtRole-eu-west-1", ActionReconcile},
		{"aws-quicksetup-ssm-defaultec2mgmtrole-us-east-1", ActionReconcile},
		{"arn:aws:iam::123456789012:role/AWS-QuickSetup-SSM-DefaultEC2MgmtRole-eu-central-1", ActionReconcile},
		{"AWS-QuickSetup-SSM-DefaultEC2MgmtRole-ap-south-1", ActionIgnore}, // not a managed Region
		{"AWS-QuickSetup-SSM-DefaultEC2MgmtRole-", ActionIgnore},
		{"AWS-QuickSetup-SSM-DefaultEC2MgmtRole-notaregion", ActionIgnore},
		{"AWSSystemsManagerDefaultEC2InstanceManagementRole", ActionIgnore},
	} {
		raw := edit(t, "iam-detach-role-policy.json", func(m map[string]any) { reqParams(m)["roleName"] = tt.role })
		got, err := Parse(raw, cfg)
		if err != nil || got.Action != tt.want {
			t.Errorf("role %q: got %q (%s), %v; want %q", tt.role, got.Action, got.Reason, err, tt.want)
		}
	}
}

func TestWatchedPolicyVersionChangesAreReconciledAsPolicyRuns(t *testing.T) {
	const watched = "arn:aws:iam::123456789012:policy/DHMCBoundary"
	cfg := someRegions
	cfg.WatchedPolicies = []string{watched}
	policyEvent := func(event, arn, errorCode string) []byte {
		return edit(t, "iam-detach-role-policy.json", func(m map[string]any) {
			detail(m)["eventName"] = event
			detail(m)["requestParameters"] = map[string]any{"policyArn": arn, "policyDocument": "{}", "setAsDefault": true}
			if errorCode != "" {
				detail(m)["errorCode"] = errorCode
			}
		})
	}
	for _, event := range []string{"CreatePolicyVersion", "SetDefaultPolicyVersion", "DeletePolicyVersion"} {
		got, err := Parse(policyEvent(event, watched, ""), cfg)
		if err != nil || got.Action != ActionReconcile || !slices.Equal(got.Policies, []string{watched}) || got.Role || got.Regions != nil {
			t.Errorf("%s: %+v, %v", event, got, err)
		}
	}
	if got, _ := Parse(policyEvent("CreatePolicyVersion", "arn:aws:iam::123456789012:policy/Other", ""), cfg); got.Action != ActionIgnore {
		t.Errorf("unwatched policy: %+v", got)
	}
	if got, _ := Parse(policyEvent("CreatePolicyVersion", watched, "AccessDenied"), cfg); got.Action != ActionDenied || got.Policies != nil {
		t.Errorf("denied version change: %+v", got)
	}
}

func TestManualPayloadRejectsDuplicateKeysAndTooManyRegions(t *testing.T) {
	for _, tt := range []struct{ raw, want string }{
		{`{"action":"check","action":"remediate"}`, `key "action" twice`},
		{`{"action":"check","regions":["eu-west-1"],"regions":[]}`, `key "regions" twice`},
		{`{"trigger":"schedule","trigger":"schedule"}`, `key "trigger" twice`},
	} {
		_, err := Parse([]byte(tt.raw), allRegions)
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%s) = %v, want an InputError containing %q", tt.raw, err, tt.want)
		}
	}
	var regions []string
	for i := range 65 {
		regions = append(regions, fmt.Sprintf("%q", fmt.Sprintf("xx-test-%d", i+1)))
	}
	raw := `{"action":"check","regions":[` + strings.Join(regions, ",") + `]}`
	if _, err := Parse([]byte(raw), allRegions); err == nil || !strings.Contains(err.Error(), "at most 64") {
		t.Errorf("65 Regions: %v", err)
	}
}

func TestDuplicateKeyFindsNestedRepeats(t *testing.T) {
	for _, tt := range []struct{ raw, key, path string }{
		{`{"a":1,"b":{"c":[{"d":1,"d":2}]}}`, "d", "b.c"},
		{`{"a":{"x":1},"b":{"x":1}}`, "", ""},
		{`{"a":[1,{"a":1}],"a":2}`, "a", ""},
		{`[{"k":1},{"k":1}]`, "", ""},
	} {
		key, path, err := duplicateKey([]byte(tt.raw))
		if err != nil || key != tt.key || path != tt.path {
			t.Errorf("duplicateKey(%s) = %q, %q, %v; want %q, %q", tt.raw, key, path, err, tt.key, tt.path)
		}
	}
}
