package conformance_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu/sqstest"
)

// TestSQSSuiteOnMoto runs the SQS suite internal/awsemu runs against the
// project's emulator against moto's SQS: the failure queue's behaviour
// (queue URLs, send, receive, delete, the size limit and the error codes)
// as the guard and its end-to-end tests use it. Each case makes its own
// queue, so moto is reset once.
func TestSQSSuiteOnMoto(t *testing.T) {
	endpoint := moto(t)
	sqstest.Run(t, func(t *testing.T) *sqs.Client {
		return sqs.NewFromConfig(awsConfig("eu-west-1"), func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	})
}
