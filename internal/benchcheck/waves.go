package benchcheck

import (
	"slices"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

// waves is how many round trips of calls lay one after another: the longest
// chain of calls each of which started after the one before it was
// answered. Calls made at once overlap and count once, whatever their
// number; a call that waited for another's answer adds one. With latency on
// every call, it is what the time of a run is made of.
func waves(calls []awsemu.TimedCall) int {
	if len(calls) == 0 {
		return 0
	}
	// The longest chain of intervals that do not overlap: the greedy pick
	// by earliest end is optimal.
	s := slices.Clone(calls)
	slices.SortFunc(s, func(a, b awsemu.TimedCall) int { return a.End.Compare(b.End) })
	n := 0
	var last time.Time
	for _, c := range s {
		if n == 0 || !c.Start.Before(last) {
			n++
			last = c.End
		}
	}
	return n
}

// byCaller keeps the calls of one caller (the function's).
func byCaller(calls []awsemu.TimedCall, caller string) []awsemu.TimedCall {
	return slices.DeleteFunc(slices.Clone(calls), func(c awsemu.TimedCall) bool { return c.Caller != caller })
}

// before keeps the calls answered before t.
func before(calls []awsemu.TimedCall, t time.Time) []awsemu.TimedCall {
	return slices.DeleteFunc(slices.Clone(calls), func(c awsemu.TimedCall) bool { return c.End.After(t) })
}
