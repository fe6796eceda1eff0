package conformance_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssh "github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/securityhub"
)

// The findings the guard imports, held against moto's Security Hub and the
// project's emulator alike: both accept every one, store one finding per
// Id (a re-import updates), and give back what was sent.
//
// moto (5.2.5) implements BatchImportFindings and GetFindings only: not
// BatchUpdateFindings (the Workflow RESOLVED step is held by the
// emulator's tests and the end-to-end test alone), not the
// InvalidAccessException of an account without Security Hub (its import
// accepts findings before EnableSecurityHub), and not GetFindings' filters.
// Its import checks little beyond a non-empty Resources list, so the
// required ASFF fields are held by the SDK's own validation and the
// emulator.
func TestSecurityHubFindingsConform(t *testing.T) {
	backends := map[string]func(t *testing.T) (endpoint, account string){
		"moto": func(t *testing.T) (string, string) { return moto(t), "123456789012" },
		"emulator": func(t *testing.T) (string, string) {
			emu := awsemu.StartTest(t)
			emu.EnableSecurityHub(awsemu.DefaultAccount, "eu-west-1")
			return emu.URL(), awsemu.DefaultAccount
		},
	}
	for name, backend := range backends {
		t.Run(name, func(t *testing.T) {
			endpoint, account := backend(t)
			c := awssh.NewFromConfig(awsConfig("eu-west-1"), func(o *awssh.Options) { o.BaseEndpoint = aws.String(endpoint) })
			target := securityhub.Target{Partition: "aws", Region: "eu-west-1", AccountID: account,
				RoleARN: "arn:aws:iam::" + account + ":role/AWSSystemsManagerDefaultEC2InstanceManagementRole"}
			now := time.Now().UTC().Truncate(time.Second)
			r := &dhmc.Report{AccountID: account, Regions: []string{"eu-west-1", "us-east-1"}, RoleChecked: true,
				Results: []dhmc.Result{{Finding: dhmc.Finding{Kind: dhmc.KindSettingDisabled, Region: "us-east-1", Observed: "$None", Desired: "role"}, Outcome: dhmc.OutcomeBlocked, Error: ""}}}
			plan := securityhub.Decide(securityhub.Observe(r, alert.ResultSeverity), securityhub.Memory{}, target, now)
			if len(plan.Import) != 3 {
				t.Fatalf("plan imports %d findings, want 3", len(plan.Import))
			}
			for range 2 { // the second import updates, never duplicates
				out, err := c.BatchImportFindings(t.Context(), &awssh.BatchImportFindingsInput{Findings: plan.Import})
				if err != nil {
					t.Fatal(err)
				}
				if aws.ToInt32(out.SuccessCount) != 3 || aws.ToInt32(out.FailedCount) != 0 {
					t.Fatalf("import: %d ok, %d failed %+v", aws.ToInt32(out.SuccessCount), aws.ToInt32(out.FailedCount), out.FailedFindings)
				}
			}
			got, err := c.GetFindings(t.Context(), &awssh.GetFindingsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Findings) != 3 {
				t.Fatalf("stored %d findings, want 3 (one per Id)", len(got.Findings))
			}
			for _, f := range got.Findings {
				if aws.ToString(f.Id) != target.FindingID("us-east-1") {
					continue
				}
				if f.Compliance == nil || f.Compliance.Status != "FAILED" || f.ProductFields["dhmc-guard/Outcome"] != "blocked" ||
					aws.ToString(f.Resources[0].Id) != target.SettingARN("us-east-1") || aws.ToString(f.ProductArn) != target.ProductARN() {
					t.Errorf("the blocked setting's finding came back as %+v", f)
				}
				return
			}
			t.Errorf("the blocked setting's finding %s is not stored", target.FindingID("us-east-1"))
		})
	}
}
