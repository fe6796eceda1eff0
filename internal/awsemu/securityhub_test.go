package awsemu_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func asffFinding(id, status string) shtypes.AwsSecurityFinding {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).Format(time.RFC3339)
	return shtypes.AwsSecurityFinding{
		SchemaVersion: aws.String("2018-10-08"), Id: aws.String(id),
		ProductArn:  aws.String("arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"),
		GeneratorId: aws.String("dhmc-guard"), AwsAccountId: aws.String("123456789012"),
		CreatedAt: aws.String(now), UpdatedAt: aws.String(now),
		Title: aws.String("t"), Description: aws.String("d"),
		FindingProviderFields: &shtypes.FindingProviderFields{
			Severity: &shtypes.FindingProviderSeverity{Label: shtypes.SeverityLabelHigh},
			Types:    []string{"Software and Configuration Checks/AWS Security Best Practices"},
		},
		Compliance: &shtypes.Compliance{Status: shtypes.ComplianceStatus(status)},
		Resources:  []shtypes.Resource{{Type: aws.String("Other"), Id: aws.String("arn:aws:ssm:eu-west-1:123456789012:servicesetting/x")}},
	}
}

func TestSecurityHubNotEnabled(t *testing.T) {
	s := awsemu.StartTest(t)
	c := securityhub.NewFromConfig(cfg(s, "eu-west-1", "AKIDTEST"))
	_, err := c.BatchImportFindings(t.Context(), &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{asffFinding("a", "FAILED")}})
	var ia *shtypes.InvalidAccessException
	if !errors.As(err, &ia) {
		t.Fatalf("import into a Security Hub that is off: %v, want InvalidAccessException", err)
	}
	s.EnableSecurityHub(awsemu.DefaultAccount, "us-east-1")
	if _, err := c.BatchImportFindings(t.Context(), &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{asffFinding("a", "FAILED")}}); !errors.As(err, &ia) {
		t.Fatalf("enabled in another Region only: %v, want InvalidAccessException", err)
	}
}

func TestSecurityHubImportUpdateGet(t *testing.T) {
	s := awsemu.StartTest(t)
	s.EnableSecurityHub(awsemu.DefaultAccount, "eu-west-1")
	c := securityhub.NewFromConfig(cfg(s, "eu-west-1", "AKIDTEST"))
	ctx := t.Context()

	bad := asffFinding("b", "FAILED")
	bad.FindingProviderFields = nil // no Severity or Types anywhere: refused by Security Hub, not the SDK
	otherAccount := asffFinding("c", "FAILED")
	otherAccount.AwsAccountId = aws.String("999999999999")
	out, err := c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{asffFinding("a", "FAILED"), bad, otherAccount}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.SuccessCount) != 1 || aws.ToInt32(out.FailedCount) != 2 || aws.ToString(out.FailedFindings[0].Id) != "b" {
		t.Fatalf("import answer: %d ok, %d failed %+v", aws.ToInt32(out.SuccessCount), aws.ToInt32(out.FailedCount), out.FailedFindings)
	}
	if _, err := c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{}); err == nil {
		t.Error("no findings: want InvalidInputException")
	}

	id := shtypes.AwsSecurityFindingIdentifier{Id: aws.String("a"), ProductArn: asffFinding("a", "").ProductArn}
	missing := shtypes.AwsSecurityFindingIdentifier{Id: aws.String("nope"), ProductArn: id.ProductArn}
	up, err := c.BatchUpdateFindings(ctx, &securityhub.BatchUpdateFindingsInput{
		FindingIdentifiers: []shtypes.AwsSecurityFindingIdentifier{id, missing},
		Workflow:           &shtypes.WorkflowUpdate{Status: shtypes.WorkflowStatusResolved},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(up.ProcessedFindings) != 1 || len(up.UnprocessedFindings) != 1 || aws.ToString(up.UnprocessedFindings[0].ErrorCode) != "FindingNotFound" {
		t.Fatalf("update answer %+v", up)
	}
	workflow := func() string {
		g, err := c.GetFindings(ctx, &securityhub.GetFindingsInput{Filters: &shtypes.AwsSecurityFindingFilters{
			Id: []shtypes.StringFilter{{Value: aws.String("a"), Comparison: shtypes.StringFilterComparisonEquals}},
		}})
		if err != nil || len(g.Findings) != 1 {
			t.Fatalf("get: %v %d", err, len(g.Findings))
		}
		return string(g.Findings[0].Workflow.Status)
	}
	if w := workflow(); w != "RESOLVED" {
		t.Fatalf("workflow %s after BatchUpdateFindings", w)
	}
	// A re-import cannot change Workflow; FAILED again after PASSED reopens.
	withWorkflow := asffFinding("a", "PASSED")
	withWorkflow.Workflow = &shtypes.Workflow{Status: shtypes.WorkflowStatusNew}
	if _, err := c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{withWorkflow}}); err != nil {
		t.Fatal(err)
	}
	if w := workflow(); w != "RESOLVED" {
		t.Fatalf("workflow %s: BatchImportFindings changed it", w)
	}
	if _, err := c.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{asffFinding("a", "FAILED")}}); err != nil {
		t.Fatal(err)
	}
	if w := workflow(); w != "NEW" {
		t.Fatalf("workflow %s after PASSED -> FAILED, want NEW", w)
	}
	stored := s.SecurityHubFindings(awsemu.DefaultAccount, "eu-west-1")
	if len(stored) != 1 || stored[0]["Severity"].(map[string]any)["Label"] != "HIGH" || stored[0]["Region"] != "eu-west-1" {
		t.Errorf("stored %+v", stored)
	}
}
