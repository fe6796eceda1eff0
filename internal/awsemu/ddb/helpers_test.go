package ddb_test

import (
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

// The tests of this file's package drive the real SDK against a running
// awsemu.Server, which serves DynamoDB through this package. These helpers
// are internal/awsemu's own test helpers (helpers_test.go there), which an
// external test package cannot share.

// fastRetryer is the SDK's standard retryer with the backoff shrunk so fault
// tests stay fast; attempts and retry decisions are the SDK's own.
func fastRetryer(attempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
}

func cfg(s *awsemu.Server, region, akid string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(akid, "secret", ""),
		BaseEndpoint: aws.String(s.URL()),
		Retryer:      fastRetryer(3),
	}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
