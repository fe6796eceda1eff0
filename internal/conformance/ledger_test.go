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
func TestLedgerSuiteOnMoto(t *testing.T) {
	endpoint := moto(t)
	ledgertest.Run(t, func(t *testing.T) *dynamodb.Client {
		return dynamodb.NewFromConfig(awsConfig("eu-west-1"), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	})
}
