package awsemu_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/awsemu/sqstest"
)

func sqsClient(s *awsemu.Server, region string) *sqs.Client {
	return sqs.NewFromConfig(cfg(s, region, "AKIDTEST"))
}

func TestSQSSuiteOnTheEmulator(t *testing.T) {
	sqstest.Run(t, func(t *testing.T) *sqs.Client { return sqsClient(awsemu.StartTest(t), "eu-west-1") })
}

func TestSQSQueueURLIsShapedAsAWSsAndQueueMessagesReadsIt(t *testing.T) {
	s := awsemu.StartTest(t)
	c := sqsClient(s, "eu-west-1")
	out, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("dhmc-guard-failures")})
	if err != nil {
		t.Fatal(err)
	}
	want := "https://sqs.eu-west-1.amazonaws.com/123456789012/dhmc-guard-failures"
	if got := aws.ToString(out.QueueUrl); got != want {
		t.Fatalf("QueueUrl = %q, want %q", got, want)
	}
	for _, body := range []string{"first", "second"} {
		if _, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	got := s.QueueMessages(awsemu.DefaultAccount, "eu-west-1", "dhmc-guard-failures")
	if strings.Join(got, ",") != "first,second" {
		t.Errorf("QueueMessages = %q, want first, second", got)
	}
	if other := s.QueueMessages(awsemu.DefaultAccount, "us-east-1", "dhmc-guard-failures"); other != nil {
		t.Errorf("the queue shows in another Region: %q", other)
	}
	// The endpoint of another Region does not know the queue.
	_, err = sqsClient(s, "us-east-1").SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String("x")})
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) {
		t.Errorf("sending through us-east-1: %v, want QueueDoesNotExist", err)
	}
}

func TestSQSFaultsAnswerInSQSsCodes(t *testing.T) {
	cases := []struct {
		kind   awsemu.FaultKind
		code   string
		status int
	}{
		{awsemu.FaultThrottle, "RequestThrottled", http.StatusForbidden},
		{awsemu.FaultServerError, "InternalFailure", http.StatusInternalServerError},
		{awsemu.FaultAccessDenied, "AccessDenied", http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			s := awsemu.StartTest(t)
			c := sqsClient(s, "eu-west-1")
			q, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("q")})
			if err != nil {
				t.Fatal(err)
			}
			s.Inject(awsemu.Fault{Op: "sqs:SendMessage", Kind: tc.kind})
			_, err = c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x")})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Fatalf("error %v, want code %s", err, tc.code)
			}
			n := s.CountCalls(func(c awsemu.Call) bool {
				return c.Service == "sqs" && c.Operation == "SendMessage" && c.ErrorCode == tc.code && c.Status == tc.status
			})
			if n == 0 {
				t.Errorf("call log has no SendMessage answered %d %s: %+v", tc.status, tc.code, s.Calls())
			}
			if got := s.QueueMessages(awsemu.DefaultAccount, "eu-west-1", "q"); len(got) != 0 {
				t.Errorf("a faulted send reached the queue: %q", got)
			}
		})
	}
}

func TestSQSAFaultForOneAttemptIsRetriedByTheSDK(t *testing.T) {
	s := awsemu.StartTest(t)
	c := sqsClient(s, "eu-west-1")
	q, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	s.Inject(awsemu.Fault{Op: "sqs:SendMessage", Kind: awsemu.FaultServerError, Times: 1})
	if _, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x")}); err != nil {
		t.Fatalf("SendMessage after one failed attempt: %v", err)
	}
	if got := s.QueueMessages(awsemu.DefaultAccount, "eu-west-1", "q"); len(got) != 1 {
		t.Errorf("queue holds %d messages, want 1", len(got))
	}
}

func TestSQSBadInputIsRefusedWithNothingQueued(t *testing.T) {
	s := awsemu.StartTest(t)
	c := sqsClient(s, "eu-west-1")
	q, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		in   *sqs.SendMessageInput
		code string
	}{
		"empty body":         {&sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("")}, "MissingParameter"},
		"control character":  {&sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("bell\x07")}, "InvalidMessageContents"},
		"over 1 MiB":         {&sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(strings.Repeat("x", 1<<20+1))}, "InvalidParameterValue"},
		"delay over 900 s":   {&sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x"), DelaySeconds: 901}, "InvalidParameterValue"},
		"not a queue URL":    {&sqs.SendMessageInput{QueueUrl: aws.String("failures"), MessageBody: aws.String("x")}, "AWS.SimpleQueueService.NonExistentQueue"},
		"attribute no value": {&sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("x"), MessageAttributes: map[string]types.MessageAttributeValue{"a": {DataType: aws.String("String")}}}, "InvalidParameterValue"},
	}
	for name, tc := range cases {
		_, err := c.SendMessage(t.Context(), tc.in, func(o *sqs.Options) { o.RetryMaxAttempts = 1 })
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
			t.Errorf("%s: error %v, want %s", name, err, tc.code)
		}
	}
	if got := s.QueueMessages(awsemu.DefaultAccount, "eu-west-1", "q"); len(got) != 0 {
		t.Errorf("bad input reached the queue: %d messages", len(got))
	}
	_, err = c.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: aws.String("not-a-handle")})
	var bad *types.ReceiptHandleIsInvalid
	if !errors.As(err, &bad) {
		t.Errorf("DeleteMessage with a bad handle: %v, want ReceiptHandleIsInvalid", err)
	}
}

// SQS refuses an attribute it does not know; moto accepts it, so this is not
// in the shared suite.
func TestSQSAnUnknownQueueAttributeIsInvalidAttributeName(t *testing.T) {
	s := awsemu.StartTest(t)
	_, err := sqsClient(s, "eu-west-1").CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("bad-attr"), Attributes: map[string]string{"Colour": "blue"}})
	var bad *types.InvalidAttributeName
	if !errors.As(err, &bad) {
		t.Errorf("error %v, want InvalidAttributeName", err)
	}
}
