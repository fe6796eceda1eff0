package ledger_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger/ledgertest"
)

// States read ahead that cover the run's signals spare Decide its read;
// ones that do not are read again; stale ones lose the race and are read
// again, so the windows decide on what is stored, never on an old copy.
func TestDecideAheadReadsOnlyWhatItLacksAndNeverDecidesOnAStaleCopy(t *testing.T) {
	emu := awsemu.StartTest(t)
	s, calls := ledgertest.NewTable(t, emuClient(emu), ledger.Options{})
	ctx := t.Context()
	at := ledgertest.Base
	in := driftInput(at)

	ahead, err := s.ReadAhead(ctx, in.Signals)
	if err != nil || ahead == nil {
		t.Fatalf("ReadAhead: %v, %v", ahead, err)
	}
	calls.Total()
	out, err := s.DecideAhead(ctx, in, ahead, compose)
	if err != nil || out.Alert == nil || !out.Recorded {
		t.Fatalf("first alert of a group, read ahead: %+v, %v", out, err)
	}
	if n := calls.Total(); n != 1 {
		t.Errorf("deciding with covering states made %d calls, want 1 (the write)", n)
	}

	// Candidates for another Region do not cover the run: Decide reads.
	other := ledgertest.DriftReport(at, "")
	other.Results[0].Region, other.Cause.Region = "us-east-1", "us-east-1"
	notCovering, err := s.ReadAhead(ctx, ledger.SignalsOf(other, nil, at))
	if err != nil {
		t.Fatal(err)
	}
	later := driftInput(at.Add(time.Minute))
	calls.Total()
	out, err = s.DecideAhead(ctx, later, notCovering, compose)
	if err != nil {
		t.Fatal(err)
	}
	if out.Alert != nil {
		t.Error("a repeat within the window was sent")
	}
	if n := calls.Total(); n != 2 {
		t.Errorf("deciding with states that do not cover the run made %d calls, want 2 (read, write)", n)
	}

}

// A read-ahead copy gone stale (another run stored the group since) loses
// the race and is read again: the windows decide as if it had not been
// read ahead at all.
func TestAStaleReadAheadDecidesAsAFreshRead(t *testing.T) {
	ctx := t.Context()
	at := ledgertest.Base
	type step struct {
		sent   bool
		reason []ledger.Reason
	}
	runs := func(ahead bool) []step {
		s, _ := ledgertest.NewTable(t, emuClient(awsemu.StartTest(t)), ledger.Options{})
		var out []step
		var stale *ledger.Ahead
		for i := range 4 {
			in := driftInput(at.Add(time.Duration(i) * time.Minute))
			if i == 1 {
				a, err := s.ReadAhead(ctx, in.Signals)
				if err != nil {
					t.Fatal(err)
				}
				stale = a
			}
			var o ledger.Outcome
			var err error
			if ahead && i == 3 {
				o, err = s.DecideAhead(ctx, in, stale, compose)
			} else {
				o, err = s.Decide(ctx, in, compose)
			}
			if err != nil {
				t.Fatal(err)
			}
			st := step{sent: o.Alert != nil}
			for _, g := range o.Decisions.Groups {
				st.reason = append(st.reason, g.Reason)
			}
			out = append(out, st)
		}
		return out
	}
	fresh, withStale := runs(false), runs(true)
	for i := range fresh {
		if fresh[i].sent != withStale[i].sent || fmt.Sprint(fresh[i].reason) != fmt.Sprint(withStale[i].reason) {
			t.Errorf("run %d: fresh read %+v, stale read-ahead %+v", i+1, fresh[i], withStale[i])
		}
	}
}
