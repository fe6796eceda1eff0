package awsemu_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func TestDescribeStackResourcesFindsTheStackOfAResource(t *testing.T) {
	s := awsemu.StartTest(t)
	s.PutStackResource(awsemu.DefaultAccount, "eu-west-1", awsemu.StackResource{StackName: "dhmc-baseline", LogicalID: "Role", Type: "AWS::IAM::Role", PhysicalID: "DhmcRole"})
	s.PutStackResource(awsemu.DefaultAccount, "eu-west-1", awsemu.StackResource{StackName: "dhmc-baseline", LogicalID: "Dhmc", Type: "AWS::SSM::DefaultHostManagementConfiguration", PhysicalID: "123456789012-eu-west-1"})
	c := cloudformation.NewFromConfig(cfg(s, "eu-west-1", "AKIDADMIN"))
	out, err := c.DescribeStackResources(t.Context(), &cloudformation.DescribeStackResourcesInput{PhysicalResourceId: aws.String("DhmcRole")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.StackResources) != 2 || aws.ToString(out.StackResources[0].StackName) != "dhmc-baseline" {
		t.Errorf("resources %+v", out.StackResources)
	}
	// In another Region, or not in any stack: CloudFormation's ValidationError.
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		id := "DhmcRole"
		if region == "eu-west-1" {
			id = "Other"
		}
		_, err := cloudformation.NewFromConfig(cfg(s, region, "AKIDADMIN")).DescribeStackResources(t.Context(), &cloudformation.DescribeStackResourcesInput{PhysicalResourceId: aws.String(id)})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
			t.Errorf("%s %s: err = %v, want ValidationError", region, id, err)
		}
	}
}
