package conformance_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dhmc-guard/dhmc-guard/internal/ledger/ledgertest"
)

// TestLedgerSuiteOnMoto runs the run ledger's suite, the one
// internal/ledger runs against the project's emulator, against moto's
// DynamoDB. Each case makes its own table, so moto is reset once.
//
// moto deviation tolerated: a Query whose Limit is reached returns a
// LastEvaluatedKey only when more items follow (DynamoDB returns it whenever
// the limit is reached, so a last page can be empty). The ledger asks for
// one item more than a page and never relies on either.
//
// Seen once against moto 5.2.5 and left alone, because the ledger never
// sends such requests (the SDK's expression builder and attributevalue
// write them): moto answers HTTP 500 with an HTML page for an undefined
// #name or :value, a syntax error or OR in a key condition (DynamoDB: a
// ValidationException); accepts unused ExpressionAttributeValues, a key of
// the wrong type, and enabling TTL twice; and keeps numbers as sent
// ("0012.500") where DynamoDB trims them ("12.5"). The emulator answers as
// DynamoDB does in each case (internal/awsemu/ddb/service_test.go).
func TestLedgerSuiteOnMoto(t *testing.T) {
	endpoint := moto(t)
	ledgertest.Run(t, func(t *testing.T) *dynamodb.Client {
		return dynamodb.NewFromConfig(awsConfig("eu-west-1"), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	})
}
