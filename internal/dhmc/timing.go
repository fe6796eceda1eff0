package dhmc

import "time"

// ChangedAt is when the change behind a finding was made, as far as the run
// can tell: the CloudTrail event's time when the event was about the same
// thing (the role, or the setting in that Region), else the setting's
// LastModifiedDate. False when neither is known (a role seen by a sweep:
// IAM keeps no modification time).
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
// change's time is unknown or the finding was not repaired.
func TimingOf(r *Report, x Result) (Timing, bool) {
	if x.Outcome != OutcomeDone {
		return Timing{}, false
	}
	changed, ok := ChangedAt(x, r.Cause)
	start, err := time.Parse(time.RFC3339, r.StartedAt)
	if !ok || err != nil {
		return Timing{}, false
	}
	end := start.Add(time.Duration(r.DurationMs) * time.Millisecond)
	t := Timing{ChangedAt: changed, Detected: max(start.Sub(changed), 0), Repaired: max(end.Sub(changed), 0)}
	return t, true
}
