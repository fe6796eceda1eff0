package awsemu_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func getJSON(t *testing.T, url string, into any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if into != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatalf("decoding %s: %v", url, err)
		}
	}
	return resp.StatusCode
}

func TestControlEndpointsShowMessagesAndCallsWithoutSigV4(t *testing.T) {
	s := awsemu.StartTest(t)
	arn := s.CreateTopic(awsemu.DefaultAccount, "eu-west-1", "alerts")
	c := newClients(s, "eu-west-1").sns
	for _, subject := range []string{"first", "second"} {
		if _, err := c.Publish(t.Context(), &sns.PublishInput{
			TopicArn: aws.String(arn), Subject: aws.String(subject), Message: aws.String("body of " + subject),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{"severity": {DataType: aws.String("String"), StringValue: aws.String("high")}},
		}); err != nil {
			t.Fatal(err)
		}
	}

	var got struct{ Messages []awsemu.MessageRecord }
	if code := getJSON(t, s.URL()+"/_emulator/messages", &got); code != http.StatusOK {
		t.Fatalf("GET messages: HTTP %d", code)
	}
	if len(got.Messages) != 2 {
		t.Fatalf("messages = %+v, want 2", got.Messages)
	}
	m := got.Messages[1]
	if m.TopicARN != arn || m.Subject != "second" || m.Message != "body of second" || m.Attributes["severity"] != "high" ||
		m.Region != "eu-west-1" || m.Account != awsemu.DefaultAccount || m.MessageID == "" {
		t.Errorf("message = %+v", m)
	}
	got.Messages = nil
	getJSON(t, s.URL()+"/_emulator/messages?since=1", &got)
	if len(got.Messages) != 1 || got.Messages[0].Subject != "second" {
		t.Errorf("since=1: %+v, want only the second", got.Messages)
	}
	got.Messages = nil
	getJSON(t, s.URL()+"/_emulator/messages?since=9", &got)
	if got.Messages == nil || len(got.Messages) != 0 {
		t.Errorf("since past the end: %+v, want an empty list", got.Messages)
	}

	var calls struct{ Calls []awsemu.CallRecord }
	getJSON(t, s.URL()+"/_emulator/calls", &calls)
	if len(calls.Calls) != 2 || calls.Calls[0].Operation != "Publish" || calls.Calls[0].Service != "sns" || !calls.Calls[0].Write {
		t.Errorf("calls = %+v, want the two Publish calls", calls.Calls)
	}
	if n := len(s.Calls()); n != 2 {
		t.Errorf("reading the control endpoints logged calls: %d, want 2", n)
	}

	for _, tt := range []struct {
		path string
		want int
	}{{"/_emulator/nothing", http.StatusNotFound}, {"/_emulator/messages?since=-1", http.StatusBadRequest}} {
		if code := getJSON(t, s.URL()+tt.path, nil); code != tt.want {
			t.Errorf("GET %s: HTTP %d, want %d", tt.path, code, tt.want)
		}
	}
	resp, err := http.Post(s.URL()+"/_emulator/messages", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: HTTP %d, want 405", resp.StatusCode)
	}
}

func TestControlEndpointsRefuseOtherHosts(t *testing.T) {
	s := awsemu.New()
	req := httptest.NewRequest(http.MethodGet, "/_emulator/messages", nil)
	req.RemoteAddr = "192.0.2.10:40000"
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Errorf("from 192.0.2.10: HTTP %d, want 403", w.Code)
	}
	req.RemoteAddr = "[::1]:40000"
	w = httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Errorf("from ::1: HTTP %d, want 200", w.Code)
	}
}
