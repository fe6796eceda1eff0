package dhmc

import (
	"fmt"
	"time"
)

// Bounds of a plausible change time, relative to the run that saw it.
// CloudTrail stamps events with the caller's AWS clock, but the event is
// the caller's to shape in tests, replays and forged EventBridge input: a
// time past these bounds is not believed.
const (
	// FutureSkew is how far ahead of the run a change may seem (clock skew
	// between services); later ones are taken as the run's time.
	FutureSkew = 5 * time.Minute
	// MaxChangeAge is how old a change the run can vouch for: the ledger's
	// default retention. A sweep runs at least daily, so an older change
	// time is not what made this run find the item.
	MaxChangeAge = 90 * 24 * time.Hour
)

// Earliest is the earliest plausible change time: AWS's first services.
var Earliest = time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC)

// TimeSanity says how a claimed time relates to the run's.
type TimeSanity int

const (
	// TimeOK: within [now-MaxChangeAge, now+FutureSkew] and after Earliest.
	TimeOK TimeSanity = iota
	// TimeFuture: more than FutureSkew after now; treat it as now.
	TimeFuture
	// TimeTooOld: before Earliest or older than MaxChangeAge; unknown.
	TimeTooOld
)

// SaneTime classifies t against the run's time now.
func SaneTime(t, now time.Time) TimeSanity {
	switch {
	case t.After(now.Add(FutureSkew)):
		return TimeFuture
	case t.Before(Earliest) || t.Before(now.Add(-MaxChangeAge)):
		return TimeTooOld
	}
	return TimeOK
}

// ChangedAt is when the change behind a finding was made, as far as the run
// can tell: the CloudTrail event's time when the event was about the same
// thing (the role, or the setting in that Region), else the setting's
// LastModifiedDate. False when neither is known (a role seen by a sweep:
// IAM keeps no modification time). The time is as claimed: TimingOf
// checks it against the run's.
func ChangedAt(x Result, c Cause) (time.Time, bool) {
	sameThing := (x.Region == "" && c.EventSource == EventSourceIAM) ||
		(x.Region != "" && c.SettingEvent() && c.Region == x.Region)
	if c.Trigger == "cloudtrail" && sameThing {
		if t, err := time.Parse(time.RFC3339, c.EventTime); err == nil {
			return t, true
		}
	}
	if t, err := time.Parse(time.RFC3339, x.LastModifiedDate); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// Timing is how long after a change the run saw it and repaired it.
type Timing struct {
	ChangedAt time.Time
	// Detected is from the change to the run's start; Repaired to its end
	// (the repair's own time is within the run's).
	Detected, Repaired time.Duration
}

// TimingOf returns the timing of a repaired finding of r, false when the
// change's time is unknown, implausible (SaneTime: in the future beyond the
// skew, before 2006 or older than MaxChangeAge), or the finding was not
// repaired. Both durations are from 0 to MaxChangeAge plus the run's own
// duration: never negative, never more than the run can vouch for.
func TimingOf(r *Report, x Result) (Timing, bool) {
	if x.Outcome != OutcomeDone {
		return Timing{}, false
	}
	changed, ok := ChangedAt(x, r.Cause)
	start, err := time.Parse(time.RFC3339, r.StartedAt)
	if !ok || err != nil || SaneTime(changed, start) != TimeOK {
		return Timing{}, false
	}
	end := start.Add(time.Duration(max(r.DurationMs, 0)) * time.Millisecond)
	t := Timing{ChangedAt: changed, Detected: max(start.Sub(changed), 0), Repaired: max(end.Sub(changed), 0)}
	return t, true
}

// EventTimeNote says, for people, how a run treated an implausible event
// time ("" when the time is plausible or absent). The time is re-formatted
// from its parsed value, so nothing of the event's text reaches the alert.
func EventTimeNote(r *Report) string {
	if r == nil || r.Cause.EventTime == "" {
		return ""
	}
	start, err := time.Parse(time.RFC3339, r.StartedAt)
	if err != nil {
		return ""
	}
	t, err := time.Parse(time.RFC3339, r.Cause.EventTime)
	if err != nil {
		return "(the event time is not a valid time: the run's time is used instead)"
	}
	switch SaneTime(t, start) {
	case TimeFuture:
		return fmt.Sprintf("(event time %s is in the future: the alert windows and flapping use the run's time, %s)",
			t.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	case TimeTooOld:
		return fmt.Sprintf("(event time %s is implausibly old: taken as unknown; the alert windows and flapping use the run's time, %s)",
			t.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	return ""
}
