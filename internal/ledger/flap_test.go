package ledger

import (
	"fmt"
	"testing"
)

// CloudTrail's eventTime has whole seconds: three repairs after three
// distinct events in one second (a tool re-applying in a loop) are three
// repairs, and escalate; the same event seen again is still one.
func TestRepairsOfDistinctEventsInOneSecondAllCount(t *testing.T) {
	cases := []struct {
		name     string
		eventIDs []string
		want     int // repairs counted
	}{
		{"three events", []string{"e1", "e2", "e3"}, 3},
		{"one event three times", []string{"e1", "e1", "e1"}, 1},
		{"no event IDs (sweeps)", []string{"", "", ""}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, DefaultPolicy())
			escalated := 0
			for _, id := range tc.eventIDs {
				sig := drift(t0)
				sig.EventID = id
				d := s.run(t0, sig)
				for _, g := range d.Sending() {
					if g.Flap != nil {
						escalated++
					}
				}
			}
			f := s.st.Flaps[drift(t0).ItemKey()]
			if got := len(f.Repairs); got != tc.want {
				t.Errorf("repairs counted = %d, want %d (%s)", got, tc.want, fmt.Sprint(f.Repairs))
			}
			if want := btoi(tc.want >= 3); escalated != want {
				t.Errorf("escalations = %d, want %d", escalated, want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestClaimOf(t *testing.T) {
	repaired, failed, denied := drift(t0), drift(t0), Signal{Item: "*", Kind: KindDenied, Actor: "x"}
	failed.Repaired, failed.Outcome = false, "failed"
	cases := []struct {
		name    string
		signals []Signal
		want    string
	}{
		{"a failure: a retry tells nothing twice", []Signal{failed}, "e1"},
		{"a denied attempt", []Signal{denied}, "e1"},
		{"a repair: a redelivery that repairs is news", []Signal{failed, repaired}, ""},
	}
	for _, tc := range cases {
		if got := ClaimOf("e1", tc.signals); got != tc.want {
			t.Errorf("%s: ClaimOf = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := ClaimOf("", []Signal{failed}); got != "" {
		t.Errorf("no event: ClaimOf = %q, want none", got)
	}
}
