package awsemu_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func TestListAssociationsFiltersByNameAndRefusesUnknownKeys(t *testing.T) {
	emu := awsemu.StartTest(t)
	id := emu.PutAssociation(awsemu.DefaultAccount, "eu-west-1", awsemu.Association{AssociationName: "EnableDHMCAssociation", Name: "AWSQuickSetupType-EnableDHMC"})
	emu.PutAssociation(awsemu.DefaultAccount, "eu-west-1", awsemu.Association{AssociationName: "patching", Name: "AWS-RunPatchBaseline"})
	c := ssm.NewFromConfig(cfg(emu, "eu-west-1", "AKIDTEST"))
	out, err := c.ListAssociations(t.Context(), &ssm.ListAssociationsInput{AssociationFilterList: []ssmtypes.AssociationFilter{
		{Key: ssmtypes.AssociationFilterKeyAssociationName, Value: aws.String("EnableDHMCAssociation")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Associations) != 1 || aws.ToString(out.Associations[0].AssociationId) != id || aws.ToString(out.Associations[0].Name) != "AWSQuickSetupType-EnableDHMC" ||
		aws.ToString(out.Associations[0].ScheduleExpression) != "rate(1 day)" {
		t.Errorf("associations %+v", out.Associations)
	}
	// Another Region holds none.
	other, err := ssm.NewFromConfig(cfg(emu, "us-east-1", "AKIDTEST")).ListAssociations(t.Context(), &ssm.ListAssociationsInput{})
	if err != nil || len(other.Associations) != 0 {
		t.Errorf("us-east-1: %+v %v", other, err)
	}
	_, err = c.ListAssociations(t.Context(), &ssm.ListAssociationsInput{AssociationFilterList: []ssmtypes.AssociationFilter{{Key: "Colour", Value: aws.String("x")}}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Errorf("unknown filter key: %v, want ValidationException", err)
	}
	_, err = c.ListAssociations(t.Context(), &ssm.ListAssociationsInput{MaxResults: aws.Int32(51)})
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Errorf("MaxResults 51: %v, want ValidationException", err)
	}
}
