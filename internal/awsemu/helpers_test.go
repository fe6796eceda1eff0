package awsemu_test

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

const (
	settingID  = "/ssm/managed-instance/default-ec2-instance-management-role"
	trustDoc   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	inlineDoc  = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]\n}"
	managedARN = "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"
)

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

type clients struct {
	ssm     *ssm.Client
	iam     *iam.Client
	sns     *sns.Client
	account *account.Client
	sts     *sts.Client
}

func newClients(s *awsemu.Server, region string) clients {
	c := cfg(s, region, "AKIDTEST")
	return clients{
		ssm: ssm.NewFromConfig(c), iam: iam.NewFromConfig(c), sns: sns.NewFromConfig(c),
		account: account.NewFromConfig(c), sts: sts.NewFromConfig(c),
	}
}

func decode(t *testing.T, s *string) string {
	t.Helper()
	if s == nil {
		t.Fatal("document is nil")
	}
	d, err := url.QueryUnescape(*s)
	if err != nil {
		t.Fatalf("document is not URL-encoded: %v (%q)", err, *s)
	}
	return d
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func iamCreate(name string) *iam.CreateRoleInput {
	return &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trustDoc)}
}

func iamGet(name string) *iam.GetRoleInput { return &iam.GetRoleInput{RoleName: aws.String(name)} }

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }
