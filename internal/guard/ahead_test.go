package guard

import (
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// The states read ahead are worth reading only if they are the groups the
// run's own signals name: the candidates of an event must cover the signals
// of any finding its item can have, as ledger.SignalsOf makes them.
func TestAnEventsCandidatesCoverItsFindingsGroups(t *testing.T) {
	now := time.Date(2026, 3, 10, 9, 14, 3, 0, time.UTC)
	iamEvent := dhmc.Cause{
		Trigger: "cloudtrail", EventName: "DetachRolePolicy", EventSource: dhmc.EventSourceIAM, EventID: "e1",
		EventTime: now.Format(time.RFC3339), Actor: "user alice", ActorARN: "arn:aws:iam::123456789012:user/alice",
	}
	ssmEvent := dhmc.Cause{
		Trigger: "cloudtrail", EventName: "ResetServiceSetting", EventSource: dhmc.EventSourceSSM, EventID: "e2", Region: "eu-west-1",
		EventTime: now.Format(time.RFC3339), Actor: "role Admin (session bob)", ActorARN: "arn:aws:sts::123456789012:assumed-role/Admin/bob",
	}
	tests := []struct {
		name    string
		cause   dhmc.Cause
		results []dhmc.Result
	}{
		{"detached policy, repaired", iamEvent, []dhmc.Result{{Finding: dhmc.Finding{Kind: dhmc.KindManagedPolicyMissing}, Outcome: dhmc.OutcomeDone}}},
		{"trust policy and an inline policy, one failed", iamEvent, []dhmc.Result{
			{Finding: dhmc.Finding{Kind: dhmc.KindTrustPolicyDrift}, Outcome: dhmc.OutcomeDone},
			{Finding: dhmc.Finding{Kind: dhmc.KindUnexpectedInlinePolicy}, Outcome: dhmc.OutcomeFailed},
		}},
		{"setting reset", ssmEvent, []dhmc.Result{{Finding: dhmc.Finding{Kind: dhmc.KindSettingDisabled, Region: "eu-west-1", LastModifiedUser: "System"}, Outcome: dhmc.OutcomeDone}}},
	}
	for _, tt := range tests {
		cands := candidates(tt.cause, now)
		groups, items := map[ledger.GroupKey]bool{}, map[ledger.ItemKey]bool{}
		for _, c := range cands {
			groups[c.Group()], items[c.ItemKey()] = true, true
		}
		r := &dhmc.Report{Cause: tt.cause, StartedAt: now.Add(time.Second).Format(time.RFC3339), Results: tt.results}
		for _, s := range ledger.SignalsOf(r, nil, now) {
			if !groups[s.Group()] || !items[s.ItemKey()] {
				t.Errorf("%s: the signal of %s/%s (group %s) is not among the %d candidates", tt.name, s.Item, s.Kind, s.Group(), len(cands))
			}
		}
	}
	for _, c := range []dhmc.Cause{
		{Trigger: "schedule"}, // a sweep: who changed a setting is known once read
		{Trigger: "cloudtrail", EventSource: dhmc.EventSourceIAM, Actor: "user mallory", ErrorCode: "AccessDenied"},
	} {
		if got := candidates(c, now); got != nil {
			t.Errorf("%+v: %d candidates, want none", c, len(got))
		}
	}
}
