package ledger_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger/ledgertest"
)

// TestTheLastGoodRegionListIsKeptAndReadBack: the list a listing returned
// is read back whole; none kept is nil; an expired one is nil; a bad list
// is refused on write and, forged in the table, on read.
func TestTheLastGoodRegionListIsKeptAndReadBack(t *testing.T) {
	c := emuClient(awsemu.StartTest(t))
	s, _ := ledgertest.NewTable(t, c, ledger.Options{Retention: 24 * time.Hour})
	ctx := t.Context()
	at := ledgertest.Base
	if got, _, err := s.LastRegions(ctx, at); err != nil || got != nil {
		t.Fatalf("nothing kept: %v, %v; want nil, nil", got, err)
	}
	want := []string{"eu-central-1", "eu-west-1", "us-east-1"}
	if err := s.KeepRegions(ctx, want, at); err != nil {
		t.Fatal(err)
	}
	got, keptAt, err := s.LastRegions(ctx, at.Add(time.Hour))
	if err != nil || !slices.Equal(got, want) || !keptAt.Equal(at) {
		t.Errorf("read back %v at %s (%v), want %v at %s", got, keptAt, err, want, at)
	}
	if got, _, err := s.LastRegions(ctx, at.Add(25*time.Hour)); err != nil || got != nil {
		t.Errorf("after the retention: %v, %v; want nil", got, err)
	}
	for _, bad := range [][]string{nil, {"eu-west-1", "not a region"}, slices.Repeat([]string{"eu-west-1"}, 65)} {
		if err := s.KeepRegions(ctx, bad, at); err == nil {
			t.Errorf("KeepRegions(%d Regions %.40q) accepted", len(bad), bad)
		}
	}
	// Anyone who may write the table could forge the item.
	if _, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(ledgertest.TableName(t)),
		Key:                       map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "REGIONS"}, "sk": &types.AttributeValueMemberS{Value: "LAST"}},
		UpdateExpression:          aws.String("SET regions = :r"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":r": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "../../etc"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.LastRegions(ctx, at); err == nil {
		t.Errorf("a forged list was used: %v", got)
	}
}
