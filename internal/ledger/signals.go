package ledger

import (
	"cmp"
	"strings"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// ItemRole is the item of the role's findings (they have no Region), as
// dhmc.RegionError names it.
const ItemRole = "iam"

// Kinds of signal beside the dhmc.Kind of a finding.
const (
	// KindDenied is a denied attempt on the role or the setting.
	KindDenied = "denied"
	// KindRegionUnreachable is a Region that could not be read or repaired.
	KindRegionUnreachable = "region-unreachable"
	// KindRegionExcluded is a Region left out (for example denied by an SCP
	// and excluded by the operator); reported like an unreachable one.
	KindRegionExcluded = "region-excluded"
)

// Signal is one thing a run has to tell: a finding of an item, an
// unreachable Region, or a denied attempt.
type Signal struct {
	// Item is the Region, or ItemRole for the role.
	Item string
	// Kind is a dhmc.Kind or one of the Kind constants above.
	Kind string
	// Actor is the readable who ("role Admin (session bob)"), "" when
	// unknown; ActorARN the principal's ARN when known.
	Actor, ActorARN string
	// UserAgent and InvokedBy (an AWS service that called on the actor's
	// behalf) say which tool made the change; see LikelyCause.
	UserAgent, InvokedBy string
	// Severity is high, medium or low ("" counts as medium).
	Severity string
	// Repaired is set when the run repaired the item: repairs count
	// towards flapping.
	Repaired bool
	// At is when it happened (the event's time, else the run's).
	At      time.Time
	EventID string
	// Outcome of the finding's action (dhmc.Outcome), for the history.
	Outcome string
	// What is what changed (a policy ARN, an inline policy's name and
	// document, a trust policy, a setting's value), "" for kinds where
	// any repeat is the same news (an unreachable Region, a denied call).
	// It is part of the group: a different change is never a repeat.
	What string
	// Widens is set for a finding that widens the role (dhmc.Escalates):
	// a new occurrence of one is never held back by a window.
	Widens bool
}

// GroupKey is a finding group: item + kind + actor (alerting.md), and what
// changed when the kind has a what (WhatOf). Denied attempts group by actor
// alone, whatever they tried.
type GroupKey string

// ItemKey is an item and kind, the unit of flapping.
type ItemKey string

// Group returns the signal's group.
func (s Signal) Group() GroupKey {
	k := s.groupItem() + "|" + s.Kind + "|" + ActorKey(s.ActorARN, s.Actor)
	if s.What != "" {
		k += "|" + whatKey(s.What)
	}
	return GroupKey(k)
}

func (s Signal) groupItem() string {
	if s.Kind == KindDenied {
		return "*"
	}
	return s.Item
}

// ItemKey returns the signal's item and kind.
func (s Signal) ItemKey() ItemKey { return ItemKey(s.Item + "|" + s.Kind) }

func (s Signal) sighting() Sighting {
	return Sighting{Actor: s.Actor, At: s.At, UserAgent: s.UserAgent, InvokedBy: s.InvokedBy, EventID: s.EventID}
}

// ActorKey is the stable identity of an actor for grouping and history: the
// principal's ARN with an assumed role's session name dropped (a CI job's
// session changes every run), except for IAM Identity Center roles, whose
// session is the person. Without an ARN it is the readable name, and
// "unknown" when there is neither.
func ActorKey(arn, name string) string {
	arn = strings.TrimSpace(arn)
	if arn == "" || arn == "System" {
		return cmp.Or(strings.TrimSpace(name), "unknown")
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[2] == "sts" && strings.HasPrefix(parts[5], "assumed-role/") {
		role, _, ok := strings.Cut(strings.TrimPrefix(parts[5], "assumed-role/"), "/")
		if ok && !strings.HasPrefix(role, "AWSReservedSSO_") {
			return strings.Join(parts[:5], ":") + ":assumed-role/" + role
		}
	}
	return arn
}

// Sighting is one occurrence: who and when, and the tool they used.
type Sighting struct {
	Actor     string    `dynamodbav:"actor,omitempty" json:"actor,omitempty"`
	At        time.Time `dynamodbav:"at" json:"at"`
	UserAgent string    `dynamodbav:"userAgent,omitempty" json:"userAgent,omitempty"`
	InvokedBy string    `dynamodbav:"invokedBy,omitempty" json:"invokedBy,omitempty"`
	// EventID is the CloudTrail event behind it, when there was one.
	EventID string `dynamodbav:"eventId,omitempty" json:"eventId,omitempty"`
}

// same reports whether two sightings are one occurrence: the same event,
// or, when either has no event ID, the same actor at the same time. Event
// times have whole seconds, so distinct events in one second stay apart.
func (a Sighting) same(b Sighting) bool {
	if a.EventID != "" && b.EventID != "" {
		return a.EventID == b.EventID
	}
	return a.At.Equal(b.At) && a.Actor == b.Actor
}

// GroupState is what the ledger remembers of a group between runs.
type GroupState struct {
	Key       GroupKey  `dynamodbav:"group"`
	Item      string    `dynamodbav:"item"`
	Kind      string    `dynamodbav:"kind"`
	Actor     string    `dynamodbav:"actor,omitempty"`
	What      string    `dynamodbav:"what,omitempty"`
	FirstSeen time.Time `dynamodbav:"firstSeen"`
	LastSent  time.Time `dynamodbav:"lastSent"`
	// Suppressed counts the runs that saw the group since LastSent without
	// sending; SuppressedSince is the first of them.
	Suppressed      int       `dynamodbav:"suppressed"`
	SuppressedSince time.Time `dynamodbav:"suppressedSince"`
	// Seen are the actors and times since the last message (bounded).
	Seen []Sighting `dynamodbav:"seen"`
	// Severity is the severity last sent.
	Severity  string `dynamodbav:"severity"`
	Escalated bool   `dynamodbav:"escalated"`
	// Version is the optimistic-concurrency version: the store writes a
	// state only over the version it read.
	Version int `dynamodbav:"version"`
}

func (g GroupState) digest(interval time.Duration) *Digest {
	return &Digest{
		Group: g.Key, Item: g.Item, Kind: g.Kind, Actor: g.Actor, What: g.What,
		Count: g.Suppressed, Since: g.SuppressedSince, Seen: g.Seen,
		Due: g.LastSent.Add(interval), Severity: g.Severity, Version: g.Version,
	}
}

// Digest is what was counted and not sent: "N more since <time>".
type Digest struct {
	Group GroupKey `json:"group"`
	Item  string   `json:"item"`
	Kind  string   `json:"kind"`
	Actor string   `json:"actor,omitempty"`
	// What is what changed, so a digest names what it covers.
	What     string     `json:"what,omitempty"`
	Count    int        `json:"count"`
	Since    time.Time  `json:"since"`
	Seen     []Sighting `json:"seen,omitempty"`
	Due      time.Time  `json:"due"`
	Severity string     `json:"severity"`
	Version  int        `json:"-" dynamodbav:"-"`
}

// FlapState is an item's repairs over the last FlapPeriod.
type FlapState struct {
	Key     ItemKey    `dynamodbav:"itemKey"`
	Item    string     `dynamodbav:"item"`
	Kind    string     `dynamodbav:"kind"`
	Repairs []Sighting `dynamodbav:"repairs"`
	// EscalatedAt is when the current episode escalated; zero when none is on.
	EscalatedAt time.Time `dynamodbav:"escalatedAt"`
	// BackoffUntil: with Policy.Backoff, the item is not repaired before.
	BackoffUntil time.Time `dynamodbav:"backoffUntil"`
	Version      int       `dynamodbav:"version"`
}

// Flapping reports whether the item's escalated episode is still on at now.
func (f FlapState) Flapping(now time.Time, p Policy) bool {
	if f.EscalatedAt.IsZero() {
		return false
	}
	p = p.withDefaults()
	n := 0
	for _, r := range f.Repairs {
		if r.At.After(now.Add(-p.FlapPeriod)) && plausible(r.At, now) {
			n++
		}
	}
	return n >= p.FlapThreshold
}

// States are the stored states a run's decisions start from.
type States struct {
	// Available is false when the ledger could not be read.
	Available bool
	Groups    map[GroupKey]GroupState
	Flaps     map[ItemKey]FlapState
}

// SignalsOf turns a report into signals: one per finding, one per Region
// error, and a denied signal for a denied attempt with no findings. The
// severity of a finding is severity(result), or, when severity is nil, high
// for a failed repair and medium otherwise. Region errors are high, denied
// attempts low. now stands in for a time the report does not carry.
func SignalsOf(r *dhmc.Report, severity func(dhmc.Result) string, now time.Time) []Signal {
	if r == nil {
		return nil
	}
	runAt := now
	if t, err := time.Parse(time.RFC3339, r.StartedAt); err == nil {
		runAt = t
	}
	c := r.Cause
	// An implausible event time (dhmc.SaneTime) is the run's time: one
	// dated 2099 would otherwise stay in the flap window for ever.
	eventAt := saneOr(c.EventTime, runAt)
	invokedBy := ""
	if strings.HasSuffix(c.SourceIP, ".amazonaws.com") {
		// CloudTrail puts the calling service in sourceIPAddress when a
		// service acts on a principal's behalf.
		invokedBy = c.SourceIP
	}
	var out []Signal
	for _, x := range r.Results {
		s := Signal{
			Item: cmp.Or(x.Region, ItemRole), Kind: string(x.Kind), At: runAt,
			// A change someone else made first (Note) is not the guard's repair.
			Repaired: x.Outcome == dhmc.OutcomeDone && x.Note == "", Outcome: string(x.Outcome), EventID: c.EventID,
			What: WhatOf(x.Finding), Widens: dhmc.Escalates(x.Finding),
		}
		switch {
		case severity != nil:
			s.Severity = severity(x)
		case x.Outcome == dhmc.OutcomeFailed:
			s.Severity = SeverityHigh
		default:
			s.Severity = SeverityMedium
		}
		causedIt := c.Actor != "" && ((x.Region == "" && c.EventSource == dhmc.EventSourceIAM) ||
			(x.Region != "" && c.SettingEvent() && c.Region == x.Region))
		switch {
		case causedIt:
			s.Actor, s.ActorARN, s.UserAgent, s.InvokedBy, s.At = c.Actor, c.ActorARN, c.UserAgent, invokedBy, eventAt
		case x.LastModifiedUser != "" && x.LastModifiedUser != "System":
			// SSM's LastModifiedUser is not an audit trail, but it is the
			// only "who" a sweep has.
			s.Actor, s.ActorARN = dhmc.Who(x.LastModifiedUser), x.LastModifiedUser
			s.At = saneOr(x.LastModifiedDate, runAt)
		}
		out = append(out, s)
	}
	for _, e := range r.Errors {
		// An unreadable role or Region list is its own kind, in the normal
		// window: only a Region that cannot be reached is told once a day.
		out = append(out, Signal{Item: cmp.Or(e.Region, ItemRole), Kind: string(dhmc.ErrorKind(e)), Severity: SeverityHigh, At: runAt, Outcome: string(dhmc.OutcomeFailed)})
	}
	if len(r.Results) == 0 && c.ErrorCode != "" {
		item := ItemRole
		if c.SettingEvent() {
			item = cmp.Or(c.Region, ItemRole)
		}
		out = append(out, Signal{
			Item: item, Kind: KindDenied, Actor: c.Actor, ActorARN: c.ActorARN, UserAgent: c.UserAgent,
			InvokedBy: invokedBy, Severity: SeverityLow, At: eventAt, EventID: c.EventID, Outcome: "denied",
		})
	}
	return out
}
