package main_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
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

// The DHMC setups real accounts have (sandbox.Setups), each under RIE:
// first with the default configuration, then with the one that adopts it.
// Every test here also checks, when it ends, that no setting write named a
// role that did not exist at that moment.

// setupWant is what a scheduled sweep with the default configuration, in
// enforce mode, must produce for one setup.
type setupWant struct {
	// findings are "place kind outcome", sorted; place is a Region or
	// "role NAME".
	findings          []string
	outcome, severity string
	subject           string
	// takeOver: the guard can replace the setup with DHMC_TAKE_OVER=true.
	// It cannot when the other manager's role has the guard's own name at
	// another path (IAM role names are unique across paths).
	takeOver bool
}

const acct = sandbox.Account

var setupWants = map[string]setupWant{
	"path-root": {
		findings: withRole("role "+dhmc.DefaultRoleName+" role-path-mismatch blocked", inEveryRegion("setting-wrong-role blocked")),
		outcome:  "blocked", severity: "high",
		subject: "DHMC repair BLOCKED on the role and in 3 Regions of " + acct + ": a person must decide",
	},
	"quick-setup": {
		findings: inEveryRegion("managed-elsewhere reported"),
		outcome:  "reported", severity: "low",
		subject:  "DHMC in 3 Regions is managed by Quick Setup: left alone (" + acct + ")",
		takeOver: true,
	},
	"service-managed": {
		findings: withRole("role "+dhmc.DefaultRoleName+" managed-elsewhere reported", inEveryRegion("managed-elsewhere reported")),
		outcome:  "reported", severity: "low",
		// SNS subjects are under 100 characters: the manager's full name is in the body.
		subject: "DHMC on the role and in 3 Regions is managed by SSM service-managed registration (RegisterDefaul...",
	},
	"cloudformation": {
		findings: inEveryRegion("managed-elsewhere reported"),
		outcome:  "reported", severity: "low",
		subject:  "DHMC in 3 Regions is managed by CloudFormation stack dhmc-baseline: left alone (" + acct + ")",
		takeOver: true,
	},
	"aws-sample": {
		findings: inEveryRegion("managed-elsewhere reported"),
		outcome:  "reported", severity: "low",
		subject:  "DHMC in 3 Regions is managed by CloudFormation (AWS's sample template aws-samples/aws-systems-ma...",
		takeOver: true,
	},
}

func inEveryRegion(kindOutcome string) []string {
	out := make([]string, 0, len(sandbox.Regions))
	for _, r := range sandbox.Regions {
		out = append(out, r+" "+kindOutcome)
	}
	return out
}

func withRole(role string, rest []string) []string { return append([]string{role}, rest...) }

func TestEverySetupHasExpectations(t *testing.T) {
	for _, s := range sandbox.Setups {
		if _, ok := setupWants[s.Name]; !ok {
			t.Errorf("setup %q has no expectations in setupWants", s.Name)
		}
	}
}

// startSetup starts the function with env, turns the compliant seed into
// setup s (when s.Apply is set) and clears the call log.
func startSetup(t *testing.T, s sandbox.Setup, env ...string) (*sandbox.Sandbox, *awsemu.Server) {
	t.Helper()
	sb, emu := start(t, env...)
	t.Cleanup(func() {
		if d := emu.DanglingSettingWrites(); len(d) != 0 {
			t.Errorf("setting writes named a role that did not exist: %v", d)
		}
	})
	if s.Apply != nil {
		if err := s.Apply(t.Context(), sb); err != nil {
			t.Fatal(err)
		}
	}
	emu.ResetCalls()
	return sb, emu
}

// compliant is the seed as it is: the default configuration's own setup.
var compliant = sandbox.Setup{Name: "compliant"}

// run invokes the function with payload and wants a report, no function error.
func run(t *testing.T, sb *sandbox.Sandbox, payload []byte) (string, *dhmc.Report) {
	t.Helper()
	res, status, rep := invoke(t, sb, payload)
	if err := res.Err(); err != nil {
		t.Fatalf("invocation failed: %v", err)
	}
	if rep == nil {
		t.Fatalf("status %q without a report: %s", status, res.Payload)
	}
	return status, rep
}

func sweep(t *testing.T, sb *sandbox.Sandbox) *dhmc.Report {
	t.Helper()
	status, rep := run(t, sb, readEvent(t, "schedule.json"))
	if status != "reconciled" {
		t.Fatalf("sweep status %q, want reconciled", status)
	}
	return rep
}

// findings are a report's results as "place kind outcome", sorted; place
// is the Region, "role NAME", or for a watched policy its ARN.
func findings(rep *dhmc.Report) []string {
	out := []string{}
	for _, x := range rep.Results {
		place := x.Region
		switch {
		case place == "" && x.Role != "":
			place = "role " + x.Role
		case place == "":
			place = x.Target
		}
		out = append(out, fmt.Sprintf("%s %s %s", place, x.Kind, x.Outcome))
	}
	slices.Sort(out)
	return out
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

// oneMessage is the only alert published so far.
func oneMessage(t *testing.T, emu *awsemu.Server) awsemu.Message {
	t.Helper()
	msgs := emu.Messages()
	if len(msgs) != 1 {
		subjects := make([]string, len(msgs))
		for i, m := range msgs {
			subjects[i] = m.Subject
		}
		t.Fatalf("%d messages %q, want exactly 1", len(msgs), subjects)
	}
	return msgs[0]
}

func functionWrites(emu *awsemu.Server) int { return sandbox.Writes(emu, sandbox.FunctionCaller) }

// functionOps are the function's accepted calls, "service:Operation", in order.
func functionOps(emu *awsemu.Server) []string {
	var out []string
	for _, c := range emu.Calls() {
		if c.Caller == sandbox.FunctionCaller && c.ErrorCode == "" {
			out = append(out, c.Service+":"+c.Operation)
		}
	}
	return out
}

// adoptParams are setup s's adopting environment as the template parameters
// a suggestion names: RoleName and RolePath always (defaults where the
// environment leaves them), Mode when set.
func adoptParams(s sandbox.Setup) map[string]string {
	params := map[string]string{"RoleName": dhmc.DefaultRoleName, "RolePath": dhmc.DefaultRolePath}
	names := map[string]string{"DHMC_ROLE_NAME": "RoleName", "DHMC_ROLE_PATH": "RolePath", "DHMC_MODE": "Mode"}
	for _, kv := range s.Adopt {
		k, v, _ := strings.Cut(kv, "=")
		p, ok := names[k]
		if !ok {
			panic("adoptParams: no parameter for " + k)
		}
		params[p] = v
	}
	return params
}

// roles snapshots the roles setup s and the guard could touch.
func roles(emu *awsemu.Server) map[string]awsemu.Role {
	out := map[string]awsemu.Role{}
	names := []string{dhmc.DefaultRoleName, "DhmcBaselineRole"}
	for _, r := range sandbox.Regions {
		names = append(names, sandbox.QuickSetupRole(r), dhmc.DefaultRoleName+"-"+r)
	}
	for _, n := range names {
		if r, ok := emu.Role(acct, n); ok {
			out[n] = r
		}
	}
	return out
}

func settings(emu *awsemu.Server) map[string]string {
	out := map[string]string{}
	for _, r := range sandbox.Regions {
		out[r] = emu.Setting(acct, r).Value
	}
	return out
}

func TestSetupsDefaultConfigSweepLeavesThemAlone(t *testing.T) {
	for _, s := range sandbox.Setups {
		t.Run(s.Name, func(t *testing.T) {
			want := setupWants[s.Name]
			sb, emu := startSetup(t, s)
			rolesBefore, settingsBefore := roles(emu), settings(emu)

			rep := sweep(t, sb)

			if got := findings(rep); !slices.Equal(got, sortedCopy(want.findings)) {
				t.Errorf("findings\n got %q\nwant %q", got, sortedCopy(want.findings))
			}
			if w := functionWrites(emu); w != 0 {
				t.Errorf("the function made %d writes (%v), want 0", w, functionOps(emu))
			}
			if got := roles(emu); !reflect.DeepEqual(got, rolesBefore) {
				t.Errorf("roles changed (a role created or modified):\n got %+v\nwant %+v", got, rolesBefore)
			}
			if got := settings(emu); !maps.Equal(got, settingsBefore) {
				t.Errorf("settings changed: got %v, want %v", got, settingsBefore)
			}
			m := oneMessage(t, emu)
			if m.Subject != want.subject {
				t.Errorf("subject\n got %q\nwant %q", m.Subject, want.subject)
			}
			if m.Attributes["severity"] != want.severity || m.Attributes["outcome"] != want.outcome {
				t.Errorf("attributes %v, want severity %s outcome %s", m.Attributes, want.severity, want.outcome)
			}
			if s.Manager != "" && !strings.Contains(m.Body, "Managed by: "+s.Manager+"\n") {
				t.Errorf("body does not name the manager %q:\n%s", s.Manager, m.Body)
			}
			if adopt := "Adopt with: " + dhmc.FormatParameters(adoptParams(s)) + "\n"; !strings.Contains(m.Body, adopt) {
				t.Errorf("body does not say %q:\n%s", adopt, m.Body)
			}
		})
	}
}

func TestSetupsCheckSuggestsTheAdoptingConfig(t *testing.T) {
	for _, s := range sandbox.Setups {
		t.Run(s.Name, func(t *testing.T) {
			sb, emu := startSetup(t, s)
			_, rep := run(t, sb, readEvent(t, "manual-check.json"))
			want := adoptParams(s)
			if rep.Mode != "check" || rep.SuggestedConfig == nil {
				t.Fatalf("mode %q suggestedConfig %+v, want check with a suggestion", rep.Mode, rep.SuggestedConfig)
			}
			if got := rep.SuggestedConfig.Parameters; !maps.Equal(got, want) {
				t.Errorf("suggested parameters %v, want %v (the setup's adopting configuration)", got, want)
			}
			if w := functionWrites(emu); w != 0 {
				t.Errorf("a check made %d writes", w)
			}
			m := oneMessage(t, emu)
			if line := "Suggested configuration (adopts what is there): " + dhmc.FormatParameters(want) + "\n"; !strings.Contains(m.Body, line) {
				t.Errorf("alert does not say %q:\n%s", line, m.Body)
			}
		})
	}
}

func TestSetupsAdoptingConfigFindsNothing(t *testing.T) {
	for _, s := range sandbox.Setups {
		t.Run(s.Name, func(t *testing.T) {
			sb, emu := startSetup(t, s, s.Adopt...)
			rep := sweep(t, sb)
			if got := findings(rep); len(got) != 0 {
				t.Errorf("findings %q, want none", got)
			}
			if rep.SuggestedConfig != nil {
				t.Errorf("suggests %v although the configuration already adopts the setup", rep.SuggestedConfig.Parameters)
			}
			if len(rep.Errors) != 0 || !rep.RoleChecked || len(rep.Regions) != len(sandbox.Regions) {
				t.Errorf("errors %v, role checked %v, Regions %v: want every Region and role read", rep.Errors, rep.RoleChecked, rep.Regions)
			}
			if w := functionWrites(emu); w != 0 {
				t.Errorf("the function made %d writes (%v)", w, functionOps(emu))
			}
			if n := len(emu.Messages()); n != 0 {
				t.Errorf("%d messages, want none", n)
			}
		})
	}
}

func TestSetupsTakeOver(t *testing.T) {
	d := sandbox.Desired()
	for _, s := range sandbox.Setups {
		t.Run(s.Name, func(t *testing.T) {
			want := setupWants[s.Name]
			sb, emu := startSetup(t, s, "DHMC_TAKE_OVER=true")
			rolesBefore := roles(emu)
			rep := sweep(t, sb)

			if !want.takeOver {
				// The other manager's role holds the guard's name: TakeOver
				// changes nothing, and nothing is broken trying.
				if got := findings(rep); !slices.Equal(got, sortedCopy(want.findings)) {
					t.Errorf("findings\n got %q\nwant %q (as without TakeOver)", got, sortedCopy(want.findings))
				}
				if w := functionWrites(emu); w != 0 {
					t.Errorf("the function made %d writes (%v), want 0", w, functionOps(emu))
				}
				if m := oneMessage(t, emu); m.Attributes["severity"] != want.severity {
					t.Errorf("severity %s, want %s", m.Attributes["severity"], want.severity)
				}
				return
			}

			wantFindings := withRole("role "+d.RoleName+" role-missing done", inEveryRegion("setting-wrong-role done"))
			if got := findings(rep); !slices.Equal(got, sortedCopy(wantFindings)) {
				t.Errorf("findings\n got %q\nwant %q", got, sortedCopy(wantFindings))
			}
			// Created, read back, and only then named by the settings.
			ops := functionOps(emu)
			created, readBack, firstUpdate := slices.Index(ops, "iam:CreateRole"), -1, slices.Index(ops, "ssm:UpdateServiceSetting")
			for i := created + 1; created >= 0 && i < len(ops); i++ {
				if ops[i] == "iam:GetRole" {
					readBack = i
					break
				}
			}
			if created < 0 || readBack < 0 || firstUpdate < readBack {
				t.Errorf("function calls %v: want CreateRole, then GetRole, then the setting updates", ops)
			}
			if w := functionWrites(emu); w != 2+len(sandbox.Regions) {
				t.Errorf("writes %d (%v), want CreateRole, AttachRolePolicy and one update per Region", w, ops)
			}
			if drift := driftIn(t, emu); len(drift) != 0 {
				t.Errorf("drift after taking over = %v, want compliant with the default configuration", drift)
			}
			for name, r := range rolesBefore {
				if got, _ := emu.Role(acct, name); !reflect.DeepEqual(got, r) {
					t.Errorf("the other manager's role %s changed:\n got %+v\nwant %+v", name, got, r)
				}
			}
			if m := oneMessage(t, emu); m.Attributes["outcome"] != "repaired" || m.Attributes["severity"] != "medium" {
				t.Errorf("attributes %v, want a medium repair", m.Attributes)
			}
			if again := sweep(t, sb); len(again.Results) != 0 {
				t.Errorf("second sweep finds %q", findings(again))
			}
		})
	}
}

// TestQuickSetupRoleWithAdministratorAccessIsNotTrusted: a role named like
// Quick Setup's proves nothing; one carrying AdministratorAccess in one
// Region gets that Region pointed at the guard's own verified role, and the
// role itself (not the guard's) is left as it is.
func TestQuickSetupRoleWithAdministratorAccessIsNotTrusted(t *testing.T) {
	qs, _ := sandbox.SetupNamed("quick-setup")
	d := sandbox.Desired()
	sb, emu := startSetup(t, qs)
	bad := sandbox.QuickSetupRole("eu-west-1")
	must(t, func() error {
		_, err := sb.UserIAM().AttachRolePolicy(t.Context(), &iam.AttachRolePolicyInput{
			RoleName: aws.String(bad), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"),
		})
		return err
	})
	emu.ResetCalls()
	badBefore, _ := emu.Role(acct, bad)

	rep := sweep(t, sb)

	want := []string{
		"eu-central-1 managed-elsewhere reported",
		"eu-west-1 setting-wrong-role done",
		"role " + bad + " unexpected-managed-policy blocked",
		"role " + d.RoleName + " role-missing done",
		"us-east-1 managed-elsewhere reported",
	}
	if got := findings(rep); !slices.Equal(got, want) {
		t.Errorf("findings\n got %q\nwant %q", got, want)
	}
	if got, want := settings(emu), map[string]string{
		"eu-central-1": sandbox.QuickSetupRole("eu-central-1"),
		"eu-west-1":    d.SettingValue(),
		"us-east-1":    sandbox.QuickSetupRole("us-east-1"),
	}; !maps.Equal(got, want) {
		t.Errorf("settings %v, want %v", got, want)
	}
	if got, _ := emu.Role(acct, bad); !reflect.DeepEqual(got, badBefore) {
		t.Errorf("the Quick Setup role was modified:\n got %+v\nwant %+v", got, badBefore)
	}
	if r, ok := emu.Role(acct, d.RoleName); !ok || r.Path != d.RolePath || !slices.Equal(r.AttachedPolicies, []string{d.ManagedPolicyARN()}) {
		t.Errorf("guard's role = %+v (exists %v), want it at %s with only the managed policy", r, ok, d.RolePath)
	}
	// CreateRole + AttachRolePolicy on the guard's role, one setting.
	if w := functionWrites(emu); w != 3 {
		t.Errorf("writes %d (%v), want 3", w, functionOps(emu))
	}
	if m := oneMessage(t, emu); m.Attributes["severity"] != "high" {
		t.Errorf("severity %q, want high: AdministratorAccess is still on a role named like Quick Setup's", m.Attributes["severity"])
	}
}

// TestQuickSetupAdoptedRepairsOnlyTheDriftedRegionsRole: adopted, Quick
// Setup's per-Region roles are each the configured role of their Region.
func TestQuickSetupAdoptedRepairsOnlyTheDriftedRegionsRole(t *testing.T) {
	qs, _ := sandbox.SetupNamed("quick-setup")
	d := sandbox.Desired()
	sb, emu := startSetup(t, qs, qs.Adopt...)
	drifted := sandbox.QuickSetupRole("eu-central-1")
	must(t, func() error {
		_, err := sb.UserIAM().DetachRolePolicy(t.Context(), &iam.DetachRolePolicyInput{
			RoleName: aws.String(drifted), PolicyArn: aws.String(d.ManagedPolicyARN()),
		})
		return err
	})
	emu.ResetCalls()
	before := roles(emu)

	rep := sweep(t, sb)

	if got, want := findings(rep), []string{"role " + drifted + " managed-policy-missing done"}; !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	if ops := functionOps(emu); functionWrites(emu) != 1 || !slices.Contains(ops, "iam:AttachRolePolicy") {
		t.Errorf("function calls %v: want exactly one AttachRolePolicy", ops)
	}
	after := roles(emu)
	for name, r := range before {
		if name == drifted {
			if !slices.Equal(after[name].AttachedPolicies, []string{d.ManagedPolicyARN()}) {
				t.Errorf("%s attached %v, want the managed policy back", name, after[name].AttachedPolicies)
			}
		} else if !reflect.DeepEqual(after[name], r) {
			t.Errorf("role %s changed although it had not drifted", name)
		}
	}
	if again := sweep(t, sb); len(again.Results) != 0 {
		t.Errorf("second sweep finds %q", findings(again))
	}
}

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

// samePolicy compares policy documents by meaning, as IAM does.
func samePolicy(t *testing.T, a, b string) bool {
	t.Helper()
	same, err := dhmc.SamePolicy(a, b)
	if err != nil {
		t.Fatalf("comparing %s with %s: %v", a, b, err)
	}
	return same
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
