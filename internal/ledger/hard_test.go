package ledger

import (
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

const adminARN = "arn:aws:iam::aws:policy/AdministratorAccess"

func attach(policy, event string, at time.Time, repaired bool) Signal {
	f := dhmc.Finding{Kind: dhmc.KindUnexpectedManagedPolicy, Observed: policy, Target: policy, Action: dhmc.ActionDetachPolicy}
	return Signal{
		Item: ItemRole, Kind: string(f.Kind), Actor: "user mallory", ActorARN: "arn:aws:iam::123456789012:user/mallory",
		Severity: SeverityHigh, Repaired: repaired, At: at, EventID: event, What: WhatOf(f), Widens: dhmc.Escalates(f),
	}
}

func TestANewOrWorseChangeSpeaksAtOnce(t *testing.T) {
	full := "arn:aws:iam::aws:policy/IAMFullAccess"
	cases := []struct {
		name   string
		second Signal
		send   bool
		reason Reason
	}{
		{"another policy by the same actor is another group", attach(full, "e2", t0.Add(10*time.Minute), false), true, ReasonFirst},
		{"the same widening re-made (new event) is never held back", attach(adminARN, "e2", t0.Add(10*time.Minute), false), true, ReasonWidens},
		{"the same widening repaired again is never held back", attach(adminARN, "", t0.Add(10*time.Minute), true), true, ReasonWidens},
		{"a sweep seeing the same widening still there is a repeat", attach(adminARN, "", t0.Add(10*time.Minute), false), false, ReasonSuppressed},
		{"a redelivery of the same event is a repeat", attach(adminARN, "e1", t0.Add(10*time.Minute), false), false, ReasonSuppressed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSim(t, Policy{})
			if d := s.run(t0, attach(adminARN, "e1", t0, false)); !d.Send() {
				t.Fatal("the first change was not sent")
			}
			d := s.run(c.second.At, c.second)
			g := d.Groups[0]
			if g.Send != c.send || g.Reason != c.reason {
				t.Fatalf("second change: send %v reason %s, want %v %s", g.Send, g.Reason, c.send, c.reason)
			}
		})
	}
}

func TestTheGroupNamesWhatChanged(t *testing.T) {
	a, b := attach(adminARN, "e1", t0, false), attach("arn:aws:iam::aws:policy/IAMFullAccess", "e2", t0, false)
	if a.Group() == b.Group() {
		t.Fatalf("two policies share group %s", a.Group())
	}
	inline := func(doc string) Signal {
		return Signal{Item: ItemRole, Kind: string(dhmc.KindUnexpectedInlinePolicy),
			What: WhatOf(dhmc.Finding{Kind: dhmc.KindUnexpectedInlinePolicy, Observed: "p", Document: doc})}
	}
	if inline(`{"a":1}`).Group() == inline(`{"a":2}`).Group() {
		t.Fatal("the same inline name with another statement shares a group")
	}
	// Kinds without a what keep one group whatever their text says.
	u1 := WhatOf(dhmc.Finding{Kind: dhmc.KindRegionUnreachable, Observed: "request id 1"})
	u2 := WhatOf(dhmc.Finding{Kind: dhmc.KindRegionUnreachable, Observed: "request id 2"})
	if u1 != "" || u2 != "" {
		t.Fatalf("an unreachable Region got a what: %q %q", u1, u2)
	}
	long := WhatOf(dhmc.Finding{Kind: dhmc.KindTrustPolicyDrift, Observed: string(make([]byte, 5000))})
	if len(long) > maxWhat+8 {
		t.Fatalf("what is %d bytes", len(long))
	}
	if k := (Signal{Item: ItemRole, Kind: "k", What: long}).Group(); len(k) > 200 {
		t.Fatalf("group key is %d bytes", len(k))
	}
}

func TestDigestsNameWhatTheyCover(t *testing.T) {
	s := newSim(t, Policy{})
	s.run(t0, attach(adminARN, "", t0, false))
	d := s.run(t0.Add(time.Minute), attach(adminARN, "", t0.Add(time.Minute), false))
	if d.Groups[0].Send || d.Groups[0].Digest == nil || d.Groups[0].Digest.What != adminARN {
		t.Fatalf("digest %+v does not name %s", d.Groups[0].Digest, adminARN)
	}
}

func TestImplausibleEventTimesAreTheRunsTime(t *testing.T) {
	run := t0
	cases := []struct {
		event string
		want  time.Time
	}{
		{"2099-01-01T00:00:00Z", run},
		{"0001-01-01T00:00:00Z", run},
		{"2005-12-31T23:59:59Z", run},
		{run.Add(-100 * 24 * time.Hour).Format(time.RFC3339), run},
		{run.Add(4 * time.Minute).Format(time.RFC3339), run.Add(4 * time.Minute)}, // within the skew
		{run.Add(-time.Hour).Format(time.RFC3339), run.Add(-time.Hour)},
		{"not a time", run},
	}
	for _, c := range cases {
		r := &dhmc.Report{
			StartedAt: run.Format(time.RFC3339),
			Cause:     dhmc.Cause{Trigger: "cloudtrail", EventSource: dhmc.EventSourceIAM, EventTime: c.event, Actor: "user a", EventID: "e"},
			Results:   []dhmc.Result{{Finding: dhmc.Finding{Kind: dhmc.KindUnexpectedManagedPolicy, Observed: adminARN}, Outcome: dhmc.OutcomeDone}},
		}
		sigs := SignalsOf(r, nil, run)
		if !sigs[0].At.Equal(c.want) {
			t.Errorf("event time %s: signal at %s, want %s", c.event, sigs[0].At, c.want)
		}
	}
}

func TestAFutureRepairNeverStaysInTheFlapWindow(t *testing.T) {
	p := Policy{}
	// A state written before times were checked holds repairs from 2099.
	future := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newSim(t, p)
	sig := drift(t0)
	s.st.Flaps[sig.ItemKey()] = FlapState{Key: sig.ItemKey(), Item: sig.Item, Kind: sig.Kind,
		Repairs: []Sighting{{At: future, EventID: "x"}, {At: future.Add(time.Second), EventID: "y"}}}
	d := s.run(t0, sig)
	if d.Groups[0].Flap != nil {
		t.Fatal("repairs dated 2099 made the item flap")
	}
	if got := len(d.Flaps[0].Repairs); got != 1 {
		t.Fatalf("%d repairs kept, want only this run's", got)
	}
}

func TestForgedBackoffsAreBounded(t *testing.T) {
	o := Outbox{Backoffs: []Backoff{{Item: "eu-west-1", Kind: "k", Until: t0.Add(30 * 24 * time.Hour)}}}
	if o.Backoff("eu-west-1", "k", t0) {
		t.Fatal("a back-off 30 days ahead held back repairs")
	}
	o.Backoffs[0].Until = t0.Add(time.Hour)
	if !o.Backoff("eu-west-1", "k", t0) {
		t.Fatal("a one-hour back-off was ignored")
	}
}

func TestOutboxAlertChecks(t *testing.T) {
	good := func() alertItem {
		a := Alert{Subject: "DHMC drift", Body: "body", Severity: SeverityHigh, DedupKey: "ev"}
		a.fill(t0)
		return alertItem{key: a.outboxKey(), Alert: a, Status: "pending"}
	}
	if it := good(); it.check(it.SK) != nil {
		t.Fatalf("the guard's own entry was refused: %v", it.check(it.SK))
	}
	bad := map[string]func(*alertItem){
		"delivered":     func(it *alertItem) { it.Status = "delivered" },
		"other id":      func(it *alertItem) { it.ID = "0123456789abcdef01234567" },
		"moved":         func(it *alertItem) { it.CreatedAt = it.CreatedAt.Add(time.Hour) },
		"severity":      func(it *alertItem) { it.Severity = "page-everyone" },
		"two-line":      func(it *alertItem) { it.Subject = "a\r\nBcc: x" },
		"huge body":     func(it *alertItem) { it.Body = string(make([]byte, maxBody+1)) },
		"odd attribute": func(it *alertItem) { it.Attributes["a b"] = "x" },
		"many attributes": func(it *alertItem) {
			for i := range 11 {
				it.Attributes[string(rune('a'+i))] = "x"
			}
		},
	}
	for name, spoil := range bad {
		it := good()
		spoil(&it)
		if it.check(it.SK) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAlertIDIsOnEveryAlert(t *testing.T) {
	a := Alert{Subject: "s", Body: "b", Severity: SeverityLow}
	a.fill(t0)
	if a.Attributes[AttrAlertID] != a.ID || a.ID == "" {
		t.Fatalf("attributes %v, id %q", a.Attributes, a.ID)
	}
	if AlertID("", "s", "b", t0) != a.ID {
		t.Fatal("AlertID differs from the recorded ID")
	}
	d := []Digest{{Group: "g", Due: t0}, {Group: "h", Due: t0}}
	if DigestID(d) != DigestID([]Digest{d[1], d[0]}) || DigestID(d) == DigestID(d[:1]) {
		t.Fatal("DigestID is not a function of the digests due")
	}
}
