package reconcile_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

const (
	adminARN    = "arn:aws:iam::aws:policy/AdministratorAccess"
	looseTrust  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ssm.amazonaws.com","ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`
	inlineAdmin = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

var twoRegions = []string{"eu-west-1", "us-east-1"}

func TestEnforceRepairsEachFindingKind(t *testing.T) {
	boundary := "arn:aws:iam::" + acct + ":policy/DHMCBoundary"
	tests := []struct {
		name     string
		boundary string // desired permissions boundary
		breakIt  func(e *env)
		want     []string
	}{
		{
			name:    "setting disabled in one Region is set",
			breakIt: func(e *env) { e.srv.SetSetting(acct, "us-east-1", dhmc.SettingDisabled) },
			want:    []string{"setting-disabled us-east-1 done"},
		},
		{
			name: "setting naming another role is set back",
			breakIt: func(e *env) {
				e.srv.SetSetting(acct, "eu-west-1", "service-role/AWS-QuickSetup-SSM-DefaultEC2MgmtRole-eu-west-1")
			},
			want: []string{"setting-wrong-role eu-west-1 done"},
		},
		{
			name: "missing role is created with path, trust and managed policy",
			breakIt: func(e *env) {
				e.srv.DeleteRoleState(acct, e.desired.RoleName)
				e.srv.SetSetting(acct, "eu-west-1", "$None")
			},
			want: []string{"role-missing done", "setting-disabled eu-west-1 done", "setting-role-missing us-east-1 done"},
		},
		{
			name:    "loosened trust policy is restored",
			breakIt: func(e *env) { e.editRole(func(r *awsemu.Role) { r.TrustPolicy = looseTrust }) },
			want:    []string{"trust-policy-drift done"},
		},
		{
			name:    "detached managed policy is attached",
			breakIt: func(e *env) { e.editRole(func(r *awsemu.Role) { r.AttachedPolicies = nil }) },
			want:    []string{"managed-policy-missing done"},
		},
		{
			name: "extra managed policy is detached",
			breakIt: func(e *env) {
				e.editRole(func(r *awsemu.Role) { r.AttachedPolicies = append(r.AttachedPolicies, adminARN) })
			},
			want: []string{"unexpected-managed-policy done"},
		},
		{
			name: "inline policy is deleted",
			breakIt: func(e *env) {
				e.editRole(func(r *awsemu.Role) { r.InlinePolicies = map[string]string{"escalate": inlineAdmin} })
			},
			want: []string{"unexpected-inline-policy done"},
		},
		{
			name: "unexpected permissions boundary is removed",
			breakIt: func(e *env) {
				e.editRole(func(r *awsemu.Role) { r.PermissionsBoundary = e.srv.CreatePolicy(acct, "Other") })
			},
			want: []string{"permissions-boundary-drift done"},
		},
		{
			name:     "configured permissions boundary is put back",
			boundary: boundary,
			breakIt: func(e *env) {
				e.srv.CreatePolicy(acct, "DHMCBoundary")
				e.editRole(func(r *awsemu.Role) { r.PermissionsBoundary = "" })
			},
			want: []string{"permissions-boundary-drift done"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, twoRegions...)
			e.desired.PermissionsBoundaryARN = tt.boundary
			e.seedCompliant(twoRegions...)
			tt.breakIt(e)

			rep := e.run(t.Context(), reconcile.Scope{Cause: dhmc.Cause{Trigger: "schedule"}})
			if got := kinds(rep); !slices.Equal(got, tt.want) {
				t.Errorf("findings = %q, want %q", got, tt.want)
			}
			if rep.Failed() {
				t.Errorf("report failed: %+v", rep)
			}
			e.assertDesired(twoRegions...)

			e.srv.ResetCalls()
			again := e.run(t.Context(), reconcile.Scope{})
			if len(again.Results) != 0 || again.Writes != 0 || e.writes() != 0 {
				t.Errorf("second run: findings %q, reported writes %d, emulator writes %d; want none", kinds(again), again.Writes, e.writes())
			}
		})
	}
}

func TestDeletedInlinePolicyDocumentIsKeptInTheReport(t *testing.T) {
	e := newEnv(t, "eu-west-1")
	e.seedCompliant("eu-west-1")
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"arn:aws:s3:::a b+c/*"}]}`
	e.editRole(func(r *awsemu.Role) { r.InlinePolicies = map[string]string{"s3": doc} })

	rep := e.run(t.Context(), reconcile.Scope{})
	if len(rep.Results) != 1 {
		t.Fatalf("findings = %q, want one", kinds(rep))
	}
	if got := rep.Results[0]; got.Target != "s3" || got.Document != doc || got.Outcome != dhmc.OutcomeDone {
		t.Errorf("result = %+v, want policy s3 deleted with document %s", got, doc)
	}
	e.assertDesired("eu-west-1")
}

func TestEnforceRepairsEverythingAtOnceAndReportsIt(t *testing.T) {
	e := newEnv(t, twoRegions...)
	e.seedCompliant()
	e.editRole(func(r *awsemu.Role) {
		r.TrustPolicy = looseTrust
		r.AttachedPolicies = []string{adminARN}
		r.InlinePolicies = map[string]string{"a": inlineAdmin}
	})
	e.srv.SetSetting(acct, "eu-west-1", "service-role/Other")

	rep := e.run(t.Context(), reconcile.Scope{Cause: dhmc.Cause{Trigger: "manual"}})
	e.assertDesired(twoRegions...)
	want := []string{
		"managed-policy-missing done", "setting-disabled us-east-1 done", "setting-wrong-role eu-west-1 done",
		"trust-policy-drift done", "unexpected-inline-policy done", "unexpected-managed-policy done",
	}
	if got := kinds(rep); !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q", got, want)
	}
	if rep.Mode != "enforce" || !rep.RoleChecked || !slices.Equal(rep.Regions, twoRegions) || rep.Cause.Trigger != "manual" {
		t.Errorf("report header = mode %q role %v regions %v cause %+v", rep.Mode, rep.RoleChecked, rep.Regions, rep.Cause)
	}
	if rep.Writes != 6 || rep.Calls["ssm:UpdateServiceSetting"] != 2 || rep.Calls["iam:DeleteRolePolicy"] != 1 {
		t.Errorf("writes = %d, calls = %v", rep.Writes, rep.Calls)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("report does not marshal: %v", err)
	}
}

func TestDetectAndCheckNeverWriteAndReportEveryFinding(t *testing.T) {
	for _, mode := range []dhmc.Mode{dhmc.ModeDetect, dhmc.ModeCheck} {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, twoRegions...)
			e.seedCompliant()
			e.editRole(func(r *awsemu.Role) {
				r.TrustPolicy = looseTrust
				r.AttachedPolicies = []string{adminARN}
				r.InlinePolicies = map[string]string{"a": inlineAdmin}
				r.PermissionsBoundary = e.srv.CreatePolicy(acct, "B")
			})
			e.srv.SetSetting(acct, "eu-west-1", "service-role/Other")
			e.srv.ResetCalls()

			rep := e.run(t.Context(), reconcile.Scope{Mode: mode})
			want := []string{
				"managed-policy-missing skipped", "permissions-boundary-drift skipped", "setting-disabled us-east-1 skipped",
				"setting-wrong-role eu-west-1 skipped", "trust-policy-drift skipped", "unexpected-inline-policy skipped",
				"unexpected-managed-policy skipped",
			}
			if got := kinds(rep); !slices.Equal(got, want) {
				t.Errorf("findings = %q, want %q", got, want)
			}
			if rep.Writes != 0 || e.writes() != 0 {
				t.Errorf("writes: reported %d, emulator %d; want 0", rep.Writes, e.writes())
			}
			if rep.Mode != string(mode) {
				t.Errorf("mode = %q, want %q", rep.Mode, mode)
			}
		})
	}
}

func TestDeploymentInDetectModeDoesNotWriteWithoutAnExplicitMode(t *testing.T) {
	e := newEnv(t, "eu-west-1")
	e.desired.Mode = dhmc.ModeDetect
	e.seedCompliant()
	rep := e.run(t.Context(), reconcile.Scope{})
	if rep.Mode != "detect" || e.writes() != 0 || len(rep.Results) != 1 {
		t.Errorf("mode %q, writes %d, findings %q", rep.Mode, e.writes(), kinds(rep))
	}
}

func TestSettingGivenAsRoleARNIsCompliant(t *testing.T) {
	e := newEnv(t, twoRegions...)
	e.seedCompliant(twoRegions...)
	e.srv.SetSetting(acct, "eu-west-1", e.desired.RoleARN())
	e.srv.SetSetting(acct, "us-east-1", "/"+e.desired.SettingValue())
	rep := e.run(t.Context(), reconcile.Scope{})
	if len(rep.Results) != 0 || e.writes() != 0 {
		t.Errorf("findings %q, writes %d; want none", kinds(rep), e.writes())
	}
}

func TestRoleAtAnotherPathIsReportedNotRecreated(t *testing.T) {
	e := newEnv(t, "eu-west-1")
	e.seedCompliant("eu-west-1")
	e.editRole(func(r *awsemu.Role) { r.Path = "/"; r.ARN = "" })
	rep := e.run(t.Context(), reconcile.Scope{})
	// The setting names service-role/NAME, which cannot exist beside /NAME:
	// nothing is written, a person decides.
	if got, want := kinds(rep), []string{"role-path-mismatch blocked", "setting-role-missing eu-west-1 blocked"}; !slices.Equal(got, want) {
		t.Fatalf("findings = %q, want %q", got, want)
	}
	if !strings.Contains(rep.Results[0].Blocked, "cannot move") || e.writes() != 0 {
		t.Errorf("blocked %q, writes %d", rep.Results[0].Blocked, e.writes())
	}
}

func TestScopeLimitsRegionsAndReadsTheirRole(t *testing.T) {
	e := newEnv(t, twoRegions...)
	e.seedCompliant()
	rep := e.run(t.Context(), reconcile.Scope{Regions: []string{"eu-west-1", "ap-south-1"}})
	if got, want := kinds(rep), []string{"setting-disabled eu-west-1 done"}; !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q (ap-south-1 is not managed)", got, want)
	}
	// The role the setting will name is always read first: it is what the
	// write depends on.
	if !rep.RoleChecked || rep.Calls["iam:GetRole"] != 1 || !slices.Equal(rep.Regions, []string{"eu-west-1"}) {
		t.Errorf("role checked %v, calls %v, regions %v", rep.RoleChecked, rep.Calls, rep.Regions)
	}
	if len(rep.RegionsIgnored) != 1 || rep.RegionsIgnored[0].Region != "ap-south-1" {
		t.Errorf("ignored = %+v, want ap-south-1 with its reason", rep.RegionsIgnored)
	}
	if got := e.srv.Setting(acct, "us-east-1").Value; got != dhmc.SettingDisabled {
		t.Errorf("us-east-1 out of scope was changed to %q", got)
	}
}

func TestRunRejectsBadScope(t *testing.T) {
	e := newEnv(t, twoRegions...)
	r := e.reconciler(reconcile.Options{})
	for _, s := range []reconcile.Scope{{Regions: []string{"eu west 1"}}, {Mode: "fix"}} {
		if _, err := r.Run(t.Context(), s); err == nil {
			t.Errorf("Run(%+v): want an error", s)
		}
	}
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	e := newEnv(t)
	bad := e.desired
	bad.RolePath = "service-role"
	if _, err := reconcile.New(bad, e.clients, reconcile.Options{}); err == nil || !strings.Contains(err.Error(), "role path") {
		t.Errorf("bad path: err = %v", err)
	}
	noLister := e.clients
	noLister.Regions = nil
	if _, err := reconcile.New(e.desired, noLister, reconcile.Options{}); err == nil {
		t.Error("no Regions and no lister: want an error")
	}
}
