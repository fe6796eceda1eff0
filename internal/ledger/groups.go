package ledger

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type groupItem struct {
	key
	GroupState
	ExpiresAt int64 `dynamodbav:"expiresAt"`
}

type flapItem struct {
	key
	FlapState
	ExpiresAt int64 `dynamodbav:"expiresAt"`
}

// RunInput is one run's part in the window rules.
type RunInput struct {
	Signals []Signal
	// Claim is the dedup key of the triggering event (its CloudTrail event
	// ID), "" for none: claimed with the run's writes, so a redelivery of the
	// event gets ErrDuplicate and sends nothing.
	Claim  string
	Now    time.Time
	Policy Policy
}

// ClaimOf is the claim of a run triggered by event eventID with signals:
// the event ID, so that a redelivery (a duplicate delivery, Lambda's async
// retry of a failed run) tells nothing twice; "" when the run repaired
// something. A repair by a redelivery is news: the first delivery repaired
// the item or failed to, so it drifted again in between (and that drift's
// own event will find it repaired). Such a run goes through the windows
// like any repeat: counted for the digest and towards flapping, sent only
// if that is due, never dropped.
func ClaimOf(eventID string, signals []Signal) string {
	for _, s := range signals {
		if s.Repaired {
			return ""
		}
	}
	return eventID
}

// Compose builds the alert for a run's decisions, nil when none is to be
// sent. It may be called more than once (after a lost race, or to fail open).
type Compose func(Decisions) *Alert

// Outcome is what Decide did.
type Outcome struct {
	Decisions Decisions
	// Alert is the message to publish now, recorded in the outbox unless
	// the ledger was unavailable; nil when nothing is to be sent.
	Alert *Alert
	// Recorded is set when Alert is in the outbox (call Delivered or
	// Failed after publishing it).
	Recorded bool
}

// Decide runs the window rules for one run against the stored states and
// stores the outcome: it reads the groups and items of the run's signals
// (one BatchGetItem), decides (Decide, pure), composes the alert, and writes
// the new states, pending digests, back-offs, the alert's outbox entry and
// the event claim in one transaction, each state only over the version read.
// A lost race is retried from the read, Policy-bounded (Options.Attempts).
//
// When the ledger is unavailable it fails open: the decisions are made
// without state (everything is sent), the alert is composed but not
// recorded, and the error wraps ErrUnavailable. ErrDuplicate means the event
// was claimed before: nothing was written and nothing is to be sent.
func (s *Store) Decide(ctx context.Context, in RunInput, compose Compose) (Outcome, error) {
	return s.decide(ctx, in, nil, compose)
}

func (s *Store) decide(ctx context.Context, in RunInput, ahead *Ahead, compose Compose) (Outcome, error) {
	if len(in.Signals) == 0 {
		return Outcome{}, nil
	}
	build := func(d Decisions) *Alert { return buildAlert(in, d, compose) }
	failOpen := func(err error) (Outcome, error) { return FailOpen(in, compose), err }
	for attempt := 0; attempt < s.opt.Attempts; attempt++ {
		st, err := s.statesFor(ctx, in.Signals, ahead, attempt)
		if err != nil {
			return failOpen(err)
		}
		d := Decide(in.Signals, st, in.Now, in.Policy)
		a := build(d)
		err = s.commit(ctx, in, st, d, a)
		switch {
		case err == nil:
			return Outcome{Decisions: d, Alert: a, Recorded: a != nil}, nil
		case errors.Is(err, ErrDuplicate):
			return Outcome{Decisions: d}, err
		case errors.Is(err, errLostRace):
			continue
		default:
			return failOpen(err)
		}
	}
	return failOpen(s.track("storing alert groups", fmt.Errorf("lost the race %d times", s.opt.Attempts)))
}

// buildAlert composes the alert for d and gives it its identity.
func buildAlert(in RunInput, d Decisions, compose Compose) *Alert {
	a := compose(d)
	if a == nil {
		return nil
	}
	// The event's ID is the alert's dedup key; without one the groups
	// sent make the alert's identity.
	if a.DedupKey == "" {
		a.DedupKey = in.Claim
	}
	if len(a.Groups) == 0 {
		for _, g := range d.Sending() {
			a.Groups = append(a.Groups, string(g.Group))
		}
	}
	a.fill(in.Now)
	return a
}

var errLostRace = errors.New("lost an optimistic concurrency race")

// states reads the group and flap states of the signals: one BatchGetItem
// per 100 keys, strongly consistent (the writes depend on the versions).
func (s *Store) states(ctx context.Context, signals []Signal) (States, error) {
	keys := stateKeys(signals)
	all := slices.SortedFunc(maps.Keys(keys), func(a, b key) int { return strings.Compare(a.PK, b.PK) })
	st := States{Available: true, Groups: map[GroupKey]GroupState{}, Flaps: map[ItemKey]FlapState{}}
	for start := 0; start < len(all); start += 100 {
		var ks []map[string]types.AttributeValue
		for _, k := range all[start:min(start+100, len(all))] {
			m, err := attributevalue.MarshalMap(k)
			if err != nil {
				return States{}, fmt.Errorf("encoding a key: %w", err)
			}
			ks = append(ks, m)
		}
		pending := map[string]types.KeysAndAttributes{s.table: {Keys: ks, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(pending[s.table].Keys) > 0; attempt++ {
			if attempt == s.opt.Attempts {
				return States{}, s.track("reading alert groups", fmt.Errorf("%d keys left unprocessed", len(pending[s.table].Keys)))
			}
			if attempt > 0 && !pause(ctx, attempt) {
				return States{}, s.track("reading alert groups", ctx.Err())
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err := s.track("reading alert groups", err); err != nil {
				return States{}, err
			}
			for _, m := range out.Responses[s.table] {
				if err := st.add(m); err != nil {
					return States{}, err
				}
			}
			pending = out.UnprocessedKeys
		}
	}
	return st, nil
}

func (st *States) add(m map[string]types.AttributeValue) error {
	if skOf(m) == skGroup {
		var it groupItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return fmt.Errorf("decoding an alert group: %w", err)
		}
		st.Groups[it.GroupState.Key] = it.GroupState
		return nil
	}
	var it flapItem
	if err := attributevalue.UnmarshalMap(m, &it); err != nil {
		return fmt.Errorf("decoding an item's repairs: %w", err)
	}
	st.Flaps[it.FlapState.Key] = it.FlapState
	return nil
}

// versioned is the condition of an optimistic write: the item is as read.
func versioned(version int) expression.ConditionBuilder {
	if version == 0 {
		return expression.AttributeNotExists(expression.Name(attrPK))
	}
	return expression.Name("version").Equal(expression.Value(version))
}

func (s *Store) groupOp(g GroupState, now time.Time) (types.TransactWriteItem, error) {
	cond := versioned(g.Version)
	g.Version++
	return putOp(s.table, groupItem{key: key{prefixGroup + string(g.Key), skGroup}, GroupState: g, ExpiresAt: s.expires(now)}, &cond)
}

// digestOp writes a group's pending digest.
func (s *Store) digestOp(dig Digest, now time.Time) (types.TransactWriteItem, error) {
	return putOp(s.table, digestItem{
		key: key{pkOutbox, outboxDigest + string(dig.Group)}, Group: dig.Group, Item: dig.Item, Kind: dig.Kind, Actor: dig.Actor,
		What: dig.What, Count: dig.Count, Since: dig.Since, Seen: dig.Seen, Due: dig.Due, Severity: dig.Severity, ExpiresAt: s.expires(now),
	}, nil)
}

// newBackoff reports whether f starts a back-off its previous state prev had not.
func newBackoff(f, prev FlapState, now time.Time) bool {
	return f.BackoffUntil.After(now) && !f.BackoffUntil.Equal(prev.BackoffUntil)
}

// backoffOp writes f's back-off entry in the outbox.
func (s *Store) backoffOp(f FlapState) (types.TransactWriteItem, error) {
	return putOp(s.table, backoffItem{
		key: key{pkOutbox, outboxBack + string(f.Key)}, Item: f.Item, Kind: f.Kind,
		Until: f.BackoffUntil, ExpiresAt: f.BackoffUntil.Unix(),
	}, nil)
}

// claimItem is an event's claim: a redelivery of the event finds it.
type claimItem struct {
	key
	At        time.Time `dynamodbav:"at"`
	ExpiresAt int64     `dynamodbav:"expiresAt"`
}

// opKind says what a transaction item was, to read cancellation reasons.
type opKind int

const (
	opClaim opKind = iota
	opAlert
	opState
	opOther
)

// commit writes a run's decisions. DynamoDB takes 100 items a transaction;
// the first one holds the claim and the alert, so a run whose states need
// more transactions never loses its alert (at worst a state is written
// twice or a repeat re-sent, never an alert dropped).
func (s *Store) commit(ctx context.Context, in RunInput, st States, d Decisions, a *Alert) error {
	var ops []types.TransactWriteItem
	var kinds []opKind
	add := func(k opKind, op types.TransactWriteItem, err error) error {
		if err != nil {
			return err
		}
		ops, kinds = append(ops, op), append(kinds, k)
		return nil
	}
	now := in.Now
	if in.Claim != "" {
		notExists := expression.AttributeNotExists(expression.Name(attrPK))
		claim := claimItem{key{prefixDedup + in.Claim, skDedup}, now.UTC(), now.Add(s.opt.DedupRetention).Unix()}
		op, err := putOp(s.table, claim, &notExists)
		if err := add(opClaim, op, err); err != nil {
			return err
		}
	}
	if a != nil {
		aops, err := s.alertOps(*a, now)
		if err != nil {
			return err
		}
		_ = add(opAlert, aops[0], nil)
		_ = add(opOther, aops[1], nil)
	}
	for i, g := range d.States {
		op, err := s.groupOp(g, now)
		if err := add(opState, op, err); err != nil {
			return err
		}
		dec := d.Groups[i]
		dk := key{pkOutbox, outboxDigest + string(g.Key)}
		switch {
		case !dec.Send && dec.Digest != nil:
			op, err := s.digestOp(*dec.Digest, now)
			if err := add(opOther, op, err); err != nil {
				return err
			}
		case dec.Send && st.Groups[g.Key].Suppressed > 0:
			// This message carries the digest: the pending one goes.
			k, err := marshalKey(dk)
			if err := add(opOther, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: k}}, err); err != nil {
				return err
			}
		}
	}
	for _, f := range d.Flaps {
		prev := st.Flaps[f.Key]
		cond := versioned(f.Version)
		f.Version++
		op, err := putOp(s.table, flapItem{key: key{prefixFlap + string(f.Key), skFlap}, FlapState: f, ExpiresAt: s.expires(now)}, &cond)
		if err := add(opState, op, err); err != nil {
			return err
		}
		if newBackoff(f, prev, now) {
			op, err := s.backoffOp(f)
			if err := add(opOther, op, err); err != nil {
				return err
			}
		}
	}
	for start := 0; start < len(ops); start += 100 {
		end := min(start+100, len(ops))
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops[start:end]})
		if codes := cancelled(err); codes != nil {
			s.ok.Store(true)
			// Only the claim or the alert record failing means this was
			// recorded before; a state failing too is a lost race, and the
			// retry's fresh read tells the two apart.
			dup, raced := false, false
			for i, c := range codes {
				if c != "ConditionalCheckFailed" {
					continue
				}
				if k := kinds[start+i]; k == opClaim || k == opAlert {
					dup = true
				} else {
					raced = true
				}
			}
			if dup && !raced {
				return fmt.Errorf("event %q: %w", in.Claim, ErrDuplicate)
			}
			return errLostRace
		}
		if err := s.track("storing alert groups", err); err != nil {
			return err
		}
	}
	return nil
}
