package ledger

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// An alert that waits for its run's repair before it is recorded costs the
// alert path a round trip: reads, repair, record, publish. An intent takes
// that round trip off: as the repair starts, the run records the alert as it
// will read if every repair succeeds, with the window states that alert
// decides, beside the repair (DecideIntent). Once the repair is done the run
// confirms it (Confirm): when the alert composed for the real outcome is
// the one recorded, nothing is written and it is published at once, the
// outbox already holding exactly what is published; otherwise the recorded
// alert and states are replaced, in one transaction written only over what
// the intent wrote, before the publish. The outbox is written before the
// publish either way.
//
// An intent's outbox entry carries Alert.Expected until its outcome is
// confirmed: if the run ends in between, the next run's re-delivery says
// the outcome was not confirmed (the guard's wording), never "repaired".

// MaxIntentSignals bounds the signals of a run that records an intent: its
// replacement must fit one transaction (100 items) — a claim, two alert
// items out and two in, and for each signal at most a group state, its
// digest, a flap state and its back-off. Larger runs decide after the repair.
const MaxIntentSignals = 20

// Intent is an alert and window states recorded as a run's repair started.
type Intent struct {
	in RunInput
	st States
	d  Decisions
	a  *Alert
	// Outcome is what was recorded; its Alert is flagged Expected.
	Outcome Outcome
}

// DecideIntent is Decide for the outcome a run expects of its repair,
// recorded with its alert's outbox entry flagged Expected. The run must
// Confirm it with the real outcome before publishing. It returns nil and
// no error when in has no signals or too many (MaxIntentSignals); errors
// are Decide's (ErrDuplicate, or the ledger unavailable: nothing recorded).
func (s *Store) DecideIntent(ctx context.Context, in RunInput, ahead *Ahead, compose Compose) (*Intent, error) {
	if len(in.Signals) == 0 || len(in.Signals) > MaxIntentSignals {
		return nil, nil
	}
	for attempt := 0; attempt < s.opt.Attempts; attempt++ {
		st, err := s.statesFor(ctx, in.Signals, ahead, attempt)
		if err != nil {
			return nil, err
		}
		d := Decide(in.Signals, st, in.Now, in.Policy)
		a := buildAlert(in, d, compose)
		if a != nil {
			a.Expected = true
		}
		err = s.commit(ctx, in, st, d, a)
		switch {
		case err == nil:
			return &Intent{in: in, st: st, d: d, a: a, Outcome: Outcome{Decisions: d, Alert: a, Recorded: a != nil}}, nil
		case errors.Is(err, errLostRace):
			continue
		default:
			return nil, err
		}
	}
	return nil, s.track("storing alert groups", fmt.Errorf("lost the race %d times", s.opt.Attempts))
}

// Now is the time the intent was decided at: the run's signals are taken
// at it when confirming.
func (it *Intent) Now() time.Time { return it.in.Now }

// Confirm settles it with the run's real outcome in (its Now is the
// intent's: the windows are decided at one time). It decides again from
// the states the intent read and composes the alert: when alert, claim and
// states are what the intent recorded, nothing is written and the
// recorded alert is returned, confirmed (Expected false). Otherwise the
// intent's writes are replaced by the real outcome's in one transaction,
// each item only over the version the intent wrote, so no window claim of
// the expected outcome is left behind: a group never told holds nothing
// back. A claim refused (the event was claimed before) undoes the intent
// and returns ErrDuplicate. A lost race (another run wrote over the
// intent's states meanwhile) records the alert on its own, the intent's
// entry replaced. When the ledger fails, it fails open as Decide does: the
// decisions are made without state and the alert is not recorded.
func (s *Store) Confirm(ctx context.Context, it *Intent, in RunInput, compose Compose) (Outcome, error) {
	in.Now = it.in.Now
	var d Decisions
	var a *Alert
	if len(in.Signals) > 0 {
		d = Decide(in.Signals, it.st, in.Now, in.Policy)
		a = buildAlert(in, d, compose)
	}
	if in.Claim == it.in.Claim && sameAlert(it.a, a) && reflect.DeepEqual(it.d, d) {
		out := it.Outcome
		if out.Alert != nil {
			c := *out.Alert
			c.Expected = false
			out.Alert = &c
		}
		return out, nil
	}
	err := s.replace(ctx, it, in, d, a)
	switch {
	case err == nil:
		return Outcome{Decisions: d, Alert: a, Recorded: a != nil}, nil
	case errors.Is(err, ErrDuplicate):
		if uerr := s.replace(ctx, it, RunInput{Now: in.Now}, Decisions{}, nil); uerr != nil {
			err = fmt.Errorf("%w (undoing the intent: %w)", err, uerr)
		}
		return Outcome{Decisions: d}, err
	case errors.Is(err, errLostRace) && a != nil:
		if err = s.replaceAlert(ctx, it.a, a, in.Now); err == nil {
			return Outcome{Decisions: d, Alert: a, Recorded: true}, nil
		}
	}
	return FailOpen(in, compose), err
}

// FailOpen is the outcome of a run whose windows cannot be read or stored:
// decided without state (everything is sent), composed, not recorded.
func FailOpen(in RunInput, compose Compose) Outcome {
	if len(in.Signals) == 0 {
		return Outcome{}
	}
	d := Decide(in.Signals, States{}, in.Now, in.Policy)
	return Outcome{Decisions: d, Alert: buildAlert(in, d, compose)}
}

// sameAlert reports whether a and b are one message: subject, body,
// attributes (the alert ID, from the content, among them) and severity.
func sameAlert(a, b *Alert) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.ID == b.ID && a.Subject == b.Subject && a.Body == b.Body && a.Severity == b.Severity &&
		reflect.DeepEqual(a.Attributes, b.Attributes) && reflect.DeepEqual(a.Groups, b.Groups)
}

// replace writes d and a over what it wrote, in one transaction.
func (s *Store) replace(ctx context.Context, it *Intent, in RunInput, d Decisions, a *Alert) error {
	r := replacement{s: s, it: it, now: in.Now, p: in.Policy.withDefaults()}
	if err := r.build(in, d, a); err != nil {
		return err
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: r.ops})
	if codes := cancelled(err); codes != nil {
		s.ok.Store(true)
		for i, c := range codes {
			if c == "ConditionalCheckFailed" && (r.kinds[i] == opClaim || r.kinds[i] == opAlert) {
				return fmt.Errorf("event %q: %w", in.Claim, ErrDuplicate)
			}
		}
		return errLostRace
	}
	return s.track("replacing the alert recorded as the repair started", err)
}

// replaceAlert records b on its own, a's outbox entry and record gone.
func (s *Store) replaceAlert(ctx context.Context, a, b *Alert, now time.Time) error {
	ops, err := s.alertOps(*b, now)
	if err != nil {
		return err
	}
	if a != nil && a.ID != b.ID {
		for _, k := range []key{a.outboxKey(), a.recordKey()} {
			op, err := deleteOp(s.table, k, nil)
			if err != nil {
				return err
			}
			ops = append(ops, op)
		}
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
	if cancelled(err) != nil {
		s.ok.Store(true)
		return fmt.Errorf("alert %s: %w", b.ID, ErrDuplicate)
	}
	return s.track("recording an alert", err)
}
