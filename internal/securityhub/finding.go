package securityhub

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// Target is where findings go and what they name.
type Target struct {
	Partition string
	// Region is the home Region: the Security Hub the findings are
	// imported into (the organisation aggregates from there).
	Region    string
	AccountID string
	// RoleARN is the DHMC role's ARN, the role finding's resource.
	RoleARN string
}

// GeneratorID names the guard as the finding's generator.
const GeneratorID = "dhmc-guard"

// DocsURL is the README's section on what the guard checks and how to fix
// what it cannot repair.
const DocsURL = "https://github.com/dhmc-guard/dhmc-guard#what-is-checked"

// FindingType is the ASFF type (namespace/category/classifier).
const FindingType = "Software and Configuration Checks/AWS Security Best Practices/Default Host Management Configuration"

// settingID is the SSM service setting DHMC is, as its ARN names it.
const settingID = "/ssm/managed-instance/default-ec2-instance-management-role"

// ProductARN is the account's default product, which any account may
// import its own findings into.
func (t Target) ProductARN() string {
	return fmt.Sprintf("arn:%s:securityhub:%s:%s:product/%s/default", t.Partition, t.Region, t.AccountID, t.AccountID)
}

// FindingID is stable per item, so a re-import updates the finding.
func (t Target) FindingID(item string) string {
	if item == RoleItem {
		return fmt.Sprintf("dhmc-guard/%s/role", t.AccountID)
	}
	return fmt.Sprintf("dhmc-guard/%s/setting/%s", t.AccountID, item)
}

// SettingARN is the ARN of the DHMC setting in region.
func (t Target) SettingARN(region string) string {
	return fmt.Sprintf("arn:%s:ssm:%s:%s:servicesetting%s", t.Partition, region, t.AccountID, settingID)
}

// Finding is the ASFF finding for one observed item. Severity and types go
// through FindingProviderFields, as a finding provider is to set them.
func Finding(o Observation, t Target, created, now time.Time) types.AwsSecurityFinding {
	var res types.Resource
	var title string
	if o.Item == RoleItem {
		res = types.Resource{Type: aws.String("AwsIamRole"), Id: aws.String(t.RoleARN), Partition: types.Partition(t.Partition), Region: aws.String(t.Region)}
		title = "DHMC role " + roleName(t.RoleARN)
	} else {
		res = types.Resource{Type: aws.String("Other"), Id: aws.String(t.SettingARN(o.Item)), Partition: types.Partition(t.Partition), Region: aws.String(o.Item)}
		title = "DHMC setting in " + o.Item
	}
	title += " " + verdict(o.Status)
	kind := strings.Join(o.Kinds, ",")
	if kind == "" {
		kind = "none"
	}
	return types.AwsSecurityFinding{
		SchemaVersion: aws.String("2018-10-08"),
		Id:            aws.String(t.FindingID(o.Item)),
		ProductArn:    aws.String(t.ProductARN()),
		GeneratorId:   aws.String(GeneratorID),
		AwsAccountId:  aws.String(t.AccountID),
		CreatedAt:     aws.String(created.UTC().Format(time.RFC3339)),
		UpdatedAt:     aws.String(now.UTC().Format(time.RFC3339)),
		Title:         aws.String(clamp(title, 256)),
		Description:   aws.String(clamp(description(o), 1024)),
		FindingProviderFields: &types.FindingProviderFields{
			Severity: &types.FindingProviderSeverity{Label: severityLabel(o), Original: aws.String(o.Severity)},
			Types:    []string{FindingType},
		},
		Compliance: &types.Compliance{Status: types.ComplianceStatus(o.Status)},
		Resources:  []types.Resource{res},
		Remediation: &types.Remediation{Recommendation: &types.Recommendation{
			Text: aws.String(clamp(remedy(o), 512)),
			Url:  aws.String(DocsURL),
		}},
		ProductFields: map[string]string{
			"dhmc-guard/Item":    o.Item,
			"dhmc-guard/Kind":    clamp(kind, 2048),
			"dhmc-guard/Outcome": o.Outcome,
		},
		RecordState: types.RecordStateActive,
	}
}

func verdict(status string) string {
	switch status {
	case StatusPassed:
		return "is as configured"
	case StatusWarning:
		return "needs a look"
	}
	return "is not as configured"
}

func severityLabel(o Observation) types.SeverityLabel {
	if o.Status == StatusPassed {
		return types.SeverityLabelInformational
	}
	switch o.Severity {
	case "high":
		return types.SeverityLabelHigh
	case "medium":
		return types.SeverityLabelMedium
	}
	return types.SeverityLabelLow
}

func description(o Observation) string {
	what := "The Default Host Management Configuration setting in " + o.Item
	if o.Item == RoleItem {
		what = "The DHMC role (trust policy, managed policies, inline policies, permissions boundary)"
	}
	switch {
	case o.Status == StatusPassed && o.Outcome == OutcomeCompliant:
		return what + " is as dhmc-guard is configured to keep it."
	case o.Status == StatusPassed:
		return what + " was repaired by dhmc-guard: " + strings.Join(o.Details, "; ")
	}
	return what + ": " + strings.Join(o.Details, "; ")
}

func remedy(o Observation) string {
	switch {
	case o.Status == StatusPassed:
		return "Nothing to do: dhmc-guard keeps this item as configured."
	case o.Outcome == "skipped":
		return "dhmc-guard runs in detect mode: repair by hand or invoke it with mode remediate (README: Invoking by hand)."
	case o.Outcome == OutcomeReadError || o.Status == StatusWarning:
		return "dhmc-guard cannot judge or reach this item: see the alert and the README on what is checked."
	}
	return "dhmc-guard could not repair this item: a person must act; the alert says what blocked it (README: What is checked)."
}

func roleName(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func clamp(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !isBoundary(s, cut) {
		cut--
	}
	return s[:cut] + "…"
}

func isBoundary(s string, i int) bool { return i == len(s) || s[i]&0xC0 != 0x80 }
