package dhmc

import (
	"strings"
	"testing"
	"time"
)

func TestTimingIsNeverNegativeNorBeyondWhatTheRunKnows(t *testing.T) {
	start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		event string
		ok    bool
		note  string
	}{
		{"2099-01-01T00:00:00Z", false, "in the future"},
		{"0001-01-01T00:00:00Z", false, "implausibly old"},
		{"2005-12-31T23:59:59Z", false, "implausibly old"},
		{start.Add(-91 * 24 * time.Hour).Format(time.RFC3339), false, "implausibly old"},
		{start.Add(4 * time.Minute).Format(time.RFC3339), true, ""}, // clock skew: detected 0
		{start.Add(-time.Minute).Format(time.RFC3339), true, ""},
	}
	for _, c := range cases {
		r := &Report{
			StartedAt: start.Format(time.RFC3339), DurationMs: 2000,
			Cause: Cause{Trigger: "cloudtrail", EventSource: EventSourceIAM, EventTime: c.event},
		}
		x := Result{Finding: Finding{Kind: KindUnexpectedManagedPolicy}, Outcome: OutcomeDone}
		tm, ok := TimingOf(r, x)
		if ok != c.ok {
			t.Errorf("%s: timing known %v, want %v (%+v)", c.event, ok, c.ok, tm)
		}
		if ok && (tm.Detected < 0 || tm.Repaired < 0 || tm.Repaired > MaxChangeAge+2*time.Second) {
			t.Errorf("%s: timing %+v", c.event, tm)
		}
		if note := EventTimeNote(r); !strings.Contains(note, c.note) || (c.note == "") != (note == "") {
			t.Errorf("%s: note %q, want one saying %q", c.event, note, c.note)
		}
	}
}
