package benchcheck

import (
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func TestWavesCountsRoundTripsOneAfterAnother(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(from, to int) awsemu.TimedCall {
		return awsemu.TimedCall{Start: t0.Add(time.Duration(from) * time.Millisecond), End: t0.Add(time.Duration(to) * time.Millisecond)}
	}
	tests := []struct {
		name  string
		calls []awsemu.TimedCall
		want  int
	}{
		{"none", nil, 0},
		{"one call", []awsemu.TimedCall{at(0, 20)}, 1},
		{"18 calls at once", func() []awsemu.TimedCall {
			var cs []awsemu.TimedCall
			for i := range 18 {
				cs = append(cs, at(i/6, 20+i/6))
			}
			return cs
		}(), 1},
		{"a Query, then the reads", []awsemu.TimedCall{at(0, 20), at(21, 41), at(21, 42), at(22, 41)}, 2},
		{"a late call beside a wave", []awsemu.TimedCall{at(0, 20), at(10, 30), at(31, 50)}, 2},
		{"five one after another, the log out of order", []awsemu.TimedCall{at(84, 104), at(0, 20), at(63, 83), at(21, 41), at(42, 62)}, 5},
		{"a publish starting as a write is answered", []awsemu.TimedCall{at(0, 20), at(20, 40)}, 2},
	}
	for _, tt := range tests {
		if got := waves(tt.calls); got != tt.want {
			t.Errorf("%s: %d waves, want %d", tt.name, got, tt.want)
		}
	}
}

func TestBeforeAndByCallerFilter(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	calls := []awsemu.TimedCall{
		{Call: awsemu.Call{Caller: "fn"}, Start: t0, End: t0.Add(20 * time.Millisecond)},
		{Call: awsemu.Call{Caller: "user"}, Start: t0, End: t0.Add(20 * time.Millisecond)},
		{Call: awsemu.Call{Caller: "fn"}, Start: t0.Add(21 * time.Millisecond), End: t0.Add(41 * time.Millisecond)},
	}
	if got := byCaller(calls, "fn"); len(got) != 2 || waves(got) != 2 {
		t.Errorf("byCaller kept %d calls", len(got))
	}
	if got := before(byCaller(calls, "fn"), t0.Add(30*time.Millisecond)); len(got) != 1 {
		t.Errorf("before kept %d calls, want the first", len(got))
	}
}
