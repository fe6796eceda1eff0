// Package ledger is dhmc-guard's run ledger, one DynamoDB table: the runs
// that found something or failed, every denied attempt, the history of each
// item and actor, the alert outbox, and the state of the alert windows
// (groups and flapping items). The window rules themselves are pure
// functions (Decide, in window.go); the Store only reads and writes.
//
// Keys (string pk and sk; every item expires through the expiresAt TTL
// attribute, and readers filter by time since DynamoDB deletes lazily):
//
//	pk                      sk                          what
//	RUN                     <time>#<run>                a run: summary attributes + the report as JSON
//	ITEM#<item>#<kind>      <time>#<run>#<n>            an item's history (item: Region or "iam")
//	ACTOR#<actor>           <time>#<run>#<n>            an actor's history (findings and denials)
//	OUTBOX                  A#<time>#<alert>            an alert not yet delivered
//	OUTBOX                  D#<group>                   a pending digest of a group
//	OUTBOX                  B#<item>#<kind>             a back-off of a flapping item
//	ALERT#<alert>           ALERT                       an alert's record and delivery state
//	DEDUP#<key>             DEDUP                       a claimed event ID (redeliveries)
//	GROUP#<group>           GROUP                       an alert group's window state
//	FLAP#<item>#<kind>      FLAP                        an item's repairs in the last 24 h
//	REGIONS                 LAST                        the last good list of enabled Regions
//	OUTBOX                  O#<item>#<kind>             an open problem, until resolved (open.go)
//
// Everything a run must learn before it starts (undelivered alerts, due
// digests, back-offs) lives in the one OUTBOX partition, so a compliant
// sweep makes one Query and no write. Histories are Queries on their own
// partition, never Scans; no secondary index is needed.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// API is the part of the DynamoDB client the ledger calls; the SDK's
// *dynamodb.Client satisfies it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Actions are the IAM actions the ledger needs on its table: API's methods,
// with TransactWriteItems authorised as the PutItem, UpdateItem and
// DeleteItem it contains. The template's policy grants exactly these.
var Actions = []string{
	"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchGetItem",
	"dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:DeleteItem",
}

// DefaultRetention is how long the ledger keeps what it records.
const DefaultRetention = 90 * 24 * time.Hour

// Options tune a Store; the zero value is the default.
type Options struct {
	// Retention sets expiresAt on every item. Default 90 days.
	Retention time.Duration
	// DedupRetention is how long a claimed event ID is remembered: longer
	// than EventBridge's retries of an event (6 h). Default 7 days.
	DedupRetention time.Duration
	// Attempts bounds the tries of a write that lost an optimistic
	// concurrency race (each re-reads first). Default 3.
	Attempts int
	// Account is the AWS account the table belongs to: history cursors are
	// bound to it (and to the table), so another account's is refused.
	Account string
	// Now is the clock (default time.Now), for the history window's floor.
	Now func() time.Time
}

// Store reads and writes the ledger's table.
type Store struct {
	db    API
	table string
	opt   Options
	// ok is whether the last DynamoDB call succeeded.
	ok atomic.Bool
}

// New returns a store on table.
func New(db API, table string, opt Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("ledger: no DynamoDB client")
	}
	if table == "" {
		return nil, errors.New("ledger: no table name")
	}
	if opt.Retention <= 0 {
		opt.Retention = DefaultRetention
	}
	if opt.DedupRetention <= 0 {
		opt.DedupRetention = 7 * 24 * time.Hour
	}
	if opt.Attempts <= 0 {
		opt.Attempts = 3
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Store{db: db, table: table, opt: opt}
	s.ok.Store(true)
	return s, nil
}

// ParseRetentionDays reads DHMC_LEDGER_TTL_DAYS: whole days, 1 to 3650;
// empty means DefaultRetention.
func ParseRetentionDays(v string) (time.Duration, error) {
	if v == "" {
		return DefaultRetention, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 3650 {
		return 0, fmt.Errorf("ledger retention %q must be a whole number of days from 1 to 3650", v)
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// Available reports whether the ledger's last call succeeded, so a message
// composed afterwards can say the ledger was unavailable.
func (s *Store) Available() bool { return s.ok.Load() }

// ErrUnavailable is wrapped by every error from DynamoDB: the ledger could
// not be read or written. Repairs go on (fail safe); alerts are sent anyway
// (fail open).
var ErrUnavailable = errors.New("ledger unavailable")

// ErrDuplicate: the run's event was already claimed, or an alert with the
// same dedup key already recorded; nothing was written and nothing must be
// sent again.
var ErrDuplicate = errors.New("already recorded")

// ErrBadCursor: a history cursor was tampered with or belongs to another
// history (another partition).
var ErrBadCursor = errors.New("history cursor is not valid (changed, or from another history)")

type unavailable struct {
	op  string
	err error
}

func (e *unavailable) Error() string { return "ledger " + e.op + ": " + e.err.Error() }
func (e *unavailable) Unwrap() []error {
	return []error{ErrUnavailable, e.err}
}

// track records whether a DynamoDB call worked and wraps its error.
func (s *Store) track(op string, err error) error {
	s.ok.Store(err == nil)
	if err == nil {
		return nil
	}
	return &unavailable{op: op, err: err}
}

func (s *Store) expires(now time.Time) int64 { return now.Add(s.opt.Retention).Unix() }
