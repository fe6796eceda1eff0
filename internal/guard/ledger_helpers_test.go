package guard_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/guard"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// newLedgerHandler is newHandler with the stack main wires when the
// template deploys it: the run ledger and the failure queue.
func newLedgerHandler(t *testing.T, p ledger.Policy) (*guard.Handler, *awsemu.Server) {
	t.Helper()
	h, emu := newHandler(t)
	stack, err := sandbox.CreateStack(t.Context(), emu)
	if err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{
		Region:       sandbox.HomeRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("ASIAGUARDFUNCTION000", "x", "x"),
		BaseEndpoint: aws.String(emu.URL()),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = time.Millisecond })
		},
	}
	store, err := ledger.New(dynamodb.NewFromConfig(cfg), stack.LedgerTable, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.Ledger, h.Policy = store, p
	h.Failures, h.FailureQueueURL = sqs.NewFromConfig(cfg), stack.FailureQueueURL
	return h, emu
}
