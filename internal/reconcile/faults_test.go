package reconcile_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

func TestThrottlingAndServerErrorsAreRetriedAndSucceed(t *testing.T) {
	for _, kind := range []awsemu.FaultKind{awsemu.FaultThrottle, awsemu.FaultServerError} {
		t.Run(map[awsemu.FaultKind]string{awsemu.FaultThrottle: "throttle", awsemu.FaultServerError: "server error"}[kind], func(t *testing.T) {
			e := newEnv(t, twoRegions...)
			e.seedCompliant("us-east-1")
			e.editRole(func(r *awsemu.Role) { r.AttachedPolicies = nil })
			for _, op := range []string{"ssm:GetServiceSetting", "ssm:UpdateServiceSetting", "iam:GetRole", "iam:ListRolePolicies", "iam:AttachRolePolicy"} {
				e.srv.Inject(awsemu.Fault{Op: op, Kind: kind, Times: 2})
			}

			rep := e.run(t.Context(), reconcile.Scope{})
			if rep.Failed() {
				t.Fatalf("run failed: errors %+v, findings %+v", rep.Errors, rep.Results)
			}
			want := []string{"managed-policy-missing done", "setting-disabled eu-west-1 done"}
			if got := kinds(rep); !slices.Equal(got, want) {
				t.Errorf("findings = %q, want %q", got, want)
			}
			e.assertDesired(twoRegions...)
			// The report counts logical calls; the emulator saw the retries too.
			if rep.Calls["ssm:GetServiceSetting"] != 2 || e.srv.CountCalls(func(c awsemu.Call) bool { return c.Operation == "GetServiceSetting" }) != 4 {
				t.Errorf("GetServiceSetting: reported %d, emulator %d", rep.Calls["ssm:GetServiceSetting"],
					e.srv.CountCalls(func(c awsemu.Call) bool { return c.Operation == "GetServiceSetting" }))
			}
		})
	}
}

func TestAccessDeniedReadMakesARegionUnreachableAndADeniedWriteFailsThatRegionOnly(t *testing.T) {
	regions := []string{"eu-west-1", "eu-west-2", "us-east-1", "us-west-2"}
	e := newEnv(t, regions...)
	e.seedCompliant()
	e.srv.Inject(awsemu.Fault{Op: "ssm:GetServiceSetting", Region: "eu-west-2", Kind: awsemu.FaultAccessDenied})
	e.srv.Inject(awsemu.Fault{Op: "ssm:UpdateServiceSetting", Region: "us-east-1", Kind: awsemu.FaultAccessDenied})

	rep := e.run(t.Context(), reconcile.Scope{})
	want := []string{"region-unreachable eu-west-2 reported", "setting-disabled eu-west-1 done", "setting-disabled us-east-1 failed", "setting-disabled us-west-2 done"}
	if got := kinds(rep); !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q", got, want)
	}
	// An SCP that denies a Region is not a failed run: the guard can do
	// nothing there, and the other Regions' sweep is complete.
	if len(rep.Errors) != 0 {
		t.Errorf("errors = %+v, want none", rep.Errors)
	}
	for _, r := range rep.Results {
		if r.Region == "us-east-1" && !strings.Contains(r.Error, "AccessDenied") {
			t.Errorf("us-east-1 error = %q, want AccessDenied", r.Error)
		}
	}
	if !rep.Failed() || !slices.Equal(rep.Regions, regions) {
		t.Errorf("failed = %v, regions = %v", rep.Failed(), rep.Regions)
	}
	for _, r := range []string{"eu-west-1", "us-west-2"} {
		if got := e.srv.Setting(acct, r).Value; got != e.desired.SettingValue() {
			t.Errorf("%s = %q: a failure elsewhere stopped its repair", r, got)
		}
	}
}

func TestRoleReadFailureBlocksSettingWrites(t *testing.T) {
	e := newEnv(t, "eu-west-1")
	e.seedCompliant()
	e.srv.Inject(awsemu.Fault{Op: "iam:ListAttachedRolePolicies", Kind: awsemu.FaultAccessDenied})
	rep := e.run(t.Context(), reconcile.Scope{})
	if rep.RoleChecked || len(rep.Errors) != 1 || rep.Errors[0].Region != "iam" {
		t.Errorf("role checked %v, errors %+v", rep.RoleChecked, rep.Errors)
	}
	if got, want := kinds(rep), []string{"setting-disabled eu-west-1 blocked"}; !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q", got, want)
	}
	if n := e.srv.CountCalls(func(c awsemu.Call) bool { return c.Operation == "UpdateServiceSetting" }); n != 0 {
		t.Errorf("%d setting updates with an unverified role, want 0", n)
	}
}

func TestUnreadableTrustPolicyIsReportedNotRepaired(t *testing.T) {
	e := newEnv(t, "eu-west-1")
	e.seedCompliant("eu-west-1")
	e.editRole(func(r *awsemu.Role) {
		r.TrustPolicy = `{"Statement":[{"Effect":"Allow","Principal":"ssm","Action":"sts:AssumeRole"}]}`
	})
	e.srv.ResetCalls()
	rep := e.run(t.Context(), reconcile.Scope{})
	if len(rep.Errors) != 1 || rep.Errors[0].Region != "iam" || !strings.Contains(rep.Errors[0].Error, "trust policy") {
		t.Errorf("errors = %+v, want the trust policy reported", rep.Errors)
	}
	if e.writes() != 0 {
		t.Errorf("%d writes, want none", e.writes())
	}
}

func TestNewRoleNotYetVisibleToSSMIsRetriedUntilItIs(t *testing.T) {
	e := newEnv(t, twoRegions...)
	e.srv.SetRoleVisibilityLag(acct, 3) // three updates fail after CreateRole, across both Regions

	rep := e.run(t.Context(), reconcile.Scope{})
	want := []string{"role-missing done", "setting-disabled eu-west-1 done", "setting-disabled us-east-1 done"}
	if got := kinds(rep); !slices.Equal(got, want) || rep.Failed() {
		t.Fatalf("findings = %q (errors %+v), want %q", got, rep.Results, want)
	}
	e.assertDesired(twoRegions...)
	rejected := e.srv.CountCalls(func(c awsemu.Call) bool { return c.ErrorCode == awsemu.RoleNotVisibleCode })
	if rejected != 3 || rep.Calls["ssm:UpdateServiceSetting"] != 2 {
		t.Errorf("emulator rejected %d updates (want 3); report counts %d updates (want 2)", rejected, rep.Calls["ssm:UpdateServiceSetting"])
	}
}

func TestRoleThatNeverBecomesVisibleFailsWithinTheBound(t *testing.T) {
	e := newEnv(t, "eu-west-1")
	e.srv.SetRoleVisibilityLag(acct, 1000)
	r := e.reconciler(reconcile.Options{VisibilityAttempts: 3})
	rep, err := r.Run(t.Context(), reconcile.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	got := kinds(rep)
	if !slices.Equal(got, []string{"role-missing done", "setting-disabled eu-west-1 failed"}) {
		t.Fatalf("findings = %q", got)
	}
	if n := e.srv.CountCalls(func(c awsemu.Call) bool { return c.Operation == "UpdateServiceSetting" }); n != 3 {
		t.Errorf("%d update attempts, want 3", n)
	}
}

func TestPendingUpdateIsReportedAndNotFought(t *testing.T) {
	e := newEnv(t, twoRegions...)
	e.seedCompliant()
	e.srv.SetPendingUpdate(acct, "eu-west-1", true)

	rep := e.run(t.Context(), reconcile.Scope{})
	want := []string{"setting-disabled us-east-1 done", "setting-pending-update eu-west-1 in-progress"}
	if got := kinds(rep); !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q", got, want)
	}
	if n := e.srv.CountCalls(func(c awsemu.Call) bool { return c.Write && c.Region == "eu-west-1" }); n != 0 {
		t.Errorf("%d writes in eu-west-1 while its update is pending, want 0", n)
	}
	if rep.Failed() {
		t.Errorf("a pending update is not a failure: %+v", rep)
	}
}

func TestTooManyUpdatesIsReportedNotRetried(t *testing.T) {
	e := newEnv(t, "eu-west-1")
	e.seedCompliant()
	e.srv.Inject(awsemu.Fault{Op: "ssm:UpdateServiceSetting", Kind: awsemu.FaultTooManyUpdates})
	rep := e.run(t.Context(), reconcile.Scope{})
	if len(rep.Results) != 1 || rep.Results[0].Outcome != dhmc.OutcomeFailed || !strings.Contains(rep.Results[0].Error, "TooManyUpdates") {
		t.Errorf("results = %+v", rep.Results)
	}
	if n := e.srv.CountCalls(func(c awsemu.Call) bool { return c.Operation == "UpdateServiceSetting" }); n != 1 {
		t.Errorf("%d update attempts, want 1", n)
	}
}

func TestCompliantSweepMakesRegionsPlusThreeReads(t *testing.T) {
	for _, r := range []int{1, 4, 17} {
		regions := awsemu.DefaultRegions[:r]
		e := newEnv(t, regions...)
		e.seedCompliant(regions...)
		rep := e.run(t.Context(), reconcile.Scope{})
		emu := e.srv.CountCalls(nil)
		if rep.Reads != r+3 || rep.Writes != 0 || emu != r+3 || len(rep.Results) != 0 {
			t.Errorf("%d Regions: reads %d, writes %d, emulator calls %d, findings %q; want %d reads", r, rep.Reads, rep.Writes, emu, kinds(rep), r+3)
		}
		wantCalls := map[string]int{"ssm:GetServiceSetting": r, "iam:GetRole": 1, "iam:ListAttachedRolePolicies": 1, "iam:ListRolePolicies": 1}
		if !maps.Equal(rep.Calls, wantCalls) {
			t.Errorf("calls = %v, want %v", rep.Calls, wantCalls)
		}
	}
}

func TestDiscoveredRegionsCostOneMoreCall(t *testing.T) {
	e := newEnv(t) // no configured Regions: ask the account
	enabled := append(slices.Clone(awsemu.DefaultRegions), "af-south-1", "eu-south-1", "me-central-1", "ap-east-1")
	e.srv.SetEnabledRegions(acct, enabled)
	e.seedCompliant(enabled...)
	rep := e.run(t.Context(), reconcile.Scope{})
	r := len(enabled)
	if rep.Reads != r+4 || rep.Calls["account:ListRegions"] != 1 || len(rep.Results) != 0 || e.srv.CountCalls(nil) != r+4 {
		t.Errorf("reads %d (want %d), calls %v, findings %q", rep.Reads, r+4, rep.Calls, kinds(rep))
	}
	if !slices.Equal(rep.Regions, sorted(enabled)) {
		t.Errorf("regions = %v, want %v", rep.Regions, sorted(enabled))
	}
	got, err := e.reconciler(reconcile.Options{}).ManagedRegions(t.Context())
	if err != nil || !slices.Equal(got, sorted(enabled)) {
		t.Errorf("ManagedRegions = %v, %v", got, err)
	}
}

// smallPages makes IAM and Account answer one item per page, so that the
// reconciler's pagination is exercised against the emulator.
type smallPages struct{ *iam.Client }

func (p smallPages) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	c := *in
	c.MaxItems = aws.Int32(1)
	return p.Client.ListAttachedRolePolicies(ctx, &c, o...)
}

func (p smallPages) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	c := *in
	c.MaxItems = aws.Int32(1)
	return p.Client.ListRolePolicies(ctx, &c, o...)
}

type smallRegionPages struct{ *account.Client }

func (p smallRegionPages) ListRegions(ctx context.Context, in *account.ListRegionsInput, o ...func(*account.Options)) (*account.ListRegionsOutput, error) {
	c := *in
	c.MaxResults = aws.Int32(5)
	return p.Client.ListRegions(ctx, &c, o...)
}

func TestEveryPageIsRead(t *testing.T) {
	e := newEnv(t)
	e.clients.IAM = smallPages{e.clients.IAM.(*iam.Client)}
	e.clients.Regions = smallRegionPages{e.clients.Regions.(*account.Client)}
	e.seedCompliant(awsemu.DefaultRegions...)
	e.editRole(func(r *awsemu.Role) {
		r.AttachedPolicies = append(r.AttachedPolicies, adminARN, "arn:aws:iam::aws:policy/ReadOnlyAccess")
		r.InlinePolicies = map[string]string{"a": inlineAdmin, "b": inlineAdmin, "c": inlineAdmin}
	})
	rep := e.run(t.Context(), reconcile.Scope{Mode: dhmc.ModeDetect})
	if len(rep.Regions) != 17 || rep.Calls["account:ListRegions"] != 4 {
		t.Errorf("regions %d (want 17), ListRegions calls %d (want 4 pages)", len(rep.Regions), rep.Calls["account:ListRegions"])
	}
	want := []string{"unexpected-inline-policy skipped", "unexpected-inline-policy skipped", "unexpected-inline-policy skipped",
		"unexpected-managed-policy skipped", "unexpected-managed-policy skipped"}
	if got := kinds(rep); !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q", got, want)
	}
}

func TestParallelRunsAreRaceFree(t *testing.T) {
	e := newEnv(t, awsemu.DefaultRegions...)
	e.seedCompliant()
	e.editRole(func(r *awsemu.Role) { r.AttachedPolicies = append(r.AttachedPolicies, adminARN) })
	r := e.reconciler(reconcile.Options{Parallelism: 6})
	var wg sync.WaitGroup
	reports := make([]*dhmc.Report, 4)
	for i := range reports {
		mode := dhmc.ModeEnforce
		if i%2 == 1 {
			mode = dhmc.ModeDetect
		}
		wg.Go(func() {
			rep, err := r.Run(t.Context(), reconcile.Scope{Mode: mode})
			if err != nil {
				t.Error(err)
			}
			reports[i] = rep
		})
	}
	wg.Wait()
	e.assertDesired(awsemu.DefaultRegions...)
	for i, rep := range reports {
		if rep != nil && len(rep.Regions) != 17 {
			t.Errorf("run %d checked %d Regions, want 17", i, len(rep.Regions))
		}
	}
}

func TestSettingIsNotPointedAtARoleThatCouldNotBeCreated(t *testing.T) {
	e := newEnv(t, twoRegions...)
	e.srv.SetSetting(acct, "eu-west-1", "service-role/AWS-QuickSetup-SSM-DefaultEC2MgmtRole-eu-west-1")
	e.srv.Inject(awsemu.Fault{Op: "iam:CreateRole", Kind: awsemu.FaultAccessDenied})

	rep := e.run(t.Context(), reconcile.Scope{})
	want := []string{"role-missing failed", "setting-disabled us-east-1 blocked", "setting-wrong-role eu-west-1 blocked"}
	if got := kinds(rep); !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q", got, want)
	}
	if got := e.srv.Setting(acct, "eu-west-1").Value; got != "service-role/AWS-QuickSetup-SSM-DefaultEC2MgmtRole-eu-west-1" {
		t.Errorf("eu-west-1 = %q: the working role was replaced by a missing one", got)
	}
	if n := e.srv.CountCalls(func(c awsemu.Call) bool { return c.Operation == "UpdateServiceSetting" }); n != 0 {
		t.Errorf("%d setting updates, want 0", n)
	}
}
