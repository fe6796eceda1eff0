package awsemu_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func TestPutEventsAcceptsGoodEntriesAndFailsBadOnesAlone(t *testing.T) {
	s := awsemu.StartTest(t)
	c := eventbridge.NewFromConfig(cfg(s, "eu-west-1", "AKIDADMIN"))
	bus := "arn:aws:events:eu-west-1:210987654321:event-bus/central"
	out, err := c.PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{
		{EventBusName: aws.String(bus), Source: aws.String("dhmc-guard"), DetailType: aws.String("DHMC Guard Run Report"), Detail: aws.String(`{"a":1}`)},
		{EventBusName: aws.String(bus), Source: aws.String("dhmc-guard"), DetailType: aws.String("x"), Detail: aws.String(`not json`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 1 || aws.ToString(out.Entries[0].EventId) == "" || aws.ToString(out.Entries[1].ErrorCode) != "InvalidArgument" {
		t.Errorf("answer %+v", out)
	}
	if got := s.Events(); len(got) != 1 || got[0].Bus != bus || got[0].DetailType != "DHMC Guard Run Report" {
		t.Errorf("events %+v", got)
	}
	if _, err := c.PutEvents(t.Context(), &eventbridge.PutEventsInput{}); err == nil {
		t.Error("no entries: want a ValidationException")
	}
}
