package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The Security Hub memory: what was last sent to Security Hub for each item
// (internal/securityhub's Memory, one JSON document the ledger does not
// read). One item, so a run reads it with one GetItem when Security Hub
// findings are on, and never otherwise.
//
//	pk                      sk          what
//	SECURITYHUB             MEMORY      doc (JSON), version, expiresAt
const (
	pkFindings = "SECURITYHUB"
	skFindings = "MEMORY"
)

// ErrStale: another run saved the Security Hub memory since it was read.
// Nothing was written; the next run compares against the newer memory and
// sends again whatever this run's sends left unrecorded.
var ErrStale = errors.New("changed by another run since it was read")

// FindingsMemory is the Security Hub memory as stored, with the version a
// save must match.
type FindingsMemory struct {
	Doc     []byte
	Version int64
}

// LoadFindings reads the Security Hub memory; an empty one (version 0)
// when there is none yet.
func (s *Store) LoadFindings(ctx context.Context) (FindingsMemory, error) {
	k, err := marshalKey(key{pkFindings, skFindings})
	if err != nil {
		return FindingsMemory{}, err
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: k, ConsistentRead: aws.Bool(true)})
	if err = s.track("reading the Security Hub memory", err); err != nil {
		return FindingsMemory{}, err
	}
	var m FindingsMemory
	if d, ok := out.Item["doc"].(*types.AttributeValueMemberS); ok {
		m.Doc = []byte(d.Value)
	}
	if v, ok := out.Item["version"].(*types.AttributeValueMemberN); ok {
		if m.Version, err = strconv.ParseInt(v.Value, 10, 64); err != nil {
			return FindingsMemory{}, fmt.Errorf("ledger: Security Hub memory version %q: %w", v.Value, err)
		}
	}
	return m, nil
}

// SaveFindings writes doc over the memory read at version read, so two
// runs cannot overwrite each other's record unnoticed (ErrStale).
func (s *Store) SaveFindings(ctx context.Context, doc []byte, read int64, now time.Time) error {
	k, err := marshalKey(key{pkFindings, skFindings})
	if err != nil {
		return err
	}
	cond := "attribute_not_exists(pk)"
	values := map[string]types.AttributeValue{
		":doc":  &types.AttributeValueMemberS{Value: string(doc)},
		":next": &types.AttributeValueMemberN{Value: strconv.FormatInt(read+1, 10)},
		":exp":  &types.AttributeValueMemberN{Value: strconv.FormatInt(s.expires(now), 10)},
	}
	if read > 0 {
		cond = "#v = :read"
		values[":read"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(read, 10)}
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: k,
		UpdateExpression:          aws.String("SET #d = :doc, #v = :next, #e = :exp"),
		ExpressionAttributeNames:  map[string]string{"#d": "doc", "#v": "version", "#e": attrExpires},
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: values,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		s.ok.Store(true)
		return ErrStale
	}
	return s.track("saving the Security Hub memory", err)
}
