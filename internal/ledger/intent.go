package ledger

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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

// replacement builds the transaction that puts d and a where the intent
// put its own.
type replacement struct {
	s     *Store
	it    *Intent
	now   time.Time
	p     Policy
	ops   []types.TransactWriteItem
	kinds []opKind
}

func (r *replacement) add(k opKind, op types.TransactWriteItem, err error) error {
	if err != nil {
		return err
	}
	r.ops, r.kinds = append(r.ops, op), append(r.kinds, k)
	return nil
}

func (r *replacement) build(in RunInput, d Decisions, a *Alert) error {
	s, it := r.s, r.it
	if in.Claim != it.in.Claim {
		if it.in.Claim != "" {
			op, err := deleteOp(s.table, key{prefixDedup + it.in.Claim, skDedup}, nil)
			if err := r.add(opOther, op, err); err != nil {
				return err
			}
		}
		if in.Claim != "" {
			notExists := expression.AttributeNotExists(expression.Name(attrPK))
			op, err := putOp(s.table, claimItem{key{prefixDedup + in.Claim, skDedup}, r.now.UTC(), r.now.Add(s.opt.DedupRetention).Unix()}, &notExists)
			if err := r.add(opClaim, op, err); err != nil {
				return err
			}
		}
	}
	if err := r.alert(a); err != nil {
		return err
	}
	if err := r.groups(d); err != nil {
		return err
	}
	return r.flaps(d)
}

// alert replaces the intent's alert by a (nil: none).
func (r *replacement) alert(a *Alert) error {
	s, old := r.s, r.it.a
	if old != nil && a != nil && old.ID == a.ID {
		// Same identity, other content (the states differ): overwritten,
		// the Expected flag cleared.
		for _, k := range []key{a.outboxKey(), a.recordKey()} {
			op, err := putOp(s.table, alertItem{key: k, Alert: *a, Status: "pending", ExpiresAt: s.expires(r.now)}, nil)
			if err := r.add(opOther, op, err); err != nil {
				return err
			}
		}
		return nil
	}
	if old != nil {
		for _, k := range []key{old.outboxKey(), old.recordKey()} {
			op, err := deleteOp(s.table, k, nil)
			if err := r.add(opOther, op, err); err != nil {
				return err
			}
		}
	}
	if a == nil {
		return nil
	}
	ops, err := s.alertOps(*a, r.now)
	if err != nil {
		return err
	}
	_ = r.add(opAlert, ops[0], nil)
	return r.add(opOther, ops[1], nil)
}

// groups writes d's group states and digests over the intent's; a group the
// intent wrote and d does not name goes back to the state read before.
func (r *replacement) groups(d Decisions) error {
	s, it := r.s, r.it
	written := map[GroupKey]bool{}
	for _, g := range it.d.States {
		written[g.Key] = true
	}
	named := map[GroupKey]bool{}
	for i, g := range d.States {
		named[g.Key] = true
		if written[g.Key] {
			g.Version++ // what the intent wrote
		}
		op, err := s.groupOp(g, r.now)
		if err := r.add(opState, op, err); err != nil {
			return err
		}
		dec := d.Groups[i]
		if !dec.Send && dec.Digest != nil {
			op, err = s.digestOp(*dec.Digest, r.now)
		} else {
			op, err = deleteOp(s.table, key{pkOutbox, outboxDigest + string(g.Key)}, nil)
		}
		if err := r.add(opOther, op, err); err != nil {
			return err
		}
	}
	for _, g := range it.d.States {
		if named[g.Key] {
			continue
		}
		prev, ok := it.st.Groups[g.Key]
		var op types.TransactWriteItem
		var err error
		if ok {
			prev.Version++
			op, err = s.groupOp(prev, r.now)
		} else {
			cond := versioned(1)
			op, err = deleteOp(s.table, key{prefixGroup + string(g.Key), skGroup}, &cond)
		}
		if err := r.add(opState, op, err); err != nil {
			return err
		}
		if ok && prev.Suppressed > 0 {
			op, err = s.digestOp(*prev.digest(r.p.interval(prev.Kind)), r.now)
		} else {
			op, err = deleteOp(s.table, key{pkOutbox, outboxDigest + string(g.Key)}, nil)
		}
		if err := r.add(opOther, op, err); err != nil {
			return err
		}
	}
	return nil
}

// flaps writes d's flap states and back-offs over the intent's; an item the
// intent counted as repaired and d does not goes back to its state before.
func (r *replacement) flaps(d Decisions) error {
	s, it := r.s, r.it
	wrote := map[ItemKey]FlapState{}
	for _, f := range it.d.Flaps {
		wrote[f.Key] = f
	}
	named := map[ItemKey]bool{}
	for _, f := range d.Flaps {
		named[f.Key] = true
		prev := it.st.Flaps[f.Key]
		w, was := wrote[f.Key]
		if was {
			f.Version++
		}
		if err := r.putFlap(f); err != nil {
			return err
		}
		switch {
		case newBackoff(f, prev, r.now):
			op, err := s.backoffOp(f)
			if err := r.add(opOther, op, err); err != nil {
				return err
			}
		case was && newBackoff(w, prev, r.now):
			if err := r.restoreBackoff(f.Key, prev); err != nil {
				return err
			}
		}
	}
	for _, w := range it.d.Flaps {
		if named[w.Key] {
			continue
		}
		prev, ok := it.st.Flaps[w.Key]
		if ok {
			prev.Version++
			if err := r.putFlap(prev); err != nil {
				return err
			}
		} else {
			cond := versioned(1)
			op, err := deleteOp(s.table, key{prefixFlap + string(w.Key), skFlap}, &cond)
			if err := r.add(opState, op, err); err != nil {
				return err
			}
		}
		if newBackoff(w, prev, r.now) {
			if err := r.restoreBackoff(w.Key, prev); err != nil {
				return err
			}
		}
	}
	return nil
}

// putFlap writes f over the version f.Version.
func (r *replacement) putFlap(f FlapState) error {
	cond := versioned(f.Version)
	f.Version++
	op, err := putOp(r.s.table, flapItem{key: key{prefixFlap + string(f.Key), skFlap}, FlapState: f, ExpiresAt: r.s.expires(r.now)}, &cond)
	return r.add(opState, op, err)
}

// restoreBackoff puts back the back-off entry of k as prev had it (none
// when over).
func (r *replacement) restoreBackoff(k ItemKey, prev FlapState) error {
	if prev.BackoffUntil.After(r.now) {
		op, err := r.s.backoffOp(prev)
		return r.add(opOther, op, err)
	}
	op, err := deleteOp(r.s.table, key{pkOutbox, outboxBack + string(k)}, nil)
	return r.add(opOther, op, err)
}

// deleteOp is a transaction Delete of k, with a condition when cond is not nil.
func deleteOp(table string, k key, cond *expression.ConditionBuilder) (types.TransactWriteItem, error) {
	m, err := marshalKey(k)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	del := &types.Delete{TableName: aws.String(table), Key: m}
	if cond != nil {
		e, err := expression.NewBuilder().WithCondition(*cond).Build()
		if err != nil {
			return types.TransactWriteItem{}, fmt.Errorf("building a condition: %w", err)
		}
		del.ConditionExpression, del.ExpressionAttributeNames, del.ExpressionAttributeValues = e.Condition(), e.Names(), e.Values()
	}
	return types.TransactWriteItem{Delete: del}, nil
}
