package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func TestMessagesLogWritesEachPublishedMessageOnce(t *testing.T) {
	emu := awsemu.New()
	var out bytes.Buffer
	srv := httptest.NewServer(&messageLog{next: emu, emu: emu, out: &out})
	defer srv.Close()
	arn := emu.CreateTopic(awsemu.DefaultAccount, "eu-west-1", "alerts")
	c := sns.NewFromConfig(aws.Config{
		Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	for _, subject := range []string{"one", "two"} {
		if _, err := c.Publish(t.Context(), &sns.PublishInput{TopicArn: aws.String(arn), Subject: aws.String(subject), Message: aws.String("m")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListTopics(t.Context(), &sns.ListTopicsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	var subjects []string
	s := bufio.NewScanner(&out)
	for s.Scan() {
		var m awsemu.MessageRecord
		if err := json.Unmarshal(s.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", s.Text(), err)
		}
		subjects = append(subjects, m.Subject)
	}
	if len(subjects) != 2 || subjects[0] != "one" || subjects[1] != "two" {
		t.Errorf("logged subjects %v, want [one two], each once", subjects)
	}
}
