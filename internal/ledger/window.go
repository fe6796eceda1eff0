package ledger

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// Policy holds the alert window rules (alerting.md): how long a group stays
// quiet after it was told, when an item counts as flapping, how often a
// Region that cannot be reached is reported.
type Policy struct {
	// Window is the dedup window of a group: repeats within it are counted,
	// not sent (Alertmanager's group_interval). Default 1 h.
	Window time.Duration
	// FlapThreshold repairs of one item within FlapPeriod escalate it to
	// high severity, once. Defaults 3 and 24 h.
	FlapThreshold int
	FlapPeriod    time.Duration
	// RegionInterval is the window of an unreachable or excluded Region:
	// reported at most once in it. Default 24 h.
	RegionInterval time.Duration
	// Backoff stops repairing a flapping item for one Window after it
	// escalates (it is still reported). Default off.
	Backoff bool
}

// DefaultPolicy is the policy of alerting.md.
func DefaultPolicy() Policy {
	return Policy{Window: time.Hour, FlapThreshold: 3, FlapPeriod: 24 * time.Hour, RegionInterval: 24 * time.Hour}
}

func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.Window <= 0 {
		p.Window = d.Window
	}
	if p.FlapThreshold <= 0 {
		p.FlapThreshold = d.FlapThreshold
	}
	if p.FlapPeriod <= 0 {
		p.FlapPeriod = d.FlapPeriod
	}
	if p.RegionInterval <= 0 {
		p.RegionInterval = d.RegionInterval
	}
	return p
}

// interval is the quiet time of a group of kind.
func (p Policy) interval(kind string) time.Duration {
	if kind == KindRegionUnreachable || kind == KindRegionExcluded || kind == KindLedgerSkipped {
		return p.RegionInterval
	}
	return p.Window
}

// Severity values, the alert package's: only high should wake someone.
const (
	SeverityHigh   = "high"
	SeverityMedium = "medium"
	SeverityLow    = "low"
)

func rank(sev string) int {
	switch sev {
	case SeverityHigh:
		return 3
	case SeverityLow:
		return 1
	}
	return 2
}

// Reason says why a group is sent or suppressed.
type Reason string

const (
	// ReasonFirst: the first alert of a group is never suppressed.
	ReasonFirst Reason = "first"
	// ReasonSeverityChanged: the group's severity differs from what was last sent.
	ReasonSeverityChanged Reason = "severity-changed"
	// ReasonWidens: a new occurrence of a change that widens the role
	// (an admin-grade or wildcard policy, a wider trust): never held back.
	ReasonWidens Reason = "widens"
	// ReasonFlapping: the item was repaired FlapThreshold times in
	// FlapPeriod; escalated to high, once.
	ReasonFlapping Reason = "flapping"
	// ReasonWindowClosed: the window since the last message is over; the
	// message carries the digest of what was suppressed meanwhile.
	ReasonWindowClosed Reason = "window-closed"
	// ReasonSuppressed: a repeat within the window, counted for the digest.
	ReasonSuppressed Reason = "suppressed"
	// ReasonLedgerUnavailable: the group state could not be read or stored,
	// so the alert is sent (fail open).
	ReasonLedgerUnavailable Reason = "ledger-unavailable"
)

// Decision is what to do about one group in this run.
type Decision struct {
	Group GroupKey
	Item  string
	Kind  string
	Actor string
	// Signals are this run's signals of the group.
	Signals  []Signal
	Send     bool
	Reason   Reason
	Severity string // to send with (high when escalated)
	// Digest: with Send, the repeats since the last message, to report in
	// this one ("N more since <time>"), nil when there were none; without
	// Send, the pending digest, due when the window closes.
	Digest *Digest
	// Flap is set on the one message that escalates a flapping item.
	Flap *Flap
}

// Flap is an escalation: who repaired what, when, and what usually causes it.
type Flap struct {
	Item, Kind string
	// Repairs in FlapPeriod, oldest first.
	Repairs []Sighting
	// LikelyCause is LikelyCause's phrase for the commonest recognised
	// actor, "" when none was recognised.
	LikelyCause string
}

// Decisions is the outcome of one run's window rules.
type Decisions struct {
	// Groups, by group key.
	Groups []Decision
	// States and Flaps are the new states to store; Version is the version
	// read (0: new), so the store writes only over what was read.
	States []GroupState
	Flaps  []FlapState
	// Available is false when the decisions were made without group state
	// (fail open: everything is sent).
	Available bool
}

// Send reports whether any group is to be sent now.
func (d Decisions) Send() bool {
	return slices.ContainsFunc(d.Groups, func(g Decision) bool { return g.Send })
}

// Sending returns the groups to send now.
func (d Decisions) Sending() []Decision {
	var out []Decision
	for _, g := range d.Groups {
		if g.Send {
			out = append(out, g)
		}
	}
	return out
}

// Severity is the highest severity among the groups sent now, "" when none.
func (d Decisions) Severity() string {
	best := ""
	for _, g := range d.Sending() {
		if best == "" || rank(g.Severity) > rank(best) {
			best = g.Severity
		}
	}
	return best
}

// Backoff reports whether the item (Region or ItemRole) and kind must not be
// repaired at now: it escalated as flapping and Policy.Backoff is on.
func (d Decisions) Backoff(item, kind string, now time.Time) bool {
	for _, f := range d.Flaps {
		if f.Item == item && f.Kind == kind && now.Before(f.BackoffUntil) {
			return true
		}
	}
	return false
}

// maxSightings bounds the actors and times a state keeps.
const maxSightings = 20

// Decide applies the window rules to one run's signals, given the stored
// states (States.Available false: the ledger could not be read) at now.
//
// For each group it returns one decision: send the first of a group, a
// change of severity, a flapping escalation, or a repeat after the window
// closed (with the digest of the repeats); otherwise suppress and count.
// Without states everything is sent. It also returns the new states to
// store, and flap states for the items repaired in this run.
func Decide(signals []Signal, st States, now time.Time, p Policy) Decisions {
	p = p.withDefaults()
	byGroup := map[GroupKey][]Signal{}
	for _, s := range signals {
		byGroup[s.Group()] = append(byGroup[s.Group()], s)
	}
	keys := slices.Sorted(maps.Keys(byGroup))
	if !st.Available {
		d := Decisions{}
		for _, k := range keys {
			sigs := byGroup[k]
			d.Groups = append(d.Groups, Decision{
				Group: k, Item: sigs[0].groupItem(), Kind: sigs[0].Kind, Actor: sigs[0].Actor, Signals: sigs,
				Send: true, Reason: ReasonLedgerUnavailable, Severity: maxSeverity(sigs),
			})
		}
		return d
	}

	flaps, escalating := decideFlaps(signals, st.Flaps, now, p)
	current := maps.Clone(st.Flaps)
	if current == nil {
		current = map[ItemKey]FlapState{}
	}
	maps.Copy(current, flaps)
	d := Decisions{Available: true}
	for _, k := range keys {
		sigs := byGroup[k]
		prev, known := st.Groups[k]
		dec, next := decideGroup(k, sigs, prev, known, current, escalating, now, p)
		d.Groups = append(d.Groups, dec)
		d.States = append(d.States, next)
	}
	for _, ik := range slices.Sorted(maps.Keys(flaps)) {
		d.Flaps = append(d.Flaps, flaps[ik])
	}
	return d
}

// decideFlaps records this run's repairs per item and finds the items that
// start flapping now.
func decideFlaps(signals []Signal, stored map[ItemKey]FlapState, now time.Time, p Policy) (map[ItemKey]FlapState, map[ItemKey]*Flap) {
	out := map[ItemKey]FlapState{}
	escalating := map[ItemKey]*Flap{}
	for _, s := range signals {
		if !s.Repaired {
			continue
		}
		ik := s.ItemKey()
		f, ok := out[ik]
		if !ok {
			f = stored[ik]
			f.Key, f.Item, f.Kind = ik, s.Item, s.Kind
			f.Repairs = slices.DeleteFunc(slices.Clone(f.Repairs), func(r Sighting) bool {
				return !r.At.After(now.Add(-p.FlapPeriod)) || !plausible(r.At, now)
			})
		}
		sight := s.sighting()
		if !slices.ContainsFunc(f.Repairs, sight.same) {
			f.Repairs = append(f.Repairs, sight)
		}
		out[ik] = f
	}
	for ik, f := range out {
		slices.SortFunc(f.Repairs, func(a, b Sighting) int { return a.At.Compare(b.At) })
		if len(f.Repairs) > maxSightings {
			f.Repairs = f.Repairs[len(f.Repairs)-maxSightings:]
		}
		switch {
		case len(f.Repairs) < p.FlapThreshold:
			// Below the threshold the episode is over: a new one escalates again.
			f.EscalatedAt = time.Time{}
		case f.EscalatedAt.IsZero():
			f.EscalatedAt = now
			if p.Backoff {
				f.BackoffUntil = now.Add(p.Window)
			}
			escalating[ik] = &Flap{Item: f.Item, Kind: f.Kind, Repairs: slices.Clone(f.Repairs), LikelyCause: commonCause(f.Repairs)}
		}
		out[ik] = f
	}
	return out, escalating
}

func decideGroup(k GroupKey, sigs []Signal, prev GroupState, known bool, flaps map[ItemKey]FlapState, escalating map[ItemKey]*Flap, now time.Time, p Policy) (Decision, GroupState) {
	first := sigs[0]
	sev := maxSeverity(sigs)
	var flap *Flap
	flapping := false
	for _, s := range sigs {
		ik := s.ItemKey()
		if f, ok := escalating[ik]; ok && flap == nil {
			flap = f
		}
		if f, ok := flaps[ik]; ok && f.Flapping(now, p) {
			flapping = true
		}
	}
	if flapping {
		sev = SeverityHigh
	}
	dec := Decision{Group: k, Item: first.groupItem(), Kind: first.Kind, Actor: first.Actor, Signals: sigs, Severity: sev}
	next := prev
	next.Key, next.Item, next.Kind, next.Actor, next.What = k, first.groupItem(), first.Kind, first.Actor, first.What
	var seen []Sighting
	for _, s := range sigs {
		seen = append(seen, s.sighting())
	}
	interval := p.interval(first.Kind)
	switch {
	case flap != nil:
		dec.Send, dec.Reason, dec.Flap, dec.Severity = true, ReasonFlapping, flap, SeverityHigh
	case !known:
		dec.Send, dec.Reason = true, ReasonFirst
	case rank(sev) != rank(prev.Severity):
		dec.Send, dec.Reason = true, ReasonSeverityChanged
	case widensAgain(sigs, prev):
		dec.Send, dec.Reason = true, ReasonWidens
	case !now.Before(prev.LastSent.Add(interval)):
		dec.Send, dec.Reason = true, ReasonWindowClosed
	default:
		dec.Reason = ReasonSuppressed
	}
	if dec.Send {
		if known && prev.Suppressed > 0 {
			dec.Digest = prev.digest(interval)
		}
		if !known {
			next.FirstSeen = now
		}
		next.LastSent, next.Suppressed, next.SuppressedSince = now, 0, time.Time{}
		next.Seen = bounded(seen)
		next.Severity = dec.Severity
		next.Escalated = dec.Severity == SeverityHigh && (flap != nil || flapping)
		return dec, next
	}
	next.Suppressed++
	if next.SuppressedSince.IsZero() {
		next.SuppressedSince = minTime(seen)
	}
	next.Seen = bounded(append(slices.Clone(prev.Seen), seen...))
	dec.Digest = next.digest(interval)
	return dec, next
}

// widensAgain reports a new occurrence of a widening change: the run
// repaired it (so it was made again since the last repair), or an event
// not yet seen in the group made it. A sweep that sees the same widening
// still in place (detect mode) is a repeat: it was told when it happened.
func widensAgain(sigs []Signal, prev GroupState) bool {
	for _, s := range sigs {
		if !s.Widens {
			continue
		}
		if s.Repaired {
			return true
		}
		if s.EventID != "" && !slices.ContainsFunc(prev.Seen, func(x Sighting) bool { return x.EventID == s.EventID }) {
			return true
		}
	}
	return false
}

func bounded(s []Sighting) []Sighting {
	if len(s) > maxSightings {
		return s[len(s)-maxSightings:]
	}
	return s
}

func minTime(s []Sighting) time.Time {
	var m time.Time
	for _, x := range s {
		if m.IsZero() || x.At.Before(m) {
			m = x.At
		}
	}
	return m
}

func maxSeverity(sigs []Signal) string {
	best := ""
	for _, s := range sigs {
		sev := cmp.Or(s.Severity, SeverityMedium)
		if best == "" || rank(sev) > rank(best) {
			best = sev
		}
	}
	return best
}

// AfterDigest is a group's state once its pending digest was sent at now:
// the digest counts as the group's message, so its window starts again.
func AfterDigest(g GroupState, now time.Time) GroupState {
	g.LastSent, g.Suppressed, g.SuppressedSince, g.Seen = now, 0, time.Time{}, nil
	return g
}

// DueDigests returns the pending digests whose window has closed at now.
func DueDigests(pending []Digest, now time.Time) []Digest {
	var out []Digest
	for _, d := range pending {
		if !now.Before(d.Due) {
			out = append(out, d)
		}
	}
	return out
}
