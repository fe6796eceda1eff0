package ledger_test

import (
	"slices"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

func TestNeedsPerson(t *testing.T) {
	for _, tc := range []struct {
		kind, outcome string
		flapping      bool
		want          bool
	}{
		{"setting-disabled", "done", false, false},
		{"setting-disabled", "done", true, true},
		{"setting-wrong-role", "blocked", false, true},
		{"role-missing", "failed", false, true},
		{"managed-elsewhere", "reported", false, false},
		{"denied", "denied", false, false},
		{"role-unreadable", "failed", false, true},
		{"region-unreachable", "failed", false, true},
		{"regions-unlisted", "failed", false, true},
		{"allowed-policy-changed", "reported", false, true},
	} {
		if got := ledger.NeedsPerson(ledger.Signal{Kind: tc.kind, Outcome: tc.outcome}, tc.flapping); got != tc.want {
			t.Errorf("%s %s flapping %v: %v, want %v", tc.kind, tc.outcome, tc.flapping, got, tc.want)
		}
	}
}

func TestResolvedOnlyWhatARunVerified(t *testing.T) {
	role := ledger.Problem{Item: "iam", Kind: "unexpected-managed-policy"}
	unreadable := ledger.Problem{Item: "iam", Kind: "role-unreadable"}
	west := ledger.Problem{Item: "eu-west-1", Kind: "setting-wrong-role"}
	south := ledger.Problem{Item: "me-south-1", Kind: "region-unreachable"}
	unlisted := ledger.Problem{Item: "regions", Kind: "regions-unlisted"}
	open := []ledger.Problem{role, unreadable, west, south, unlisted}
	result := func(region string, kind dhmc.Kind) dhmc.Result {
		return dhmc.Result{Finding: dhmc.Finding{Region: region, Kind: kind}, Outcome: dhmc.OutcomeBlocked}
	}
	all := []string{"eu-west-1", "me-south-1", "us-east-1"}
	for _, tc := range []struct {
		name      string
		r         dhmc.Report
		fullScope bool
		want      []ledger.Problem
	}{
		{"a compliant sweep closes all", dhmc.Report{RoleChecked: true, Regions: all}, true, open},
		{"an event run of one Region lists nothing and reads only it",
			dhmc.Report{RoleChecked: true, Regions: []string{"eu-west-1"}}, false, []ledger.Problem{role, unreadable, west}},
		{"the role still has a finding of another kind",
			dhmc.Report{RoleChecked: true, Regions: all, Results: []dhmc.Result{result("", dhmc.KindTrustPolicyDrift)}}, true,
			[]ledger.Problem{west, south, unlisted}},
		{"the role unread", dhmc.Report{RoleChecked: false, Regions: all}, true, []ledger.Problem{west, south, unlisted}},
		{"the role read with an error", dhmc.Report{RoleChecked: true, Regions: all, Errors: []dhmc.RegionError{{Region: "iam", Error: "AccessDenied"}}}, true,
			[]ledger.Problem{west, south, unlisted}},
		{"a Region still unreachable, the list failed", dhmc.Report{RoleChecked: true, Regions: all, Errors: []dhmc.RegionError{
			{Region: "me-south-1", Error: "timeout"}, {Region: "regions", Error: "AccessDenied"}}}, true,
			[]ledger.Problem{role, unreadable, west}},
		{"still blocked", dhmc.Report{RoleChecked: true, Regions: all, Results: []dhmc.Result{result("eu-west-1", dhmc.KindSettingWrongRole)}}, true,
			[]ledger.Problem{role, unreadable, south, unlisted}},
		{"nothing open", dhmc.Report{RoleChecked: true, Regions: all}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := open
			if tc.name == "nothing open" {
				o = nil
			}
			got := ledger.Resolved(o, ledger.CheckedOf(&tc.r, tc.fullScope))
			if !slices.Equal(got, tc.want) {
				t.Errorf("resolved %v, want %v", got, tc.want)
			}
		})
	}
}
