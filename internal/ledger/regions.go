package ledger

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// The last good list of the account's enabled Regions: one item, written
// when a listing succeeds with a list other than the one this execution
// environment last kept, read only when a listing fails. A cold start whose
// account:ListRegions is denied then still checks every Region it knew.
const (
	pkRegions = "REGIONS"
	skRegions = "LAST"
)

// MaxKeptRegions bounds the list: more than any partition has. A longer or
// malformed item (the table is writable by others) is refused, not used to
// build clients for.
const MaxKeptRegions = 64

type regionsItem struct {
	key
	Regions   []string  `dynamodbav:"regions"`
	KeptAt    time.Time `dynamodbav:"keptAt"`
	ExpiresAt int64     `dynamodbav:"expiresAt"`
}

// KeepRegions remembers regions as the last good list of enabled Regions.
func (s *Store) KeepRegions(ctx context.Context, regions []string, now time.Time) error {
	if err := checkRegions(regions); err != nil {
		return err
	}
	k, err := marshalKey(key{pkRegions, skRegions})
	if err != nil {
		return err
	}
	e, err := expression.NewBuilder().WithUpdate(expression.
		Set(expression.Name("regions"), expression.Value(regions)).
		Set(expression.Name("keptAt"), expression.Value(now.UTC().Format(time.RFC3339Nano))).
		Set(expression.Name(attrExpires), expression.Value(s.expires(now)))).Build()
	if err != nil {
		return fmt.Errorf("building the Region list update: %w", err)
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: k, UpdateExpression: e.Update(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	})
	return s.track("keeping the Region list", err)
}

// LastRegions is the last good list of enabled Regions and when it was
// kept; nil when there is none (or it expired).
func (s *Store) LastRegions(ctx context.Context, now time.Time) ([]string, time.Time, error) {
	k, err := marshalKey(key{pkRegions, skRegions})
	if err != nil {
		return nil, time.Time{}, err
	}
	got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: k, ConsistentRead: aws.Bool(true)})
	if err := s.track("reading the Region list", err); err != nil {
		return nil, time.Time{}, err
	}
	if got.Item == nil {
		return nil, time.Time{}, nil
	}
	var it regionsItem
	if err := attributevalue.UnmarshalMap(got.Item, &it); err != nil {
		return nil, time.Time{}, fmt.Errorf("decoding the kept Region list: %w", err)
	}
	if it.ExpiresAt != 0 && now.Unix() > it.ExpiresAt {
		return nil, time.Time{}, nil // DynamoDB deletes expired items lazily
	}
	if err := checkRegions(it.Regions); err != nil {
		return nil, time.Time{}, fmt.Errorf("the kept Region list: %w", err)
	}
	return it.Regions, it.KeptAt, nil
}

func checkRegions(regions []string) error {
	if len(regions) == 0 || len(regions) > MaxKeptRegions {
		return fmt.Errorf("a Region list must hold 1 to %d Regions, not %d", MaxKeptRegions, len(regions))
	}
	if i := slices.IndexFunc(regions, func(r string) bool { return !dhmc.ValidRegion(r) }); i >= 0 {
		return fmt.Errorf("%q in the Region list is not a Region code", regions[i])
	}
	return nil
}
