package ledger

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// Run outcomes, the alert package's words.
const (
	OutcomeFailed   = "failed"
	OutcomeRepaired = "repaired"
	OutcomeDetected = "detected"
	OutcomeDenied   = "denied"
)

// RunOutcome summarises a report in one word; "" for a compliant run.
func RunOutcome(r *dhmc.Report) string {
	switch {
	case r.Failed():
		return OutcomeFailed
	case len(r.Results) > 0:
		for _, x := range r.Results {
			if x.Outcome == dhmc.OutcomeDone {
				return OutcomeRepaired
			}
		}
		return OutcomeDetected
	case r.Cause.ErrorCode != "":
		return OutcomeDenied
	}
	return ""
}

// Run is one recorded run.
type Run struct {
	ID        string       `dynamodbav:"runId" json:"id"`
	StartedAt time.Time    `dynamodbav:"startedAt" json:"startedAt"`
	Trigger   string       `dynamodbav:"trigger" json:"trigger"`
	Mode      string       `dynamodbav:"mode" json:"mode"`
	Account   string       `dynamodbav:"account" json:"account"`
	Outcome   string       `dynamodbav:"outcome" json:"outcome"`
	Findings  int          `dynamodbav:"findings" json:"findings"`
	Actor     string       `dynamodbav:"actor,omitempty" json:"actor,omitempty"`
	EventID   string       `dynamodbav:"eventId,omitempty" json:"eventId,omitempty"`
	Truncated bool         `dynamodbav:"truncated,omitempty" json:"truncated,omitempty"`
	Report    *dhmc.Report `dynamodbav:"-" json:"report"`
}

type runItem struct {
	key
	Run
	ReportJSON string `dynamodbav:"report"`
	ExpiresAt  int64  `dynamodbav:"expiresAt"`
}

// Event is one line of an item's or an actor's history.
type Event struct {
	At        time.Time `dynamodbav:"at" json:"at"`
	Type      string    `dynamodbav:"type" json:"type"` // finding | denied
	Item      string    `dynamodbav:"item" json:"item"`
	Kind      string    `dynamodbav:"kind" json:"kind"`
	Actor     string    `dynamodbav:"actor,omitempty" json:"actor,omitempty"`
	ActorKey  string    `dynamodbav:"actorKey" json:"actorKey"`
	Outcome   string    `dynamodbav:"outcome,omitempty" json:"outcome,omitempty"`
	Action    string    `dynamodbav:"action,omitempty" json:"action,omitempty"`
	EventName string    `dynamodbav:"eventName,omitempty" json:"eventName,omitempty"`
	ErrorCode string    `dynamodbav:"errorCode,omitempty" json:"errorCode,omitempty"`
	EventID   string    `dynamodbav:"eventId,omitempty" json:"eventId,omitempty"`
	RunID     string    `dynamodbav:"runId" json:"runId"`
}

type eventItem struct {
	key
	Event
	ExpiresAt int64 `dynamodbav:"expiresAt"`
}

// maxReport keeps a run's item under DynamoDB's 400 KB with room for the
// summary attributes.
const maxReport = 350 * 1024

// RecordRun writes a run that found something or failed (a compliant run is
// not recorded and costs nothing), with one history event per finding under
// its item and its actor, or the denied attempt under its actor. One
// BatchWriteItem per 25 items.
func (s *Store) RecordRun(ctx context.Context, r *dhmc.Report, now time.Time) (Run, error) {
	outcome := RunOutcome(r)
	if outcome == "" {
		return Run{}, nil
	}
	full, err := json.Marshal(r)
	if err != nil {
		return Run{}, fmt.Errorf("encoding the report: %w", err)
	}
	sum := sha256.Sum256(full)
	started := now
	if t, err := time.Parse(time.RFC3339, r.StartedAt); err == nil {
		started = t
	}
	run := Run{
		ID: hex.EncodeToString(sum[:8]), StartedAt: started.UTC(), Trigger: r.Cause.Trigger, Mode: r.Mode,
		Account: r.AccountID, Outcome: outcome, Findings: len(r.Results), Actor: r.Cause.Actor, EventID: r.Cause.EventID,
	}
	body, truncated := reportJSON(r, full)
	run.Truncated = truncated
	exp := s.expires(now)
	// Runs sort by when they were recorded: a report's StartedAt has whole
	// seconds, and a storm records many runs in one.
	sortAt := now
	if started.After(now) {
		sortAt = started
	}
	items := []any{runItem{key: key{pkRun, timeKey(sortAt) + "#" + run.ID}, Run: run, ReportJSON: body, ExpiresAt: exp}}
	signals := SignalsOf(r, nil, now)
	for i, sig := range signals {
		ev := Event{
			At: sig.At.UTC(), Type: "finding", Item: sig.Item, Kind: sig.Kind, Actor: sig.Actor,
			ActorKey: ActorKey(sig.ActorARN, sig.Actor), Outcome: sig.Outcome, EventID: sig.EventID, RunID: run.ID,
		}
		if sig.Kind == KindDenied {
			ev.Type, ev.EventName, ev.ErrorCode = "denied", r.Cause.EventName, r.Cause.ErrorCode
		}
		if i < len(r.Results) {
			ev.Action = string(r.Results[i].Action)
		}
		sk := timeKey(ev.At) + "#" + run.ID + "#" + strconv.Itoa(i)
		items = append(items,
			eventItem{key: key{itemPK(sig.Item, sig.Kind), sk}, Event: ev, ExpiresAt: exp},
			eventItem{key: key{actorPK(ev.ActorKey), sk}, Event: ev, ExpiresAt: exp})
	}
	if err := s.putAll(ctx, items); err != nil {
		return run, err
	}
	return run, nil
}

// reportJSON keeps the report whole when it fits; otherwise it drops the
// kept policy documents (the log line has them), then the findings.
func reportJSON(r *dhmc.Report, full []byte) (string, bool) {
	if len(full) <= maxReport {
		return string(full), false
	}
	cp := *r
	cp.Results = make([]dhmc.Result, len(r.Results))
	for i, x := range r.Results {
		x.Document = ""
		cp.Results[i] = x
	}
	if b, err := json.Marshal(&cp); err == nil && len(b) <= maxReport {
		return string(b), true
	}
	cp.Results = nil
	b, _ := json.Marshal(&cp)
	return string(b), true
}

// putAll writes items in batches of 25, re-sending what DynamoDB left
// unprocessed a bounded number of times.
func (s *Store) putAll(ctx context.Context, items []any) error {
	for start := 0; start < len(items); start += 25 {
		var reqs []types.WriteRequest
		for _, it := range items[start:min(start+25, len(items))] {
			m, err := attributevalue.MarshalMap(it)
			if err != nil {
				return fmt.Errorf("encoding a ledger item: %w", err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: m}})
		}
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for attempt := 0; len(pending[s.table]) > 0; attempt++ {
			if attempt == s.opt.Attempts {
				return s.track("recording a run", fmt.Errorf("%d items left unprocessed", len(pending[s.table])))
			}
			if attempt > 0 && !pause(ctx, attempt) {
				return s.track("recording a run", ctx.Err())
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err := s.track("recording a run", err); err != nil {
				return err
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

// pause backs off before a retry of unprocessed items; false when ctx ended.
func pause(ctx context.Context, attempt int) bool {
	t := time.NewTimer(time.Duration(attempt*attempt) * 50 * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// HistoryPage is one page of runs, newest first. Cursor is "" on the last page.
type HistoryPage struct {
	Runs   []Run  `json:"runs"`
	Cursor string `json:"cursor,omitempty"`
}

// EventPage is one page of an item's or an actor's history, newest first.
type EventPage struct {
	Events []Event `json:"events"`
	Cursor string  `json:"cursor,omitempty"`
}

// MaxPage bounds a history page.
const MaxPage = 100

// History returns the runs since since, newest first, limit to a page
// (1..MaxPage; 0 means 20). cursor is "" or the Cursor of the page before.
func (s *Store) History(ctx context.Context, since time.Time, limit int, cursor string) (HistoryPage, error) {
	var out HistoryPage
	raw, next, err := s.page(ctx, pkRun, since, limit, cursor)
	if err != nil {
		return out, err
	}
	for _, m := range raw {
		var it runItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return out, fmt.Errorf("decoding a run: %w", err)
		}
		run := it.Run
		var rep dhmc.Report
		if err := json.Unmarshal([]byte(it.ReportJSON), &rep); err == nil {
			run.Report = &rep
		}
		out.Runs = append(out.Runs, run)
	}
	out.Cursor = next
	return out, nil
}

// ItemHistory returns what happened to an item (a Region, or ItemRole) of
// one kind since since, newest first.
func (s *Store) ItemHistory(ctx context.Context, item, kind string, since time.Time, limit int, cursor string) (EventPage, error) {
	return s.events(ctx, itemPK(item, kind), since, limit, cursor)
}

// ActorHistory returns what an actor (an ARN, or an ActorKey) did since
// since, newest first: findings attributed to them and denied attempts.
func (s *Store) ActorHistory(ctx context.Context, actor string, since time.Time, limit int, cursor string) (EventPage, error) {
	return s.events(ctx, actorPK(ActorKey(actor, actor)), since, limit, cursor)
}

func (s *Store) events(ctx context.Context, pk string, since time.Time, limit int, cursor string) (EventPage, error) {
	var out EventPage
	raw, next, err := s.page(ctx, pk, since, limit, cursor)
	if err != nil {
		return out, err
	}
	for _, m := range raw {
		var it eventItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return out, fmt.Errorf("decoding a history event: %w", err)
		}
		out.Events = append(out.Events, it.Event)
	}
	out.Cursor = next
	return out, nil
}

// page queries one partition from since, newest first. It asks for one item
// more than the page, so the last page has no cursor (DynamoDB may return a
// LastEvaluatedKey with nothing after it; moto does not).
//
// A cursor continues the query it came from, window included: since is
// then the cursor's, not the caller's. A caller asks for a window relative
// to now ("the last 24 h"), so each page would otherwise ask for another.
func (s *Store) page(ctx context.Context, pk string, since time.Time, limit int, cursor string) ([]map[string]types.AttributeValue, string, error) {
	if limit <= 0 {
		limit = 20
	}
	if limit > MaxPage {
		return nil, "", fmt.Errorf("history page size %d is over %d", limit, MaxPage)
	}
	from := timeKey(since)
	var start map[string]types.AttributeValue
	if cursor != "" {
		cfrom, sk, err := s.openCursor(cursor, pk)
		if err != nil {
			return nil, "", err
		}
		from = cfrom
		start = map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: pk}, attrSK: &types.AttributeValueMemberS{Value: sk},
		}
	}
	kc := expression.KeyAnd(expression.Key(attrPK).Equal(expression.Value(pk)), expression.Key(attrSK).GreaterThanEqual(expression.Value(from)))
	e, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return nil, "", fmt.Errorf("building the history query: %w", err)
	}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: e.KeyCondition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit + 1)),
		ExclusiveStartKey: start,
	}
	out, err := s.db.Query(ctx, in)
	if err := s.track("reading history", err); err != nil {
		return nil, "", err
	}
	items := out.Items
	next := ""
	switch {
	case len(items) > limit:
		items = items[:limit]
		next = s.sealCursor(pk, from, skOf(items[limit-1]))
	case len(out.LastEvaluatedKey) > 0 && len(items) > 0:
		// DynamoDB's 1 MB page ended before the limit: carry on from there.
		next = s.sealCursor(pk, from, skOf(items[len(items)-1]))
	}
	return items, next, nil
}

func skOf(m map[string]types.AttributeValue) string {
	if v, ok := m[attrSK].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// cursorBody is what a history cursor carries: the last sort key of a page,
// bound to the query it came from (partition and window) and to the
// ledger that gave it (account and table): a cursor from another
// account's ledger, or another history, is refused with ErrBadCursor.
type cursorBody struct {
	V       int    `json:"v"`
	Account string `json:"a,omitempty"`
	Table   string `json:"t"`
	PK      string `json:"p"`
	Since   string `json:"s"`
	SK      string `json:"k"`
}

// sealCursor encodes a cursor with a checksum. The checksum catches a
// changed or truncated cursor; it is not a secret, and needs none: a forged
// one can only page through the same partition the caller may read anyway.
func (s *Store) sealCursor(pk, since, sk string) string {
	b, _ := json.Marshal(cursorBody{V: 2, Account: s.opt.Account, Table: s.table, PK: pk, Since: since, SK: sk})
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(sum[:8])
}

// openCursor returns the window and the last sort key a cursor of
// partition pk carries; ErrBadCursor when it was changed or is another
// partition's.
func (s *Store) openCursor(c, pk string) (since, sk string, err error) {
	body, sig, ok := strings.Cut(c, ".")
	if !ok {
		return "", "", ErrBadCursor
	}
	b, err1 := base64.RawURLEncoding.DecodeString(body)
	want, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err := errors.Join(err1, err2); err != nil {
		return "", "", ErrBadCursor
	}
	sum := sha256.Sum256(b)
	if string(sum[:8]) != string(want) {
		return "", "", ErrBadCursor
	}
	var cb cursorBody
	if err := json.Unmarshal(b, &cb); err != nil || cb.V != 2 || cb.PK != pk || cmp.Compare(cb.SK, cb.Since) < 0 ||
		cb.Account != s.opt.Account || cb.Table != s.table {
		return "", "", ErrBadCursor
	}
	// A cursor's window is the one it was sealed with; it never reaches
	// further back than the ledger keeps anything.
	if floor := timeKey(s.opt.Now().Add(-s.opt.Retention)); cb.Since < floor {
		cb.Since = floor
	}
	return cb.Since, cb.SK, nil
}
