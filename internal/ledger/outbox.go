package ledger

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Alert is one message, recorded in the outbox before it is published and
// marked delivered after, so the next run re-sends one that never left.
type Alert struct {
	// ID is derived from DedupKey (or, without one, from the message and
	// CreatedAt) when the alert is recorded.
	ID string `dynamodbav:"alertId" json:"id"`
	// DedupKey makes the alert idempotent: a second alert with the same key
	// is refused with ErrDuplicate. The CloudTrail event ID for event runs.
	DedupKey   string            `dynamodbav:"dedupKey,omitempty" json:"dedupKey,omitempty"`
	Groups     []string          `dynamodbav:"groups,omitempty" json:"groups,omitempty"`
	Subject    string            `dynamodbav:"subject" json:"subject"`
	Body       string            `dynamodbav:"body" json:"body"`
	Attributes map[string]string `dynamodbav:"attributes,omitempty" json:"attributes,omitempty"`
	Severity   string            `dynamodbav:"severity" json:"severity"`
	CreatedAt  time.Time         `dynamodbav:"createdAt" json:"createdAt"`
	// Attempts counts failed publishes.
	Attempts  int    `dynamodbav:"attempts" json:"attempts"`
	LastError string `dynamodbav:"lastError,omitempty" json:"lastError,omitempty"`
	// Expected is set on an entry written as its run's repair started,
	// composed for the outcome expected (intent.go): until the run confirms
	// the outcome, a re-delivery must say it was not confirmed.
	Expected bool `dynamodbav:"expected,omitempty" json:"expected,omitempty"`
}

func (a *Alert) fill(now time.Time) {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now.UTC()
	}
	if a.ID == "" {
		src := "dedup:" + a.DedupKey
		if a.DedupKey == "" {
			src = "msg:" + timeKey(a.CreatedAt) + "\x00" + strings.Join(a.Groups, "\x00") + "\x00" + a.Subject + "\x00" + a.Body
		}
		sum := sha256.Sum256([]byte(src))
		a.ID = hex.EncodeToString(sum[:12])
	}
	// Every publish of the alert carries its ID: the subscribers' dedup key.
	a.Attributes = WithAlertID(a.Attributes, a.ID)
}

func (a Alert) outboxKey() key { return key{pkOutbox, outboxAlert + timeKey(a.CreatedAt) + "#" + a.ID} }
func (a Alert) recordKey() key { return key{prefixAlert + a.ID, skAlert} }

type alertItem struct {
	key
	Alert
	Status      string    `dynamodbav:"status"` // pending | delivered
	DeliveredAt time.Time `dynamodbav:"deliveredAt,omitempty"`
	MessageID   string    `dynamodbav:"messageId,omitempty"`
	ExpiresAt   int64     `dynamodbav:"expiresAt"`
}

type digestItem struct {
	key
	Group     GroupKey   `dynamodbav:"group"`
	Item      string     `dynamodbav:"item"`
	Kind      string     `dynamodbav:"kind"`
	Actor     string     `dynamodbav:"actor,omitempty"`
	What      string     `dynamodbav:"what,omitempty"`
	Count     int        `dynamodbav:"count"`
	Since     time.Time  `dynamodbav:"since"`
	Seen      []Sighting `dynamodbav:"seen"`
	Due       time.Time  `dynamodbav:"due"`
	Severity  string     `dynamodbav:"severity"`
	ExpiresAt int64      `dynamodbav:"expiresAt"`
}

type backoffItem struct {
	key
	Item      string    `dynamodbav:"item"`
	Kind      string    `dynamodbav:"kind"`
	Until     time.Time `dynamodbav:"until"`
	ExpiresAt int64     `dynamodbav:"expiresAt"`
}

// Backoff is a flapping item the guard leaves alone until Until.
type Backoff struct {
	Item, Kind string
	Until      time.Time
}

// Outbox is what a run must know before it starts: alerts never delivered,
// pending digests, back-offs.
type Outbox struct {
	Alerts   []Alert
	Digests  []Digest
	Backoffs []Backoff
	// Open are the problems told as needing a person and not yet resolved
	// (open.go).
	Open []Problem
	// More is set when the outbox did not fit one page: the rest comes
	// with the next run.
	More bool
	// Skipped counts the entries left out as undecodable or not written by
	// the guard (outboxcheck.go); SkippedKeys names the first few.
	Skipped     int
	SkippedKeys []Skipped
}

// DueDigests returns the pending digests whose window has closed at now.
func (o Outbox) DueDigests(now time.Time) []Digest { return DueDigests(o.Digests, now) }

// Backoff reports whether item and kind must not be repaired at now.
func (o Outbox) Backoff(item, kind string, now time.Time) bool {
	for _, b := range o.Backoffs {
		if b.Item == item && b.Kind == kind && now.Before(b.Until) && b.Until.Sub(now) <= MaxBackoff {
			return true
		}
	}
	return false
}

// outboxPage bounds the outbox read to one Query page; maxOutboxPages the
// pages read when skipped entries fill them.
const (
	outboxPage     = 100
	maxOutboxPages = 5
)

// Undelivered reads the outbox: one Query, the only ledger call of a
// compliant sweep. An entry that cannot be used is skipped and counted
// (Outbox.Skipped), never an error: one bad entry must not block the
// re-deliveries, due digests and back-offs of the others.
func (s *Store) Undelivered(ctx context.Context) (Outbox, error) {
	var o Outbox
	e, err := expression.NewBuilder().WithKeyCondition(expression.Key(attrPK).Equal(expression.Value(pkOutbox))).Build()
	if err != nil {
		return o, fmt.Errorf("building the outbox query: %w", err)
	}
	// A page is read past only when skipped entries took room in it: bad
	// entries must not push the good ones out of reach (a compliant
	// sweep still makes one Query).
	var start map[string]types.AttributeValue
	for page := 0; page < maxOutboxPages; page++ {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: aws.String(s.table), KeyConditionExpression: e.KeyCondition(),
			ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
			ConsistentRead: aws.Bool(true), Limit: aws.Int32(outboxPage), ExclusiveStartKey: start,
		})
		if err := s.track("reading the outbox", err); err != nil {
			return o, err
		}
		skipped := o.Skipped
		for _, m := range out.Items {
			if err := o.addEntry(m); err != nil {
				o.skip(skOf(m), err)
			}
		}
		start = out.LastEvaluatedKey
		o.More = len(start) > 0
		if !o.More || o.Skipped == skipped {
			break
		}
	}
	return o, nil
}

// Enqueue records an alert on its own (no window state), for messages the
// window rules do not cover. ErrDuplicate when its DedupKey was used.
func (s *Store) Enqueue(ctx context.Context, a *Alert, now time.Time) error {
	a.fill(now)
	ops, err := s.alertOps(*a, now)
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
	if reasons := cancelled(err); reasons != nil {
		s.ok.Store(true)
		return fmt.Errorf("alert %s: %w", cmp.Or(a.DedupKey, a.ID), ErrDuplicate)
	}
	return s.track("recording an alert", err)
}

// alertOps are the writes that record an alert: its record, refused when
// the ID exists, and its outbox entry.
func (s *Store) alertOps(a Alert, now time.Time) ([]types.TransactWriteItem, error) {
	notExists := expression.AttributeNotExists(expression.Name(attrPK))
	rec, err := putOp(s.table, alertItem{key: a.recordKey(), Alert: a, Status: "pending", ExpiresAt: s.expires(now)}, &notExists)
	if err != nil {
		return nil, err
	}
	box, err := putOp(s.table, alertItem{key: a.outboxKey(), Alert: a, Status: "pending", ExpiresAt: s.expires(now)}, nil)
	if err != nil {
		return nil, err
	}
	return []types.TransactWriteItem{rec, box}, nil
}

// Delivered marks an alert published: its outbox entry goes, its record
// says when and with which message ID. One transaction.
func (s *Store) Delivered(ctx context.Context, a Alert, messageID string, now time.Time) error {
	del, err := marshalKey(a.outboxKey())
	if err != nil {
		return err
	}
	upd := expression.Set(expression.Name("status"), expression.Value("delivered")).
		Set(expression.Name("deliveredAt"), expression.Value(now.UTC())).
		Set(expression.Name("messageId"), expression.Value(messageID))
	e, err := expression.NewBuilder().WithUpdate(upd).Build()
	if err != nil {
		return fmt.Errorf("building the delivery update: %w", err)
	}
	rk, err := attributevalue.MarshalMap(a.recordKey())
	if err != nil {
		return fmt.Errorf("encoding a key: %w", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: aws.String(s.table), Key: del}},
		{Update: &types.Update{
			TableName: aws.String(s.table), Key: rk, UpdateExpression: e.Update(),
			ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		}},
	}})
	return s.track("marking alert "+a.ID+" delivered", err)
}

// Failed counts a failed publish on the outbox entry (it stays for the next
// run). An entry already delivered is left alone. An alert whose outcome
// was confirmed (a.Expected false) loses the entry's Expected flag: its
// re-delivery is then the confirmed message.
func (s *Store) Failed(ctx context.Context, a Alert, cause error) error {
	k, err := marshalKey(a.outboxKey())
	if err != nil {
		return err
	}
	msg := "unknown error"
	if cause != nil {
		msg = cause.Error()
	}
	upd := expression.Add(expression.Name("attempts"), expression.Value(1)).Set(expression.Name("lastError"), expression.Value(msg))
	if !a.Expected {
		upd = upd.Remove(expression.Name("expected"))
	}
	e, err := expression.NewBuilder().
		WithUpdate(upd).
		WithCondition(expression.AttributeExists(expression.Name(attrPK))).Build()
	if err != nil {
		return fmt.Errorf("building the failure update: %w", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: k, UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		s.ok.Store(true)
		return nil
	}
	return s.track("counting a failed publish", err)
}

// DigestSent records that a pending digest was published: the group's
// window starts again and the digest leaves the outbox. The group is
// re-read and written over the version read, retried on a lost race.
func (s *Store) DigestSent(ctx context.Context, d Digest, now time.Time) error {
	gk := key{prefixGroup + string(d.Group), skGroup}
	for attempt := 0; attempt < s.opt.Attempts; attempt++ {
		k, err := attributevalue.MarshalMap(gk)
		if err != nil {
			return fmt.Errorf("encoding a key: %w", err)
		}
		got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: k, ConsistentRead: aws.Bool(true)})
		if err := s.track("reading group "+string(d.Group), err); err != nil {
			return err
		}
		del, err := marshalKey(key{pkOutbox, outboxDigest + string(d.Group)})
		if err != nil {
			return err
		}
		ops := []types.TransactWriteItem{{Delete: &types.Delete{TableName: aws.String(s.table), Key: del}}}
		if got.Item != nil {
			var it groupItem
			if err := attributevalue.UnmarshalMap(got.Item, &it); err != nil {
				return fmt.Errorf("decoding group %s: %w", d.Group, err)
			}
			op, err := s.groupOp(AfterDigest(it.GroupState, now), now)
			if err != nil {
				return err
			}
			ops = append(ops, op)
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: ops})
		if cancelled(err) != nil {
			continue // another writer changed the group: read it again
		}
		return s.track("recording digest of "+string(d.Group), err)
	}
	return s.track("recording digest of "+string(d.Group), fmt.Errorf("lost the race %d times", s.opt.Attempts))
}

// cancelled returns the cancellation reason codes when err is a transaction
// cancelled by a failed condition, nil otherwise.
func cancelled(err error) []string {
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil
	}
	codes := make([]string, len(tce.CancellationReasons))
	conditional := false
	for i, r := range tce.CancellationReasons {
		codes[i] = aws.ToString(r.Code)
		conditional = conditional || codes[i] == "ConditionalCheckFailed"
	}
	if !conditional {
		return nil
	}
	return codes
}

// putOp is a transaction Put of v, with a condition when cond is not nil.
func putOp(table string, v any, cond *expression.ConditionBuilder) (types.TransactWriteItem, error) {
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		return types.TransactWriteItem{}, fmt.Errorf("encoding a ledger item: %w", err)
	}
	p := &types.Put{TableName: aws.String(table), Item: m}
	if cond != nil {
		e, err := expression.NewBuilder().WithCondition(*cond).Build()
		if err != nil {
			return types.TransactWriteItem{}, fmt.Errorf("building a condition: %w", err)
		}
		p.ConditionExpression, p.ExpressionAttributeNames, p.ExpressionAttributeValues = e.Condition(), e.Names(), e.Values()
	}
	return types.TransactWriteItem{Put: p}, nil
}

func marshalKey(k key) (map[string]types.AttributeValue, error) {
	m, err := attributevalue.MarshalMap(k)
	if err != nil {
		return nil, fmt.Errorf("encoding a key: %w", err)
	}
	return m, nil
}

// AttrAlertID is the SNS message attribute that carries an alert's ID on
// every publish of it, re-deliveries included. Re-delivery is at least
// once (a publish whose Delivered mark fails is sent again by the next
// run), so subscribers drop a message whose alertId they have seen.
const AttrAlertID = "alertId"

// WithAlertID returns attrs (copied) with the alert ID set.
func WithAlertID(attrs map[string]string, id string) map[string]string {
	out := make(map[string]string, len(attrs)+1)
	for k, v := range attrs {
		out[k] = v
	}
	if id != "" {
		out[AttrAlertID] = id
	}
	return out
}

// AlertID is the ID an alert with this dedup key (or, without one, this
// content at createdAt) gets when recorded: the same for every publish of
// it, so it is the subscribers' dedup key also when no ledger recorded it.
func AlertID(dedupKey, subject, body string, createdAt time.Time) string {
	a := Alert{DedupKey: dedupKey, Subject: subject, Body: body}
	a.fill(createdAt)
	return a.ID
}

// DigestID is the dedup key of the message that sends the digests due: the
// same digests (group and due time) give the same ID, so a digest re-sent
// after its DigestSent mark failed can be dropped as a duplicate.
func DigestID(due []Digest) string {
	parts := make([]string, 0, len(due))
	for _, d := range due {
		parts = append(parts, string(d.Group)+"\x00"+timeKey(d.Due))
	}
	slices.Sort(parts)
	sum := sha256.Sum256([]byte("digest:" + strings.Join(parts, "\x01")))
	return hex.EncodeToString(sum[:12])
}
