package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Open problems: a problem that needed a person (resolve.go) and was told
// stays open until a later run verifies its item compliant, which then
// sends one RESOLVED message. They live in the OUTBOX partition, so the
// outbox Query every run makes already returns them: a compliant sweep
// with nothing open still makes one Query, and one with problems open
// learns them in that same Query.
//
//	pk                      sk                          what
//	OUTBOX                  O#<item>#<kind>             an open problem
const outboxOpen = "O#"

// Problem is an open problem: an item and kind told as needing a person.
type Problem struct {
	Item, Kind string
	// AlertID is the alertId of the problem's first message: its dedup key
	// (PagerDuty's dedup_key), carried again by the resolution.
	AlertID string
	// Thread is the chat thread of the first message, so the resolution
	// lands beside it.
	Thread   string
	Since    time.Time
	Severity string
}

func (p Problem) key() key { return key{pkOutbox, outboxOpen + p.Item + "#" + p.Kind} }

// ResolutionKey is the outbox dedup key of p's RESOLVED message: its alert
// ID is its own (so a re-delivery of it is dropped as a duplicate, and it
// is never taken for the firing message), the same for every run that
// would send it.
func (p Problem) ResolutionKey() string { return "resolved:" + p.AlertID + "#" + p.Item + "#" + p.Kind }

type openItem struct {
	key
	Item      string    `dynamodbav:"item"`
	Kind      string    `dynamodbav:"kind"`
	AlertID   string    `dynamodbav:"alertId"`
	Thread    string    `dynamodbav:"thread,omitempty"`
	Since     time.Time `dynamodbav:"since"`
	Severity  string    `dynamodbav:"severity"`
	ExpiresAt int64     `dynamodbav:"expiresAt"`
}

// addOpen decodes an open problem read with the outbox.
func (o *Outbox) addOpen(sk string, m map[string]types.AttributeValue) error {
	var it openItem
	if err := attributevalue.UnmarshalMap(m, &it); err != nil {
		return fmt.Errorf("undecodable: %w", err)
	}
	p := Problem{Item: it.Item, Kind: it.Kind, AlertID: it.AlertID, Thread: it.Thread, Since: it.Since, Severity: it.Severity}
	if sk != p.key().SK || p.AlertID == "" || p.Since.IsZero() || !knownSeverity(p.Severity) || len(p.Thread) > maxAttrValue {
		return fmt.Errorf("not an open problem the guard wrote (key, alert ID, since or severity)")
	}
	o.Open = append(o.Open, p)
	return nil
}

// OpenProblems records problems just told (the caller leaves out those
// already open, so each keeps its first message's ID and start). Only a
// run that told a problem needing a person writes here.
func (s *Store) OpenProblems(ctx context.Context, ps []Problem, now time.Time) error {
	for len(ps) > 0 {
		n := min(len(ps), 25) // BatchWriteItem's limit
		reqs := make([]types.WriteRequest, 0, n)
		for _, p := range ps[:n] {
			m, err := attributevalue.MarshalMap(openItem{
				key: p.key(), Item: p.Item, Kind: p.Kind, AlertID: p.AlertID, Thread: p.Thread,
				Since: p.Since.UTC(), Severity: p.Severity, ExpiresAt: s.expires(now),
			})
			if err != nil {
				return fmt.Errorf("encoding an open problem: %w", err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: m}})
		}
		ps = ps[n:]
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for attempt := 0; len(pending[s.table]) > 0; attempt++ {
			if attempt == s.opt.Attempts {
				return s.track("recording open problems", fmt.Errorf("%d items left unprocessed", len(pending[s.table])))
			}
			if attempt > 0 && !pause(ctx, attempt) {
				return s.track("recording open problems", ctx.Err())
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err := s.track("recording open problems", err); err != nil {
				return err
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

// Resolve records p's RESOLVED message a in the outbox and closes p, in one
// transaction: the message then goes out at least once, like any alert
// (re-sent by a later run until marked delivered), and p is never resolved
// twice. ErrDuplicate when a's ID was recorded before; p is closed anyway.
func (s *Store) Resolve(ctx context.Context, p Problem, a *Alert, now time.Time) error {
	a.ID, a.DedupKey = "", p.ResolutionKey()
	a.fill(now)
	ops, err := s.alertOps(*a, now)
	if err != nil {
		return err
	}
	del, err := marshalKey(p.key())
	if err != nil {
		return err
	}
	closeOp := types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(s.table), Key: del}}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: append(ops, closeOp)})
	if cancelled(err) != nil {
		s.ok.Store(true)
		_, derr := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{closeOp}})
		if derr = s.track("closing problem "+p.Item+" "+p.Kind, derr); derr != nil {
			return derr
		}
		return fmt.Errorf("resolution of %s %s: %w", p.Item, p.Kind, ErrDuplicate)
	}
	return s.track("resolving problem "+p.Item+" "+p.Kind, err)
}
