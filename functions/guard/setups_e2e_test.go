package main_test

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// The DHMC setups real accounts have (sandbox.Setups), each under RIE:
// first with the default configuration, then with the one that adopts it.

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

var setupWants = map[string]setupWant{
	"path-root": {
		findings: withRole("role "+dhmc.DefaultRoleName+" role-path-mismatch blocked", inEveryRegion("setting-wrong-role blocked")),
		outcome:  "blocked", severity: "high",
		subject: "DHMC repair BLOCKED on the role and in 3 Regions of " + acct + ": a person must decide",
	},
	"quick-setup": {
		findings: inEveryRegion("managed-elsewhere reported"),
		outcome:  "reported", severity: "low",
		subject:  "DHMC left alone: managed by Quick Setup in 3 Regions of " + acct,
		takeOver: true,
	},
	// AWS's own enforcer: the same role names as Quick Setup, named by its
	// association. It leaves a setting already configured alone, so a
	// take-over holds.
	"aws-org-setup": {
		findings: inEveryRegion("managed-elsewhere reported"),
		outcome:  "reported", severity: "low",
		subject:  "DHMC left alone: managed by AWS EnableDHMCAssociation in 3 Regions of " + acct,
		takeOver: true,
	},
	"service-managed": {
		findings: withRole("role "+dhmc.DefaultRoleName+" managed-elsewhere reported", inEveryRegion("managed-elsewhere reported")),
		outcome:  "reported", severity: "low",
		// SNS subjects are under 100 characters: the manager's full name is in the body.
		subject: "DHMC left alone: managed by SSM service-managed registration in 3 Regions of " + acct,
	},
	"cloudformation": {
		findings: inEveryRegion("managed-elsewhere reported"),
		outcome:  "reported", severity: "low",
		subject:  "DHMC left alone: managed by CloudFormation stack dhmc-baseline in 3 Regions of " + acct,
		takeOver: true,
	},
	"aws-sample": {
		findings: inEveryRegion("managed-elsewhere reported"),
		outcome:  "reported", severity: "low",
		subject:  "DHMC left alone: managed by CloudFormation in 3 Regions of " + acct,
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

// TestAWSEnforcerUnreadableFallsBackToQuickSetup: naming AWS's own enforcer
// takes one more read (ssm:ListAssociations); where it is denied, the setup
// is still recognised by its role names and still alerted on: the read
// fails open, it never silences.
func TestAWSEnforcerUnreadableFallsBackToQuickSetup(t *testing.T) {
	var org sandbox.Setup
	for _, s := range sandbox.Setups {
		if s.Name == "aws-org-setup" {
			org = s
		}
	}
	sb, emu := startSetup(t, org)
	emu.Inject(awsemu.Fault{Op: "ssm:ListAssociations", Kind: awsemu.FaultAccessDenied})
	rep := sweep(t, sb)
	if got, want := findings(rep), sortedCopy(inEveryRegion("managed-elsewhere reported")); !slices.Equal(got, want) {
		t.Errorf("findings\n got %q\nwant %q", got, want)
	}
	if n := emu.CountCalls(func(c awsemu.Call) bool { return c.Operation == "ListAssociations" && c.ErrorCode != "" }); n != len(sandbox.Regions) {
		t.Errorf("%d denied ListAssociations calls, want one per Region (%d)", n, len(sandbox.Regions))
	}
	m := oneMessage(t, emu)
	if want := "DHMC left alone: managed by Quick Setup in 3 Regions of " + acct; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if !strings.Contains(m.Body, "Managed by: Quick Setup\n") {
		t.Errorf("body does not name Quick Setup:\n%s", m.Body)
	}
}
