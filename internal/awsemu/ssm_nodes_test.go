package awsemu_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func TestDescribeInstanceInformationPagesThroughNodes(t *testing.T) {
	s := awsemu.StartTest(t)
	for i := range 12 {
		n := awsemu.ManagedNode{InstanceID: fmt.Sprintf("i-%017x", i), AgentVersion: "3.2.582.0"}
		if i == 3 {
			n.PingStatus = "ConnectionLost"
		}
		if i == 4 {
			n.AgentVersion = awsemu.LatestAgentVersion
		}
		s.PutManagedNode(awsemu.DefaultAccount, "eu-west-1", n)
	}
	s.PutManagedNode(awsemu.DefaultAccount, "eu-west-1", awsemu.ManagedNode{InstanceID: "mi-0123456789abcdef0", AgentVersion: "3.2.582.0"})
	c := ssm.NewFromConfig(cfg(s, "eu-west-1", "AKIDTEST"))

	var got []ssmtypes.InstanceInformation
	pages := 0
	p := ssm.NewDescribeInstanceInformationPaginator(c, &ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(5)})
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, out.InstanceInformationList...)
	}
	if len(got) != 13 || pages != 3 {
		t.Fatalf("%d nodes in %d pages, want 13 in 3", len(got), pages)
	}
	if got[3].PingStatus != ssmtypes.PingStatusConnectionLost || got[0].PingStatus != ssmtypes.PingStatusOnline {
		t.Errorf("ping statuses %v %v", got[3].PingStatus, got[0].PingStatus)
	}
	if !aws.ToBool(got[4].IsLatestVersion) || aws.ToBool(got[0].IsLatestVersion) {
		t.Errorf("IsLatestVersion %v %v", got[4].IsLatestVersion, got[0].IsLatestVersion)
	}
	if got[0].ResourceType != ssmtypes.ResourceTypeEc2Instance || got[12].ResourceType != ssmtypes.ResourceTypeManagedInstance {
		t.Errorf("resource types %v %v", got[0].ResourceType, got[12].ResourceType)
	}
	if got[0].LastPingDateTime == nil || got[0].PlatformType != ssmtypes.PlatformTypeLinux {
		t.Errorf("node %+v", got[0])
	}

	filtered, err := c.DescribeInstanceInformation(t.Context(), &ssm.DescribeInstanceInformationInput{
		Filters: []ssmtypes.InstanceInformationStringFilter{{Key: aws.String("PingStatus"), Values: []string{"ConnectionLost"}}},
	})
	if err != nil || len(filtered.InstanceInformationList) != 1 {
		t.Errorf("PingStatus filter: %+v %v", filtered, err)
	}
}

func TestDescribeInstanceInformationRefusesBadInput(t *testing.T) {
	s := awsemu.StartTest(t)
	c := ssm.NewFromConfig(cfg(s, "eu-west-1", "AKIDTEST"))
	for name, tt := range map[string]struct {
		in   ssm.DescribeInstanceInformationInput
		code string
	}{
		"MaxResults 4":  {ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(4)}, "ValidationException"},
		"MaxResults 51": {ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(51)}, "ValidationException"},
		"bad token":     {ssm.DescribeInstanceInformationInput{NextToken: aws.String("nope")}, "InvalidNextToken"},
		"unknown key": {ssm.DescribeInstanceInformationInput{Filters: []ssmtypes.InstanceInformationStringFilter{
			{Key: aws.String("Colour"), Values: []string{"blue"}}}}, "InvalidFilterKey"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.DescribeInstanceInformation(t.Context(), &tt.in)
			if got := apiCode(err); got != tt.code {
				t.Errorf("error %v, want %s", err, tt.code)
			}
		})
	}
}

func TestStoppedInstancesAreNotListedAsNodes(t *testing.T) {
	s := awsemu.StartTest(t)
	for i, state := range []string{"running", "stopped", "terminated"} {
		id := fmt.Sprintf("i-%017x", i+1)
		s.PutInstance(awsemu.DefaultAccount, "eu-west-1", awsemu.Instance{ID: id, State: state})
		s.PutManagedNode(awsemu.DefaultAccount, "eu-west-1", awsemu.ManagedNode{InstanceID: id, AgentVersion: "3.2.582.0"})
	}
	out, err := ssm.NewFromConfig(cfg(s, "eu-west-1", "AKIDTEST")).DescribeInstanceInformation(t.Context(), &ssm.DescribeInstanceInformationInput{})
	if err != nil || len(out.InstanceInformationList) != 1 || aws.ToString(out.InstanceInformationList[0].InstanceId) != "i-00000000000000001" {
		t.Errorf("nodes %+v %v, want only the running instance's", out, err)
	}
}
