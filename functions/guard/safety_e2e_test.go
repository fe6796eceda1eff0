package main_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
	"github.com/dhmc-guard/dhmc-guard/internal/trigger"
)

// What keeps the guard safe in a real account, end to end under RIE: trust
// conditions by meaning, who changed a setting, failed calls that are not
// denials, watched policy versions, and Regions that are not enabled,
// excluded or unreachable.

// putTrust sets the guard's role's trust policy as the user.
func putTrust(t *testing.T, sb *sandbox.Sandbox, doc string) {
	t.Helper()
	must(t, func() error {
		_, err := sb.UserIAM().UpdateAssumeRolePolicy(t.Context(), &iam.UpdateAssumeRolePolicyInput{
			RoleName: aws.String(dhmc.DefaultRoleName), PolicyDocument: aws.String(doc),
		})
		return err
	})
}

func ssmTrust(condition string) string {
	c := ""
	if condition != "" {
		c = `,"Condition":` + condition
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"` + c + `}]}`
}

func TestTrustPolicyConditions(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		// trust is put on the role before the sweep; "" keeps the seed's.
		trust    string
		findings []string
		writes   int
		severity string // "" for no message
		// after is the trust policy the role must have after the sweep.
		after string
	}{
		{
			name:  "SourceAccount of this account is compliant and kept",
			trust: ssmTrust(`{"StringEquals":{"aws:SourceAccount":"` + acct + `"}}`),
			after: ssmTrust(`{"StringEquals":{"aws:SourceAccount":"` + acct + `"}}`),
		},
		{
			name:     "SourceAccount of another account is removed, this account's SourceArn kept",
			trust:    ssmTrust(`{"StringEquals":{"aws:SourceAccount":"999999999999"},"ArnLike":{"aws:SourceArn":"arn:aws:ssm:*:` + acct + `:*"}}`),
			findings: []string{"role " + dhmc.DefaultRoleName + " trust-policy-drift done"},
			writes:   1, severity: "medium",
			after: ssmTrust(`{"ArnLike":{"aws:SourceArn":"arn:aws:ssm:*:` + acct + `:*"}}`),
		},
		{
			name:     "an unknown condition key is reported, never rewritten",
			trust:    ssmTrust(`{"Bool":{"aws:SecureTransport":"true"}}`),
			findings: []string{"role " + dhmc.DefaultRoleName + " trust-policy-unrecognised reported"},
			severity: "medium",
			after:    ssmTrust(`{"Bool":{"aws:SecureTransport":"true"}}`),
		},
		{
			name:     "a required condition is added where there is none",
			env:      []string{"DHMC_REQUIRE_TRUST_CONDITION=true"},
			findings: []string{"role " + dhmc.DefaultRoleName + " trust-policy-drift done"},
			writes:   1, severity: "medium",
			after: ssmTrust(`{"StringEquals":{"aws:SourceAccount":"` + acct + `"}}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, emu := startSetup(t, compliant, tt.env...)
			if tt.trust != "" {
				putTrust(t, sb, tt.trust)
				emu.ResetCalls()
			}
			rep := sweep(t, sb)
			if got := findings(rep); !slices.Equal(got, sortedCopy(tt.findings)) {
				t.Errorf("findings %q, want %q", got, sortedCopy(tt.findings))
			}
			if w := functionWrites(emu); w != tt.writes {
				t.Errorf("writes %d (%v), want %d", w, functionOps(emu), tt.writes)
			}
			r, _ := emu.Role(acct, dhmc.DefaultRoleName)
			if !samePolicy(t, r.TrustPolicy, tt.after) {
				t.Errorf("trust policy after the sweep\n got %s\nwant %s", r.TrustPolicy, tt.after)
			}
			msgs := emu.Messages()
			switch {
			case tt.severity == "" && len(msgs) != 0:
				t.Errorf("%d messages (%q), want none", len(msgs), msgs[0].Subject)
			case tt.severity != "":
				if m := oneMessage(t, emu); m.Attributes["severity"] != tt.severity {
					t.Errorf("severity %q, want %q", m.Attributes["severity"], tt.severity)
				}
			}
			again := findings(sweep(t, sb))
			if tt.writes > 0 && len(again) != 0 || tt.writes == 0 && !slices.Equal(again, findings(rep)) {
				t.Errorf("second sweep finds %q", again)
			}
		})
	}
}

// TestWhoChangedTheSettingComesFromCloudTrail: SSM answers System whoever
// changed a setting, so a sweep cannot know who did it and says so; the
// CloudTrail event names the caller.
func TestWhoChangedTheSettingComesFromCloudTrail(t *testing.T) {
	d := sandbox.Desired()
	sb, emu := startSetup(t, compliant)
	reset := func() {
		t.Helper()
		must(t, func() error {
			_, err := sb.UserSSM("eu-west-1").ResetServiceSetting(t.Context(), &ssm.ResetServiceSettingInput{SettingId: aws.String(d.SettingARN("eu-west-1"))})
			return err
		})
	}
	reset()
	got, err := sb.UserSSM("eu-west-1").GetServiceSetting(t.Context(), &ssm.GetServiceSettingInput{SettingId: aws.String(d.SettingARN("eu-west-1"))})
	if err != nil {
		t.Fatal(err)
	}
	if u := aws.ToString(got.ServiceSetting.LastModifiedUser); u != dhmc.LastModifiedBySystem {
		t.Fatalf("after alice's reset, LastModifiedUser = %q: real SSM answers System", u)
	}

	sweep(t, sb)
	m := oneMessage(t, emu)
	if !strings.Contains(m.Body, "Changed by: "+dhmc.UnknownActor) || strings.Contains(m.Body, "AWS (System)") || strings.Contains(m.Body, "alice") {
		t.Errorf("a sweep's alert must read %q and name nobody:\n%s", dhmc.UnknownActor, m.Body)
	}

	reset()
	raw := readEvent(t, "ssm-reset-service-setting.json")
	req, err := trigger.Parse(raw, trigger.Config{})
	if err != nil || req.Cause.Actor == "" {
		t.Fatalf("parsing the sample: %v (actor %q)", err, req.Cause.Actor)
	}
	status, _ := run(t, sb, raw)
	msgs := emu.Messages()
	if status != "reconciled" || len(msgs) != 2 {
		t.Fatalf("status %q, %d messages: want reconciled and one more alert", status, len(msgs))
	}
	if body := msgs[1].Body; !strings.Contains(body, "Changed by: "+req.Cause.Actor+" at ") || strings.Contains(body, "AWS (System)") || strings.Contains(body, dhmc.UnknownActor) {
		t.Errorf("the CloudTrail alert must name %q as who changed the setting:\n%s", req.Cause.Actor, body)
	}
}

// failedEvent is sample name with errorCode set.
func failedEvent(t *testing.T, name, code string) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, name), &ev); err != nil {
		t.Fatal(err)
	}
	detail := ev["detail"].(map[string]any)
	detail["errorCode"] = code
	detail["errorMessage"] = "the call failed with " + code
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFailedCallsThatAreNotDenialsAreCountedNotPaged(t *testing.T) {
	tests := []struct{ event, code string }{
		{"iam-detach-role-policy.json", "NoSuchEntity"},
		{"ssm-update-service-setting.json", "ValidationException"},
		{"ssm-update-service-setting.json", "ThrottlingException"},
		{"ssm-update-service-setting.json", "TooManyUpdates"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			sb, emu := startSetup(t, compliant)
			breakAll(t, sb) // a reconcile by mistake would repair and alert
			emu.ResetCalls()
			_, status, _ := invoke(t, sb, failedEvent(t, tt.event, tt.code))
			if status != "ignored" {
				t.Errorf("status %q, want ignored", status)
			}
			if n := len(emu.Messages()); n != 0 {
				t.Errorf("%d messages, want none", n)
			}
			if w := functionWrites(emu); w != 0 {
				t.Errorf("%d writes, want none", w)
			}
			if line := `"ErrorCode":"` + tt.code + `"`; !sb.Fn.WaitForLog(line, 2*time.Second) || !strings.Contains(sb.Fn.Logs(), `"FailedCallIgnored":1`) {
				t.Errorf("no FailedCallIgnored EMF record with %s in the log:\n%s", line, sb.Fn.Logs())
			}
		})
	}
	t.Run("AccessDenied", func(t *testing.T) {
		sb, emu := startSetup(t, compliant)
		_, status, _ := invoke(t, sb, failedEvent(t, "ssm-update-service-setting.json", "AccessDenied"))
		if status != "denied" {
			t.Errorf("status %q, want denied", status)
		}
		if m := oneMessage(t, emu); m.Attributes["outcome"] != "denied" || m.Attributes["severity"] != "low" {
			t.Errorf("attributes %v, want a low denied alert", m.Attributes)
		}
		if w := functionWrites(emu); w != 0 {
			t.Errorf("%d writes, want none", w)
		}
	})
}

func TestNewVersionOfAnAllowlistedPolicyAlerts(t *testing.T) {
	policy := "arn:aws:iam::" + acct + ":policy/dhmc-extra-logs"
	sb, emu := startSetup(t, compliant, "DHMC_EXTRA_POLICY_ARNS="+policy)
	if got := emu.CreatePolicy(acct, "dhmc-extra-logs"); got != policy {
		t.Fatalf("created %s, want %s", got, policy)
	}
	ctx := t.Context()
	c := sb.UserIAM()
	if _, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(policy), VersionId: aws.String("v1")}); err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "InvalidAction" {
			t.Skip("the emulator does not answer IAM GetPolicyVersion yet (customer managed policy versions come with the fleet branch)")
		}
		t.Fatalf("GetPolicyVersion: %v", err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	if _, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(policy), PolicyDocument: aws.String(doc), SetAsDefault: true}); err != nil {
		t.Fatal(err)
	}
	emu.ResetCalls()

	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, "iam-attach-role-policy-admin.json"), &ev); err != nil {
		t.Fatal(err)
	}
	detail := ev["detail"].(map[string]any)
	detail["eventName"] = "CreatePolicyVersion"
	detail["requestParameters"] = map[string]any{"policyArn": policy, "policyDocument": doc, "setAsDefault": true}
	raw, _ := json.Marshal(ev)

	status, rep := run(t, sb, raw)
	if status != "reconciled" {
		t.Fatalf("status %q, want reconciled", status)
	}
	if got, want := findings(rep), []string{policy + " allowed-policy-changed reported"}; !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	if len(rep.Results) == 1 && !samePolicy(t, rep.Results[0].Document, doc) {
		t.Errorf("finding's document %s, want the new version %s", rep.Results[0].Document, doc)
	}
	if w := functionWrites(emu); w != 0 {
		t.Errorf("%d writes, want none (detect only)", w)
	}
	m := oneMessage(t, emu)
	if m.Attributes["severity"] != "high" || !strings.Contains(m.Body, `s3:*`) {
		t.Errorf("attributes %v, want high with the new document in the body:\n%s", m.Attributes, m.Body)
	}
}

func TestRegionNotEnabledIsIgnoredWithAReason(t *testing.T) {
	sb, emu := startSetup(t, compliant, "DHMC_REGIONS=all")
	status, rep := run(t, sb, []byte(`{"action":"check","regions":["af-south-1","eu-west-1"]}`))
	if status != "report" || !slices.Equal(rep.Regions, []string{"eu-west-1"}) || len(rep.Errors) != 0 || len(rep.Results) != 0 {
		t.Errorf("status %q Regions %v errors %v findings %q: want eu-west-1 checked and nothing else", status, rep.Regions, rep.Errors, findings(rep))
	}
	if len(rep.RegionsIgnored) != 1 || rep.RegionsIgnored[0].Region != "af-south-1" || !strings.Contains(rep.RegionsIgnored[0].Reason, "not enabled") {
		t.Errorf("regionsIgnored %+v, want af-south-1 with the reason that it is not enabled", rep.RegionsIgnored)
	}
	if n := emu.CountCalls(func(c awsemu.Call) bool { return c.Region == "af-south-1" }); n != 0 {
		t.Errorf("%d calls to af-south-1", n)
	}
	if n := len(emu.Messages()); n != 0 {
		t.Errorf("%d messages, want none", n)
	}
}

func TestExcludedRegionIsLeftAloneEvenWhenDrifted(t *testing.T) {
	d := sandbox.Desired()
	sb, emu := startSetup(t, compliant, "DHMC_REGIONS=all", "DHMC_EXCLUDED_REGIONS=us-east-1")
	emu.SetEnabledRegions(acct, sandbox.Regions)
	for _, r := range []string{"eu-west-1", "us-east-1"} {
		must(t, func() error {
			_, err := sb.UserSSM(r).ResetServiceSetting(t.Context(), &ssm.ResetServiceSettingInput{SettingId: aws.String(d.SettingARN(r))})
			return err
		})
	}
	emu.ResetCalls()

	rep := sweep(t, sb)
	if got, want := findings(rep), []string{"eu-west-1 setting-disabled done"}; !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	if !slices.Equal(rep.Regions, []string{"eu-central-1", "eu-west-1"}) || !slices.Equal(rep.RegionsExcluded, []string{"us-east-1"}) {
		t.Errorf("Regions %v excluded %v, want us-east-1 excluded", rep.Regions, rep.RegionsExcluded)
	}

	// A CloudTrail event in the excluded Region is told why nothing happens.
	var ev map[string]any
	if err := json.Unmarshal(readEvent(t, "ssm-reset-service-setting.json"), &ev); err != nil {
		t.Fatal(err)
	}
	detail := ev["detail"].(map[string]any)
	detail["awsRegion"] = "us-east-1"
	detail["requestParameters"] = map[string]any{"settingId": d.SettingARN("us-east-1")}
	raw, _ := json.Marshal(ev)
	_, evRep := run(t, sb, raw)
	if len(evRep.RegionsIgnored) != 1 || evRep.RegionsIgnored[0].Region != "us-east-1" || !strings.Contains(evRep.RegionsIgnored[0].Reason, "ExcludedRegions") {
		t.Errorf("event run regionsIgnored %+v, want us-east-1 excluded", evRep.RegionsIgnored)
	}

	if got := emu.Setting(acct, "us-east-1").Value; got != dhmc.SettingDisabled {
		t.Errorf("us-east-1 setting = %q, want it left at %s", got, dhmc.SettingDisabled)
	}
	if n := emu.CountCalls(func(c awsemu.Call) bool {
		return c.Region == "us-east-1" && c.Caller == sandbox.FunctionCaller && c.Service == "ssm"
	}); n != 0 {
		t.Errorf("the function made %d SSM calls in the excluded Region", n)
	}
}

func TestRegionWhereEveryReadIsDeniedDoesNotFailTheSweep(t *testing.T) {
	d := sandbox.Desired()
	sb, emu := startSetup(t, compliant)
	must(t, func() error {
		_, err := sb.UserSSM("eu-west-1").ResetServiceSetting(t.Context(), &ssm.ResetServiceSettingInput{SettingId: aws.String(d.SettingARN("eu-west-1"))})
		return err
	})
	emu.Inject(awsemu.Fault{Op: "ssm:GetServiceSetting", Region: "eu-central-1", Kind: awsemu.FaultAccessDenied})
	emu.ResetCalls()

	rep := sweep(t, sb)
	want := []string{"eu-central-1 region-unreachable reported", "eu-west-1 setting-disabled done"}
	if got := findings(rep); !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	if len(rep.Errors) != 0 || rep.Failed() {
		t.Errorf("errors %v: an unreachable Region must not fail the sweep", rep.Errors)
	}
	if got := emu.Setting(acct, "eu-west-1").Value; got != d.SettingValue() {
		t.Errorf("eu-west-1 = %q, want it repaired", got)
	}
	if !sb.Fn.WaitForLog(`"SweepCompleted":1`, 2*time.Second) {
		t.Errorf("no SweepCompleted record in the log:\n%s", sb.Fn.Logs())
	}
	if m := oneMessage(t, emu); !strings.Contains(m.Body, "eu-central-1: region-unreachable") {
		t.Errorf("the alert does not say eu-central-1 is unreachable:\n%s", m.Body)
	}
}
