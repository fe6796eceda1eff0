package ledgertest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

func outboxKeepsWhatWasNotDelivered(t *testing.T, c *dynamodb.Client) {
	s, calls := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	rep := DriftReport(Base, "e-1")
	calls.Total()
	out, err := s.Decide(ctx, ledger.RunInput{Signals: ledger.SignalsOf(rep, nil, Base), Claim: "e-1", Now: Base}, compose)
	if err != nil {
		t.Fatal(err)
	}
	if out.Alert == nil || !out.Recorded || out.Alert.ID == "" {
		t.Fatalf("outcome = %+v, want a recorded alert", out)
	}
	if n := calls.Total(); n != 2 {
		t.Errorf("deciding took %d calls, want 2 (read states, one transaction)", n)
	}
	if err := s.Failed(ctx, *out.Alert, errors.New("SNS is down")); err != nil {
		t.Fatal(err)
	}
	box, err := s.Undelivered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(box.Alerts) != 1 || box.Alerts[0].ID != out.Alert.ID || box.Alerts[0].Attempts != 1 || box.Alerts[0].LastError != "SNS is down" || box.Alerts[0].Body != out.Alert.Body {
		t.Fatalf("undelivered = %+v, want the alert with one failed attempt", box.Alerts)
	}
	if err := s.Delivered(ctx, box.Alerts[0], "msg-1", Base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	box, err = s.Undelivered(ctx)
	if err != nil || len(box.Alerts) != 0 {
		t.Errorf("after delivery the outbox holds %+v, %v", box.Alerts, err)
	}
	// A failure counted after delivery does not bring it back.
	if err := s.Failed(ctx, *out.Alert, errors.New("late")); err != nil {
		t.Fatal(err)
	}
	if box, _ := s.Undelivered(ctx); len(box.Alerts) != 0 {
		t.Errorf("a delivered alert came back: %+v", box.Alerts)
	}
}

func redeliveredEventSendsNothingTwice(t *testing.T, c *dynamodb.Client) {
	s, _ := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	rep := DeniedReport(Base, "e-1")
	in := ledger.RunInput{Signals: ledger.SignalsOf(rep, nil, Base), Claim: "e-1", Now: Base}
	first, err := s.Decide(ctx, in, compose)
	if err != nil || first.Alert == nil {
		t.Fatalf("first delivery: %+v, %v", first, err)
	}
	in.Now = Base.Add(2 * time.Minute) // an async retry
	again, err := s.Decide(ctx, in, compose)
	if !errors.Is(err, ledger.ErrDuplicate) || again.Alert != nil {
		t.Errorf("redelivery: %+v, %v; want ErrDuplicate and no alert", again, err)
	}
	if !s.Available() {
		t.Error("a duplicate made the ledger look unavailable")
	}
	box, err := s.Undelivered(ctx)
	if err != nil || len(box.Alerts) != 1 || len(box.Digests) != 0 {
		t.Errorf("outbox = %+v, %v; want the one alert, no digest (the retry counted nothing)", box, err)
	}
	dup := &ledger.Alert{DedupKey: "sweep|eu-west-1|w1", Subject: "s", Body: "b"}
	if err := s.Enqueue(ctx, dup, Base); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, &ledger.Alert{DedupKey: "sweep|eu-west-1|w1", Subject: "s", Body: "b"}, Base); !errors.Is(err, ledger.ErrDuplicate) {
		t.Errorf("second alert with the same dedup key: %v", err)
	}
}

func repeatsAreCountedAndDigested(t *testing.T, c *dynamodb.Client) {
	s, _ := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	sent := 0
	for i := range 3 {
		at := Base.Add(time.Duration(i) * 10 * time.Minute)
		rep := DriftReport(at, "")
		rep.Results[0].Outcome = dhmc.OutcomeSkipped // detect mode: no repairs, no flapping
		out, err := s.Decide(ctx, ledger.RunInput{Signals: ledger.SignalsOf(rep, nil, at), Now: at}, compose)
		if err != nil {
			t.Fatal(err)
		}
		if out.Alert != nil {
			sent++
		}
	}
	if sent != 1 {
		t.Errorf("3 repeats in the window sent %d messages, want 1", sent)
	}
	box, err := s.Undelivered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(box.Digests) != 1 {
		t.Fatalf("digests = %+v, want one pending", box.Digests)
	}
	d := box.Digests[0]
	if d.Count != 2 || !d.Since.Equal(Base.Add(10*time.Minute)) || !d.Due.Equal(Base.Add(time.Hour)) {
		t.Errorf("digest = %+v, want 2 since 09:10, due 10:00", d)
	}
	if due := box.DueDigests(Base.Add(30 * time.Minute)); len(due) != 0 {
		t.Errorf("due before the window closed: %+v", due)
	}
	closeAt := Base.Add(61 * time.Minute)
	if due := box.DueDigests(closeAt); len(due) != 1 {
		t.Fatalf("due after the window closed: %+v", due)
	}
	if err := s.DigestSent(ctx, d, closeAt); err != nil {
		t.Fatal(err)
	}
	box, _ = s.Undelivered(ctx)
	if len(box.Digests) != 0 {
		t.Errorf("a sent digest is still pending: %+v", box.Digests)
	}
	// The digest was the group's message: a repeat right after is counted.
	at := closeAt.Add(time.Minute)
	rep := DriftReport(at, "")
	rep.Results[0].Outcome = dhmc.OutcomeSkipped
	out, err := s.Decide(ctx, ledger.RunInput{Signals: ledger.SignalsOf(rep, nil, at), Now: at}, compose)
	if err != nil || out.Alert != nil {
		t.Errorf("repeat after the digest: %+v, %v; want suppressed", out.Decisions.Groups, err)
	}
}

func flappingEscalatesOnceAndBacksOff(t *testing.T, c *dynamodb.Client) {
	s, _ := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	p := ledger.DefaultPolicy()
	p.Backoff = true
	var reasons []ledger.Reason
	var flap *ledger.Flap
	for i := range 5 {
		at := Base.Add(time.Duration(i) * 5 * time.Minute)
		rep := DriftReport(at, "")
		out, err := s.Decide(ctx, ledger.RunInput{Signals: ledger.SignalsOf(rep, nil, at), Now: at, Policy: p}, compose)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range out.Decisions.Groups {
			reasons = append(reasons, g.Reason)
			if g.Flap != nil {
				flap = g.Flap
			}
		}
	}
	want := []ledger.Reason{ledger.ReasonFirst, ledger.ReasonSuppressed, ledger.ReasonFlapping, ledger.ReasonSuppressed, ledger.ReasonSuppressed}
	if strings.Join(reasonStrings(reasons), ",") != strings.Join(reasonStrings(want), ",") {
		t.Errorf("reasons = %v, want %v", reasons, want)
	}
	if flap == nil || len(flap.Repairs) != 3 || flap.LikelyCause != ledger.CauseTerraform {
		t.Fatalf("flap = %+v", flap)
	}
	box, err := s.Undelivered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !box.Backoff("eu-west-1", string(dhmc.KindSettingDisabled), Base.Add(30*time.Minute)) {
		t.Errorf("back-offs = %+v, want eu-west-1 backed off for the window", box.Backoffs)
	}
	if box.Backoff("eu-west-1", string(dhmc.KindSettingDisabled), Base.Add(2*time.Hour)) {
		t.Error("backed off after the window")
	}
}

func deniedAttemptsAggregatePerActor(t *testing.T, c *dynamodb.Client) {
	s, _ := NewTable(t, c, ledger.Options{})
	ctx := t.Context()
	sent := 0
	for i := range 10 {
		at := Base.Add(time.Duration(i) * time.Minute)
		id := "d-" + string(rune('a'+i))
		out, err := s.Decide(ctx, ledger.RunInput{Signals: ledger.SignalsOf(DeniedReport(at, id), nil, at), Claim: id, Now: at}, compose)
		if err != nil {
			t.Fatal(err)
		}
		if out.Alert != nil {
			sent++
		}
	}
	if sent != 1 {
		t.Errorf("10 denied attempts sent %d messages, want 1 (and a digest later)", sent)
	}
	box, err := s.Undelivered(ctx)
	if err != nil || len(box.Digests) != 1 || box.Digests[0].Count != 9 {
		t.Errorf("digest = %+v, %v; want 9 more", box.Digests, err)
	}
}

func reasonStrings(r []ledger.Reason) []string {
	out := make([]string, len(r))
	for i, x := range r {
		out[i] = string(x)
	}
	return out
}
