package awsemu_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func TestSNSListTopicsPagesThroughTheRegionsTopics(t *testing.T) {
	s := awsemu.StartTest(t)
	var want []string
	for i := range 205 {
		want = append(want, s.CreateTopic(awsemu.DefaultAccount, "eu-west-1", fmt.Sprintf("topic-%03d", i)))
	}
	s.CreateTopic(awsemu.DefaultAccount, "us-east-1", "elsewhere")
	s.CreateTopic("210987654321", "eu-west-1", "other-account")
	slices.Sort(want)

	var got []string
	pages := 0
	p := sns.NewListTopicsPaginator(newClients(s, "eu-west-1").sns, &sns.ListTopicsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("ListTopics page %d: %v", pages+1, err)
		}
		pages++
		if len(out.Topics) > 100 {
			t.Errorf("page %d holds %d topics, want at most 100", pages, len(out.Topics))
		}
		for _, tp := range out.Topics {
			got = append(got, aws.ToString(tp.TopicArn))
		}
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3 for 205 topics", pages)
	}
	if !slices.Equal(got, want) {
		t.Errorf("listed %d topics, want the %d of this account and Region", len(got), len(want))
	}
}

func TestSNSListTopicsWithNoTopicsAndABadToken(t *testing.T) {
	s := awsemu.StartTest(t)
	c := newClients(s, "eu-west-1").sns
	out, err := c.ListTopics(t.Context(), &sns.ListTopicsInput{})
	if err != nil || len(out.Topics) != 0 || out.NextToken != nil {
		t.Errorf("empty Region: %+v, %v; want no topics and no token", out, err)
	}
	_, err = c.ListTopics(t.Context(), &sns.ListTopicsInput{NextToken: aws.String("not-a-token")})
	var invalid *snstypes.InvalidParameterException
	if !errorsAs(err, &invalid) {
		t.Errorf("bad token: err = %v, want InvalidParameter", err)
	}
}

func TestSNSPublishTakesUTF8SubjectsAndRefusesControlCharacters(t *testing.T) {
	s := awsemu.StartTest(t)
	arn := s.CreateTopic(awsemu.DefaultAccount, "eu-west-1", "t")
	c := newClients(s, "eu-west-1").sns
	for _, tt := range []struct {
		subject string
		ok      bool
	}{
		{"DHMC drift repaired in 3 Regions of 123456789012", true},
		{" leading space and punctuation!", true},
		{"Dérive DHMC réparée — 3 Régions ✓", true},
		{"漂移已修复", true},
		{"tab\there", false},
		{"line\rbreak", false},
		{"next\u0085line (C1 control)", false},
		{"line\u2028separator", false},
		{"paragraph\u2029separator", false},
		{"delete\x7f", false},
		{"not UTF-8 \xff", false},
	} {
		_, err := c.Publish(t.Context(), &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("m"), Subject: aws.String(tt.subject)})
		if got := err == nil; got != tt.ok {
			t.Errorf("subject %q: accepted = %v (%v), want %v", tt.subject, got, err, tt.ok)
		}
	}
	msgs := s.Messages()
	if len(msgs) != 4 || msgs[2].Subject != "Dérive DHMC réparée — 3 Régions ✓" {
		t.Errorf("recorded %d messages, want the 4 accepted ones with their subjects intact", len(msgs))
	}
}
