package awsemu_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func TestSNSPublishRecordsTheMessageWithSubjectAndAttributes(t *testing.T) {
	s := awsemu.StartTest(t)
	c := newClients(s, "eu-west-1").sns
	ctx := t.Context()
	created, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("dhmc-alerts")})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	arn := aws.ToString(created.TopicArn)
	if arn != "arn:aws:sns:eu-west-1:123456789012:dhmc-alerts" {
		t.Errorf("topic ARN = %q", arn)
	}
	if again := s.CreateTopic(awsemu.DefaultAccount, "eu-west-1", "dhmc-alerts"); again != arn {
		t.Errorf("CreateTopic is not idempotent: %q vs %q", again, arn)
	}
	sub, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:eu-west-1:123456789012:q")})
	if err != nil || !strings.HasPrefix(aws.ToString(sub.SubscriptionArn), arn+":") {
		t.Errorf("Subscribe = %v, %v", sub, err)
	}
	out, err := c.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(arn), Subject: aws.String("DHMC drift in eu-west-1"), Message: aws.String("body text"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"severity": {DataType: aws.String("String"), StringValue: aws.String("high")},
			"count":    {DataType: aws.String("Number"), StringValue: aws.String("3")},
		},
	})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %d, want 1", len(msgs))
	}
	m := msgs[0]
	if m.TopicARN != arn || m.Subject != "DHMC drift in eu-west-1" || m.Body != "body text" || m.Region != "eu-west-1" ||
		m.Account != awsemu.DefaultAccount || m.Attributes["severity"] != "high" || m.Attributes["count"] != "3" ||
		m.MessageID != aws.ToString(out.MessageId) {
		t.Errorf("message = %+v", m)
	}
}

func TestSNSPublishErrorsSurfaceAsTypedSDKErrors(t *testing.T) {
	s := awsemu.StartTest(t)
	arn := s.CreateTopic(awsemu.DefaultAccount, "eu-west-1", "t")
	c := newClients(s, "eu-west-1").sns
	var (
		invalid  *snstypes.InvalidParameterException
		badValue *snstypes.InvalidParameterValueException
		notFound *snstypes.NotFoundException
	)
	tests := []struct {
		name string
		in   *sns.PublishInput
		as   any
		code string
	}{
		{"subject of 100 characters", &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("m"), Subject: aws.String(strings.Repeat("s", 100))}, &invalid, "InvalidParameter"},
		{"subject with a line break", &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("m"), Subject: aws.String("a\nb")}, &invalid, "InvalidParameter"},
		{"message over 256 KiB", &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String(strings.Repeat("x", 256*1024+1))}, &invalid, "InvalidParameter"},
		{"empty message", &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("")}, &invalid, "InvalidParameter"},
		{"unknown topic", &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:eu-west-1:123456789012:nope"), Message: aws.String("m")}, &notFound, "NotFound"},
		{"topic of another Region", &sns.PublishInput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:t"), Message: aws.String("m")}, &invalid, "InvalidParameter"},
		{"attribute of an unknown type", &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("m"), MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"a": {DataType: aws.String("Blob"), StringValue: aws.String("v")},
		}}, &badValue, "ParameterValueInvalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Publish(t.Context(), tt.in)
			if err == nil {
				t.Fatal("err = nil, want an error")
			}
			if !errors.As(err, tt.as) {
				t.Errorf("err = %T %v, want %T", err, err, tt.as)
			}
			if got := apiCode(err); got != tt.code {
				t.Errorf("code = %q, want %q", got, tt.code)
			}
		})
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d messages recorded from failed publishes", n)
	}
	// A subject of 99 characters ("less than 100") and a message of exactly 256 KiB pass.
	if _, err := c.Publish(t.Context(), &sns.PublishInput{TopicArn: aws.String(arn), Subject: aws.String(strings.Repeat("s", 99)), Message: aws.String(strings.Repeat("x", 256*1024))}); err != nil {
		t.Errorf("publish at the limits: %v", err)
	}
}

func TestSNSPublishWithMessageStructureKeepsEachProtocolsMessage(t *testing.T) {
	s := awsemu.StartTest(t)
	arn := s.CreateTopic(awsemu.DefaultAccount, "eu-west-1", "t")
	c := newClients(s, "eu-west-1").sns
	_, err := c.Publish(t.Context(), &sns.PublishInput{
		TopicArn: aws.String(arn), Subject: aws.String("s"), MessageStructure: aws.String("json"),
		Message: aws.String(`{"default":"plain text","https":"{\"version\":\"1.0\"}"}`),
	})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %d, want 1", len(msgs))
	}
	m := msgs[0]
	tests := []struct{ protocol, want string }{
		{"email", "plain text"}, // no key of its own: the default
		{"sqs", "plain text"},
		{"https", `{"version":"1.0"}`},
	}
	for _, tt := range tests {
		if got := m.For(tt.protocol); got != tt.want {
			t.Errorf("%s subscribers get %q, want %q", tt.protocol, got, tt.want)
		}
	}
	if m.Body != "plain text" {
		t.Errorf("Body = %q, want the default", m.Body)
	}
}

func TestSNSPublishRefusesABadMessageStructure(t *testing.T) {
	s := awsemu.StartTest(t)
	arn := s.CreateTopic(awsemu.DefaultAccount, "eu-west-1", "t")
	c := newClients(s, "eu-west-1").sns
	tests := []struct{ name, structure, message string }{
		{"no default", "json", `{"email":"x"}`},
		{"not JSON", "json", `default: x`},
		{"a JSON array", "json", `["x"]`},
		{"default not a string", "json", `{"default":{"x":1}}`},
		{"unknown structure", "xml", `{"default":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Publish(t.Context(), &sns.PublishInput{
				TopicArn: aws.String(arn), MessageStructure: aws.String(tt.structure), Message: aws.String(tt.message),
			})
			var invalid *snstypes.InvalidParameterException
			if !errors.As(err, &invalid) {
				t.Fatalf("err = %T %v, want InvalidParameter", err, err)
			}
		})
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d messages recorded from refused publishes", n)
	}
}
