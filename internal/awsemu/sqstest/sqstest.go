// Package sqstest is the SQS behaviour dhmc-guard and its tests rely on
// (the failure queue), as one suite: internal/awsemu runs it against the
// project's emulator and internal/conformance against moto's SQS, so the
// two cannot disagree unnoticed.
package sqstest

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// Client returns an SQS client for a fresh, empty endpoint state or one
// where the suite's queue names are not taken.
type Client func(t *testing.T) *sqs.Client

// Account is the account the clients' credentials belong to.
const Account = "123456789012"

// AttributesDigest is MD5OfMessageAttributes for the attributes
// severity=high (String) and count=3 (Number), by SQS's documented
// algorithm (moto 5.2.5 answers it too).
const AttributesDigest = "f93a102831b10ec9d10c115514f0ee47"

// Run runs every case; each makes its own queues.
//
// Left out because moto differs from SQS: an unknown queue attribute
// (SQS: InvalidAttributeName; moto 5.2.5 accepts it). The emulator answers
// as SQS does (internal/awsemu/sqs_test.go).
func Run(t *testing.T, client Client) {
	t.Run("CreateQueueIsIdempotentAndGetQueueUrlFindsIt", func(t *testing.T) { createIdempotent(t, client(t)) })
	t.Run("CreateQueueAgainWithOtherAttributesIsQueueNameExists", func(t *testing.T) { createConflict(t, client(t)) })
	t.Run("MissingQueueIsQueueDoesNotExist", func(t *testing.T) { missingQueue(t, client(t)) })
	t.Run("SentMessagesAreReceivedThenDeleted", func(t *testing.T) { sendReceiveDelete(t, client(t)) })
	t.Run("AReceivedMessageIsInvisibleUntilItsTimeout", func(t *testing.T) { invisible(t, client(t)) })
	t.Run("MessageAttributesComeBackWhenAskedFor", func(t *testing.T) { attributes(t, client(t)) })
	t.Run("AMessageOverTheQueueLimitIsInvalidParameterValue", func(t *testing.T) { tooLarge(t, client(t)) })
	t.Run("ReceivingMoreThanTenIsInvalidParameterValue", func(t *testing.T) { receiveTooMany(t, client(t)) })
}

func create(t *testing.T, c *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func createIdempotent(t *testing.T, c *sqs.Client) {
	url := create(t, c, "failures", map[string]string{"MessageRetentionPeriod": "1209600"})
	if !strings.HasSuffix(url, "/"+Account+"/failures") {
		t.Errorf("queue URL %q does not end in /%s/failures", url, Account)
	}
	if again := create(t, c, "failures", map[string]string{"MessageRetentionPeriod": "1209600"}); again != url {
		t.Errorf("CreateQueue again = %q, want %q", again, url)
	}
	got, err := c.GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String("failures")})
	if err != nil || aws.ToString(got.QueueUrl) != url {
		t.Errorf("GetQueueUrl = %v, %v; want %q", got, err, url)
	}
}

func createConflict(t *testing.T, c *sqs.Client) {
	create(t, c, "conflict", map[string]string{"VisibilityTimeout": "30"})
	_, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("conflict"), Attributes: map[string]string{"VisibilityTimeout": "60"}})
	var exists *types.QueueNameExists
	if !errors.As(err, &exists) || code(err) != "QueueAlreadyExists" {
		t.Errorf("error %v (code %q), want QueueNameExists with code QueueAlreadyExists", err, code(err))
	}
}

func missingQueue(t *testing.T, c *sqs.Client) {
	_, err := c.GetQueueUrl(t.Context(), &sqs.GetQueueUrlInput{QueueName: aws.String("no-such-queue")})
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) || code(err) != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Errorf("GetQueueUrl: %v (code %q), want QueueDoesNotExist", err, code(err))
	}
	url := create(t, c, "exists", nil)
	gone := strings.TrimSuffix(url, "exists") + "gone"
	_, err = c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(gone), MessageBody: aws.String("x")})
	if !errors.As(err, &missing) {
		t.Errorf("SendMessage to %s: %v, want QueueDoesNotExist", gone, err)
	}
}

// receiveAll reads the queue until it is empty, deleting what it reads.
func receiveAll(t *testing.T, c *sqs.Client, url string) []types.Message {
	t.Helper()
	var all []types.Message
	for {
		out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		for _, m := range out.Messages {
			if _, err := c.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("DeleteMessage: %v", err)
			}
		}
		all = append(all, out.Messages...)
	}
}

func sendReceiveDelete(t *testing.T, c *sqs.Client) {
	url := create(t, c, "roundtrip", nil)
	want := map[string]bool{}
	for _, body := range []string{`{"reason":"one"}`, "two\nlines", "ünïcödé ✓"} {
		out, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)})
		if err != nil {
			t.Fatalf("SendMessage %q: %v", body, err)
		}
		if aws.ToString(out.MessageId) == "" || aws.ToString(out.MD5OfMessageBody) == "" {
			t.Errorf("SendMessage answered %+v, want an ID and the body's MD5", out)
		}
		want[body] = true
	}
	got := receiveAll(t, c, url)
	if len(got) != len(want) {
		t.Fatalf("received %d messages, want %d", len(got), len(want))
	}
	for _, m := range got {
		if !want[aws.ToString(m.Body)] {
			t.Errorf("received %q, not sent", aws.ToString(m.Body))
		}
	}
	if again := receiveAll(t, c, url); len(again) != 0 {
		t.Errorf("deleted messages came back: %d", len(again))
	}
}

func invisible(t *testing.T, c *sqs.Client) {
	url := create(t, c, "visibility", nil)
	if _, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("once")}); err != nil {
		t.Fatal(err)
	}
	first, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), VisibilityTimeout: 30})
	if err != nil || len(first.Messages) != 1 {
		t.Fatalf("first receive: %v, %v", first, err)
	}
	second, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url)})
	if err != nil || len(second.Messages) != 0 {
		t.Errorf("second receive = %d messages, %v; want none while the first is in flight", len(second.Messages), err)
	}
}

func attributes(t *testing.T, c *sqs.Client) {
	url := create(t, c, "attributes", nil)
	sent, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{
		QueueUrl: aws.String(url), MessageBody: aws.String("with attributes"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"severity": {DataType: aws.String("String"), StringValue: aws.String("high")},
			"count":    {DataType: aws.String("Number"), StringValue: aws.String("3")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(sent.MD5OfMessageAttributes); got != AttributesDigest {
		t.Errorf("MD5OfMessageAttributes = %q, want %q", got, AttributesDigest)
	}
	out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive: %v, %v", out, err)
	}
	m := out.Messages[0]
	if got := aws.ToString(m.MessageAttributes["severity"].StringValue); got != "high" {
		t.Errorf("severity attribute = %q, want high", got)
	}
	if got := aws.ToString(m.MD5OfMessageAttributes); got != AttributesDigest {
		t.Errorf("received MD5OfMessageAttributes = %q, want %q", got, AttributesDigest)
	}
	if got := m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]; got != "1" {
		t.Errorf("ApproximateReceiveCount = %q, want 1", got)
	}
}

func tooLarge(t *testing.T, c *sqs.Client) {
	url := create(t, c, "small", map[string]string{"MaximumMessageSize": "262144"})
	if _, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(strings.Repeat("x", 262144))}); err != nil {
		t.Errorf("a message of exactly the limit: %v", err)
	}
	_, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(strings.Repeat("x", 262145))})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" || !strings.Contains(ae.ErrorMessage(), "262144") {
		t.Errorf("a message over the limit: %v, want InvalidParameterValue naming 262144", err)
	}
}

func receiveTooMany(t *testing.T, c *sqs.Client) {
	url := create(t, c, "too-many", nil)
	_, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 11})
	if code(err) != "InvalidParameterValue" {
		t.Errorf("error %v (code %q), want InvalidParameterValue", err, code(err))
	}
}
