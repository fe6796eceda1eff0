package ledger

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

var t0 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

const terraformARN = "arn:aws:sts::123456789012:assumed-role/Terraform/ci-123"

func drift(at time.Time) Signal {
	return Signal{
		Item: "eu-west-1", Kind: string(dhmc.KindSettingDisabled), Actor: "role Terraform (session ci-123)",
		ActorARN: terraformARN, UserAgent: "APN/1.0 HashiCorp/1.0 Terraform/1.9.0 terraform-provider-aws/5.80.0",
		Severity: SeverityMedium, Repaired: true, At: at,
	}
}

// sim keeps states in memory between runs, as the Store would, and counts
// the messages a handler would send: one per run with anything to send,
// one per due digest found by a sweep.
type sim struct {
	t        *testing.T
	p        Policy
	st       States
	pending  map[GroupKey]Digest
	messages []string
}

func newSim(t *testing.T, p Policy) *sim {
	return &sim{t: t, p: p, st: States{Available: true, Groups: map[GroupKey]GroupState{}, Flaps: map[ItemKey]FlapState{}}, pending: map[GroupKey]Digest{}}
}

func (s *sim) run(now time.Time, sigs ...Signal) Decisions {
	s.t.Helper()
	s.sweep(now)
	d := Decide(sigs, s.st, now, s.p)
	for i, g := range d.States {
		g.Version++
		s.st.Groups[g.Key] = g
		dec := d.Groups[i]
		if dec.Send {
			delete(s.pending, g.Key)
		} else {
			s.pending[g.Key] = *dec.Digest
		}
	}
	for _, f := range d.Flaps {
		f.Version++
		s.st.Flaps[f.Key] = f
	}
	if d.Send() {
		var why []string
		for _, g := range d.Sending() {
			why = append(why, string(g.Reason))
		}
		s.messages = append(s.messages, now.Format("15:04")+" "+strings.Join(why, ","))
	}
	return d
}

// sweep sends the digests due at now, as a compliant sweep's outbox read does.
func (s *sim) sweep(now time.Time) {
	var pending []Digest
	for _, d := range s.pending {
		pending = append(pending, d)
	}
	for _, d := range DueDigests(pending, now) {
		s.messages = append(s.messages, now.Format("15:04")+" digest")
		s.st.Groups[d.Group] = AfterDigest(s.st.Groups[d.Group], now)
		delete(s.pending, d.Group)
	}
}

func TestTheSameDriftThirtyTimesInAnHourGivesAtMostThreeMessages(t *testing.T) {
	s := newSim(t, DefaultPolicy())
	for i := range 30 {
		at := t0.Add(time.Duration(i) * 2 * time.Minute)
		s.run(at, drift(at))
	}
	// Sweeps every 30 minutes for the next two hours find the item compliant.
	for m := 60; m <= 180; m += 30 {
		s.sweep(t0.Add(time.Duration(m) * time.Minute))
	}
	if len(s.messages) > 3 || len(s.messages) < 2 {
		t.Errorf("messages = %v, want 2 or 3 (first, escalation, the digest)", s.messages)
	}
	if !slices.ContainsFunc(s.messages, func(m string) bool { return strings.HasSuffix(m, "digest") }) {
		t.Errorf("messages = %v: the repeats were never reported", s.messages)
	}
}

func TestFlappingEscalatesOnceWithActorsTimesAndCause(t *testing.T) {
	s := newSim(t, DefaultPolicy())
	var escalations []Decision
	for i := range 6 {
		at := t0.Add(time.Duration(i) * 10 * time.Minute)
		for _, g := range s.run(at, drift(at)).Groups {
			if g.Flap != nil {
				escalations = append(escalations, g)
			}
		}
	}
	if len(escalations) != 1 {
		t.Fatalf("%d escalations, want 1", len(escalations))
	}
	e := escalations[0]
	if e.Severity != SeverityHigh || !e.Send || e.Reason != ReasonFlapping {
		t.Errorf("escalation = %+v", e)
	}
	if got := len(e.Flap.Repairs); got != 3 {
		t.Errorf("escalation names %d repairs, want the 3 that made it", got)
	}
	if e.Flap.Repairs[0].Actor == "" || !e.Flap.Repairs[2].At.Equal(t0.Add(20*time.Minute)) {
		t.Errorf("repairs = %+v", e.Flap.Repairs)
	}
	if e.Flap.LikelyCause != CauseTerraform {
		t.Errorf("likely cause = %q, want Terraform's", e.Flap.LikelyCause)
	}
	// After a quiet day the item starts a new episode, which escalates again.
	later := t0.Add(48 * time.Hour)
	n := 0
	for i := range 3 {
		at := later.Add(time.Duration(i) * time.Minute)
		for _, g := range s.run(at, drift(at)).Groups {
			if g.Flap != nil {
				n++
			}
		}
	}
	if n != 1 {
		t.Errorf("a new episode escalated %d times, want 1", n)
	}
}

func TestBackoffIsOffByDefaultAndLastsOneWindow(t *testing.T) {
	for _, on := range []bool{false, true} {
		p := DefaultPolicy()
		p.Backoff = on
		s := newSim(t, p)
		var d Decisions
		for i := range 3 {
			at := t0.Add(time.Duration(i) * time.Minute)
			d = s.run(at, drift(at))
		}
		item, kind := "eu-west-1", string(dhmc.KindSettingDisabled)
		if got := d.Backoff(item, kind, t0.Add(10*time.Minute)); got != on {
			t.Errorf("backoff %v: Backoff during the window = %v", on, got)
		}
		if d.Backoff(item, kind, t0.Add(2*time.Minute+time.Hour)) {
			t.Errorf("backoff %v: still backing off after the window", on)
		}
	}
}

func TestAHundredDeniedAttemptsByOneActorGiveAtMostTwoMessages(t *testing.T) {
	s := newSim(t, DefaultPolicy())
	for i := range 100 {
		at := t0.Add(time.Duration(i) * 20 * time.Second)
		item := "eu-west-1"
		if i%2 == 0 {
			item = ItemRole // what they tried does not split the group
		}
		s.run(at, Signal{Item: item, Kind: KindDenied, Actor: "user mallory", ActorARN: "arn:aws:iam::123456789012:user/mallory", Severity: SeverityLow, At: at})
	}
	for m := 30; m <= 150; m += 30 {
		s.sweep(t0.Add(time.Duration(m) * time.Minute))
	}
	if len(s.messages) != 2 {
		t.Errorf("messages = %v, want the first and one digest", s.messages)
	}
}

func TestAnUnreachableRegionIsReportedAtMostOnceADay(t *testing.T) {
	s := newSim(t, DefaultPolicy())
	for i := range 48 {
		at := t0.Add(time.Duration(i) * 30 * time.Minute)
		s.run(at, Signal{Item: "me-south-1", Kind: KindRegionUnreachable, Severity: SeverityHigh, At: at})
	}
	if len(s.messages) != 1 {
		t.Errorf("messages in one day = %v, want 1", s.messages)
	}
	// The next day it is reported again: the digest of what was counted.
	next := t0.Add(24 * time.Hour)
	s.run(next, Signal{Item: "me-south-1", Kind: KindRegionUnreachable, Severity: SeverityHigh, At: next})
	if len(s.messages) != 2 || !strings.HasSuffix(s.messages[1], "digest") {
		t.Errorf("messages over two days = %v, want the first and the next day's digest", s.messages)
	}
}

func TestDecide(t *testing.T) {
	sig := drift(t0)
	sig.Repaired = false
	g := sig.Group()
	known := func(mut func(*GroupState)) States {
		st := GroupState{Key: g, Item: sig.Item, Kind: sig.Kind, FirstSeen: t0.Add(-2 * time.Hour), LastSent: t0.Add(-10 * time.Minute), Severity: SeverityMedium, Version: 4}
		if mut != nil {
			mut(&st)
		}
		return States{Available: true, Groups: map[GroupKey]GroupState{g: st}}
	}
	high := sig
	high.Severity = SeverityHigh
	cases := []struct {
		name       string
		sig        Signal
		st         States
		send       bool
		reason     Reason
		digest     int // count in the digest, -1 for none
		suppressed int // in the new state
	}{
		{"first of a group is sent", sig, States{Available: true}, true, ReasonFirst, -1, 0},
		{"ledger unavailable: sent", sig, States{}, true, ReasonLedgerUnavailable, -1, 0},
		{"repeat within the window is counted", sig, known(nil), false, ReasonSuppressed, 1, 1},
		{"another repeat adds to the count", sig, known(func(s *GroupState) { s.Suppressed = 4; s.SuppressedSince = t0.Add(-9 * time.Minute) }), false, ReasonSuppressed, 5, 5},
		{"a change of severity is sent with the count", high, known(func(s *GroupState) { s.Suppressed = 2 }), true, ReasonSeverityChanged, 2, 0},
		{"after the window: sent with the digest", sig, known(func(s *GroupState) { s.LastSent = t0.Add(-time.Hour); s.Suppressed = 7 }), true, ReasonWindowClosed, 7, 0},
		{"after a quiet window: sent without a digest", sig, known(func(s *GroupState) { s.LastSent = t0.Add(-3 * time.Hour) }), true, ReasonWindowClosed, -1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide([]Signal{tc.sig}, tc.st, t0, DefaultPolicy())
			if len(d.Groups) != 1 {
				t.Fatalf("%d decisions", len(d.Groups))
			}
			got := d.Groups[0]
			if got.Send != tc.send || got.Reason != tc.reason {
				t.Errorf("send, reason = %v %s; want %v %s", got.Send, got.Reason, tc.send, tc.reason)
			}
			switch {
			case tc.digest < 0 && got.Digest != nil:
				t.Errorf("digest = %+v, want none", got.Digest)
			case tc.digest >= 0 && (got.Digest == nil || got.Digest.Count != tc.digest):
				t.Errorf("digest = %+v, want count %d", got.Digest, tc.digest)
			}
			if !tc.st.Available {
				if len(d.States) != 0 {
					t.Errorf("states to store without a ledger: %v", d.States)
				}
				return
			}
			ns := d.States[0]
			if ns.Suppressed != tc.suppressed || ns.Version != tc.st.Groups[g].Version {
				t.Errorf("new state suppressed %d version %d; want %d, the version read", ns.Suppressed, ns.Version, tc.suppressed)
			}
			if tc.send && !ns.LastSent.Equal(t0) {
				t.Errorf("LastSent = %v, want now", ns.LastSent)
			}
			if !tc.send && !got.Digest.Due.Equal(tc.st.Groups[g].LastSent.Add(time.Hour)) {
				t.Errorf("digest due %v, want when the window closes", got.Digest.Due)
			}
		})
	}
}

func TestOneRunIsGroupedByItemKindAndActor(t *testing.T) {
	a, b := drift(t0), drift(t0)
	b.Item = "us-east-1"
	c := drift(t0)
	c.ActorARN = "arn:aws:sts::123456789012:assumed-role/Terraform/ci-999" // the same role, another CI session
	d := Decide([]Signal{a, b, c}, States{Available: true}, t0, DefaultPolicy())
	if len(d.Groups) != 2 || len(d.Groups[0].Signals)+len(d.Groups[1].Signals) != 3 {
		t.Errorf("groups = %+v, want eu-west-1 (2 signals) and us-east-1", d.Groups)
	}
	if d.Severity() != SeverityMedium {
		t.Errorf("severity = %s", d.Severity())
	}
}

func TestLikelyCause(t *testing.T) {
	cases := []struct {
		actor, ua, invokedBy, want string
	}{
		{"role AWS-QuickSetup-SSM-DefaultEC2MgmtRole-us-east-1 (session x)", "aws-sdk-go", "", CauseQuickSetup},
		{"arn:aws:sts::1:assumed-role/AWS-QuickSetup-StackSet-Local-AdministrationRole/s", "", "", CauseQuickSetup},
		{"role Automation", "", "ssm.amazonaws.com", CauseQuickSetup},
		{"role Admin", "", "cloudformation.amazonaws.com", CauseCloudFormation},
		{"role Admin", "cloudformation.amazonaws.com", "", CauseCloudFormation},
		{"role CI", "APN/1.0 HashiCorp/1.0 Terraform/1.9.0 (+https://www.terraform.io) terraform-provider-aws/5.80.0", "", CauseTerraform},
		{"role CI", "terraform-provider-aws/dev", "", CauseTerraform},
		{"user alice", "aws-cli/2.22.0 Python/3.12", "", ""},
		{"", "", "", ""},
	}
	for _, tc := range cases {
		if got := LikelyCause(tc.actor, tc.ua, tc.invokedBy); got != tc.want {
			t.Errorf("LikelyCause(%q, %q, %q) = %q, want %q", tc.actor, tc.ua, tc.invokedBy, got, tc.want)
		}
	}
}

func TestActorKey(t *testing.T) {
	cases := []struct{ arn, name, want string }{
		{terraformARN, "", "arn:aws:sts::123456789012:assumed-role/Terraform"},
		{"arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com", "", "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com"},
		{"arn:aws:iam::123456789012:user/alice", "user alice", "arn:aws:iam::123456789012:user/alice"},
		{"", "user bob", "user bob"},
		{"System", "", "unknown"},
		{"", "", "unknown"},
	}
	for _, tc := range cases {
		if got := ActorKey(tc.arn, tc.name); got != tc.want {
			t.Errorf("ActorKey(%q, %q) = %q, want %q", tc.arn, tc.name, got, tc.want)
		}
	}
}

func TestSignalsOfAReport(t *testing.T) {
	r := &dhmc.Report{
		Cause: dhmc.Cause{
			Trigger: "cloudtrail", EventName: "UpdateServiceSetting", EventSource: dhmc.EventSourceSSM, EventID: "e-1",
			EventTime: "2026-11-20T08:59:00Z", Region: "eu-west-1", Actor: "role Terraform (session ci-123)", ActorARN: terraformARN,
			UserAgent: "Terraform/1.9.0", SourceIP: "203.0.113.9",
		},
		StartedAt: "2026-11-20T09:00:00Z",
		Results: []dhmc.Result{
			{Finding: dhmc.Finding{Kind: dhmc.KindSettingDisabled, Region: "eu-west-1", Action: dhmc.ActionUpdateSetting}, Outcome: dhmc.OutcomeDone},
			{Finding: dhmc.Finding{Kind: dhmc.KindSettingWrongRole, Region: "us-east-1", LastModifiedUser: "arn:aws:iam::123456789012:user/bob", LastModifiedDate: "2026-11-19T10:00:00Z"}, Outcome: dhmc.OutcomeFailed},
			{Finding: dhmc.Finding{Kind: dhmc.KindUnexpectedInlinePolicy}, Outcome: dhmc.OutcomeSkipped},
		},
		Errors: []dhmc.RegionError{{Region: "me-south-1", Error: "AccessDenied"}},
	}
	got := SignalsOf(r, nil, t0)
	if len(got) != 4 {
		t.Fatalf("%d signals, want 4: %+v", len(got), got)
	}
	want := []struct {
		item, kind, actor, severity string
		repaired                    bool
		at                          string
	}{
		{"eu-west-1", "setting-disabled", "role Terraform (session ci-123)", SeverityMedium, true, "2026-11-20T08:59:00Z"},
		{"us-east-1", "setting-wrong-role", "user bob", SeverityHigh, false, "2026-11-19T10:00:00Z"},
		{ItemRole, "unexpected-inline-policy", "", SeverityMedium, false, "2026-11-20T09:00:00Z"},
		{"me-south-1", KindRegionUnreachable, "", SeverityHigh, false, "2026-11-20T09:00:00Z"},
	}
	for i, w := range want {
		g := got[i]
		if g.Item != w.item || g.Kind != w.kind || g.Actor != w.actor || g.Severity != w.severity || g.Repaired != w.repaired || g.At.Format(time.RFC3339) != w.at {
			t.Errorf("signal %d = %+v, want %+v", i, g, w)
		}
	}
	denied := &dhmc.Report{Cause: dhmc.Cause{Trigger: "cloudtrail", EventSource: dhmc.EventSourceIAM, ErrorCode: "AccessDenied", Actor: "user mallory", EventID: "e-2"}}
	if got := SignalsOf(denied, nil, t0); len(got) != 1 || got[0].Kind != KindDenied || got[0].Item != ItemRole || got[0].Severity != SeverityLow {
		t.Errorf("denied signals = %+v", got)
	}
	if got := SignalsOf(&dhmc.Report{}, nil, t0); len(got) != 0 {
		t.Errorf("a compliant run has signals: %+v", got)
	}
}
