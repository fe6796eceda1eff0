package reconcile_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

// TestARepairWhoseGoalAlreadyHoldsIsDone: someone else makes the guard's
// change between its read and its write (the emulator runs their write just
// before the guard's). IAM then answers the guard's write with an error
// (NoSuchEntity, EntityAlreadyExists, ...); a re-read shows the goal holds,
// so the repair is done, "already in place", and never failed. A write
// refused with the item still wrong stays failed.
func TestARepairWhoseGoalAlreadyHoldsIsDone(t *testing.T) {
	regions := []string{"eu-west-1"}
	cases := []struct {
		name  string
		drift func(e *env)
		// op is the guard's write the other writer gets ahead of; fix is
		// their change; fail, if set, is a fault on that write as well.
		op      string
		fix     func(e *env)
		fail    awsemu.FaultKind
		kind    dhmc.Kind
		want    dhmc.Outcome
		note    bool
		desired bool
	}{
		{
			name: "detach that already happened",
			drift: func(e *env) {
				e.editRole(func(r *awsemu.Role) { r.AttachedPolicies = append(r.AttachedPolicies, adminARN) })
			},
			op: "iam:DetachRolePolicy",
			fix: func(e *env) {
				e.editRole(func(r *awsemu.Role) { r.AttachedPolicies = []string{e.desired.ManagedPolicyARN()} })
			},
			kind: dhmc.KindUnexpectedManagedPolicy, want: dhmc.OutcomeDone, note: true, desired: true,
		},
		{
			name: "inline policy deleted before its document was read",
			drift: func(e *env) {
				e.editRole(func(r *awsemu.Role) { r.InlinePolicies = map[string]string{"extra": inlineAdmin} })
			},
			op:   "iam:GetRolePolicy",
			fix:  func(e *env) { e.editRole(func(r *awsemu.Role) { r.InlinePolicies = nil }) },
			kind: dhmc.KindUnexpectedInlinePolicy, want: dhmc.OutcomeDone, note: true, desired: true,
		},
		{
			name: "inline policy deleted before the guard's delete",
			drift: func(e *env) {
				e.editRole(func(r *awsemu.Role) { r.InlinePolicies = map[string]string{"extra": inlineAdmin} })
			},
			op:   "iam:DeleteRolePolicy",
			fix:  func(e *env) { e.editRole(func(r *awsemu.Role) { r.InlinePolicies = nil }) },
			kind: dhmc.KindUnexpectedInlinePolicy, want: dhmc.OutcomeDone, note: true, desired: true,
		},
		{
			name:  "role created by someone else, as desired",
			drift: func(e *env) { e.srv.DeleteRoleState(acct, e.desired.RoleName) },
			op:    "iam:CreateRole",
			fix:   func(e *env) { e.seedCompliant() },
			kind:  dhmc.KindRoleMissing, want: dhmc.OutcomeDone, note: true, desired: true,
		},
		{
			name:  "role created by someone else, without the managed policy",
			drift: func(e *env) { e.srv.DeleteRoleState(acct, e.desired.RoleName) },
			op:    "iam:CreateRole",
			fix: func(e *env) {
				e.seedCompliant()
				e.editRole(func(r *awsemu.Role) { r.AttachedPolicies = nil })
			},
			kind: dhmc.KindRoleMissing, want: dhmc.OutcomeFailed,
		},
		{
			name:  "setting written by someone else while the guard's update was refused",
			drift: func(e *env) { e.srv.SetSetting(acct, "eu-west-1", dhmc.SettingDisabled) },
			op:    "ssm:UpdateServiceSetting",
			fix:   func(e *env) { e.srv.SetSetting(acct, "eu-west-1", e.desired.SettingValue()) },
			fail:  awsemu.FaultTooManyUpdates,
			kind:  dhmc.KindSettingDisabled, want: dhmc.OutcomeDone, note: true, desired: true,
		},
		{
			name: "detach denied, nobody fixed it",
			drift: func(e *env) {
				e.editRole(func(r *awsemu.Role) { r.AttachedPolicies = append(r.AttachedPolicies, adminARN) })
			},
			op:   "iam:DetachRolePolicy",
			fix:  func(*env) {},
			fail: awsemu.FaultAccessDenied,
			kind: dhmc.KindUnexpectedManagedPolicy, want: dhmc.OutcomeFailed,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, regions...)
			e.seedCompliant(regions...)
			tc.drift(e)
			e.srv.Inject(awsemu.Fault{Op: tc.op, Kind: awsemu.FaultCompetingWrite, Times: 1, Race: func() { tc.fix(e) }})
			if tc.fail != 0 {
				e.srv.Inject(awsemu.Fault{Op: tc.op, Kind: tc.fail})
			}
			rep := e.run(t.Context(), reconcile.Scope{})
			i := slices.IndexFunc(rep.Results, func(x dhmc.Result) bool { return x.Kind == tc.kind })
			if i < 0 {
				t.Fatalf("no %s finding: %q", tc.kind, kinds(rep))
			}
			x := rep.Results[i]
			if x.Outcome != tc.want || strings.HasPrefix(x.Note, reconcile.NoteAlreadyInPlace) != tc.note {
				t.Errorf("%s: outcome %s, note %q, error %q; want %s, note %v", tc.kind, x.Outcome, x.Note, x.Error, tc.want, tc.note)
			}
			if tc.desired {
				e.assertDesired(regions...)
				if rep.Failed() {
					t.Errorf("the run failed though the account is as desired: %q %+v", kinds(rep), rep.Errors)
				}
			}
			if bad := e.srv.DanglingSettingWrites(); len(bad) > 0 {
				t.Errorf("setting pointed at a missing role: %v", bad)
			}
		})
	}
}
