package guard_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/guard"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

const adminARN = "arn:aws:iam::aws:policy/AdministratorAccess"

// withReconciler gives h a fresh reconciler (a cold execution environment)
// for d, with the account's Region lister.
func withReconciler(t *testing.T, h *guard.Handler, emu *awsemu.Server, d dhmc.Desired) {
	t.Helper()
	cfg := aws.Config{
		Region:       sandbox.HomeRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("ASIAGUARDFUNCTION000", "x", "x"),
		BaseEndpoint: aws.String(emu.URL()),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = time.Millisecond })
		},
	}
	rec, err := reconcile.New(d, reconcile.Clients{
		SSM: func(region string) reconcile.SettingsAPI {
			return ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.Region = region })
		},
		IAM:     iam.NewFromConfig(cfg),
		Regions: account.NewFromConfig(cfg, func(o *account.Options) { o.Region = "us-east-1" }),
	}, reconcile.Options{VisibilityBaseDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h.Runner = rec
	h.Trigger.Regions = d.Regions
}

// TestAFailedReadNeverSilencesTheRest is issue 14's second promise as a
// property: over random faults on any subset of the reads (the Region
// list, the role's three reads, an inline policy's document, the setting
// of any Region) and SNS up or down, with the Regions configured or
// discovered, in a warm, a cold-with-ledger or a cold-without-anything
// environment:
//   - every item that could be read is planned: the role's drift repaired
//     when the role could be read; every readable Region's drift repaired,
//     or, with the role unreadable, named in what on-call got;
//   - every failed read is named in what on-call got: the delivered alert,
//     or with SNS down the failure queue;
//   - the run ends with RegionsUnlistedError when the Regions could not be
//     listed, RepairError when another read failed.
func TestAFailedReadNeverSilencesTheRest(t *testing.T) {
	const runs = 150
	var covered struct{ unlisted, roleUnread, docFault, regionFaults, snsDown, cold int }
	defer func() {
		t.Logf("%d runs: Regions unlisted %d, role unreadable %d, inline document unread %d, Region reads failed %d, SNS down %d, cold without a list %d",
			runs, covered.unlisted, covered.roleUnread, covered.docFault, covered.regionFaults, covered.snsDown, covered.cold)
	}()
	for seed := range uint64(runs) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x14))
			h, emu := newLedgerHandler(t, ledger.Policy{})
			d := sandbox.Desired()
			enabled := slices.Clone(awsemu.DefaultRegions)
			discover := rng.IntN(3) != 0
			if discover {
				d.Regions = nil
			}
			for _, r := range enabled {
				emu.SetSetting(sandbox.Account, r, d.SettingValue())
			}
			withReconciler(t, h, emu, d)
			// The environment: warm (listed before), cold with the list in
			// the ledger, or cold with nothing.
			env := rng.IntN(3)
			if env < 2 {
				if _, err := h.Handle(t.Context(), event(t, "schedule.json")); err != nil {
					t.Fatalf("clean run: %v", err)
				}
			}
			if env == 1 {
				withReconciler(t, h, emu, d)
			}
			managed := d.Regions
			if discover {
				managed = enabled
				if env == 2 {
					managed = nil
				}
			}

			// Drift: the role widened, Regions disabled.
			admin, inline := rng.IntN(2) == 0, rng.IntN(3) == 0
			role, _ := emu.Role(sandbox.Account, d.RoleName)
			if admin {
				role.AttachedPolicies = append(role.AttachedPolicies, adminARN)
			}
			if inline {
				role.InlinePolicies = map[string]string{"backdoor": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}
			}
			emu.PutRole(sandbox.Account, role)
			var drifted []string
			for _, r := range managed {
				if rng.IntN(3) == 0 {
					emu.SetSetting(sandbox.Account, r, dhmc.SettingDisabled)
					drifted = append(drifted, r)
				}
			}

			// Faults on any subset of the reads.
			kinds := []awsemu.FaultKind{awsemu.FaultAccessDenied, awsemu.FaultServerError}
			fault := func(op, region string) bool {
				if rng.IntN(5) != 0 {
					return false
				}
				emu.Inject(awsemu.Fault{Op: op, Region: region, Kind: kinds[rng.IntN(2)]})
				return true
			}
			unlisted := fault("account:ListRegions", "") && discover && env != 0
			roleFaults := map[string]bool{}
			for _, op := range []string{"iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"} {
				roleFaults[op] = fault(op, "")
			}
			roleRead := !roleFaults["iam:GetRole"] && !roleFaults["iam:ListAttachedRolePolicies"] && !roleFaults["iam:ListRolePolicies"]
			docFault := fault("iam:GetRolePolicy", "")
			unread := map[string]bool{}
			for _, r := range managed {
				unread[r] = fault("ssm:GetServiceSetting", r)
			}
			snsDown := rng.IntN(4) == 0
			if snsDown {
				emu.Inject(awsemu.Fault{Op: "sns:Publish", Kind: awsemu.FaultServerError})
			}
			before := len(emu.Messages())
			covered.unlisted += b2i(unlisted)
			covered.roleUnread += b2i(!roleRead)
			covered.docFault += b2i(docFault && inline && roleRead)
			covered.snsDown += b2i(snsDown)
			covered.cold += b2i(discover && env == 2)
			for _, u := range unread {
				covered.regionFaults += b2i(u)
			}

			_, err := h.Handle(t.Context(), event(t, "schedule.json"))

			told := ""
			for _, m := range emu.Messages()[before:] {
				told += m.Subject + "\n" + m.Body
			}
			for _, rec := range sandbox.FailureRecords(emu) {
				told += rec
			}
			situation := fmt.Sprintf("discover %v env %d admin %v inline %v drifted %v unlisted %v roleFaults %v doc %v unread %v snsDown %v; err %v",
				discover, env, admin, inline, drifted, unlisted, roleFaults, docFault, unread, snsDown, err)

			// The invocation's error names what failed.
			var ru *guard.RegionsUnlistedError
			var re *guard.RepairError
			switch {
			case unlisted && !errors.As(err, &ru):
				t.Errorf("want a RegionsUnlistedError: %s", situation)
			case !unlisted && !roleRead && !errors.As(err, &re):
				t.Errorf("want a RepairError: %s", situation)
			}
			if unlisted && !strings.Contains(told, "Regions could not be listed") {
				t.Errorf("the failed Region listing was not told: %s\n%s", situation, told)
			}
			// The role: repaired when read, else its failed read told.
			got, _ := emu.Role(sandbox.Account, d.RoleName)
			switch {
			case roleRead && slices.Contains(got.AttachedPolicies, adminARN):
				t.Errorf("the role was read but AdministratorAccess is still attached: %s", situation)
			case roleRead && inline && !docFault && len(got.InlinePolicies) != 0:
				t.Errorf("the role was read but its inline policy is still there: %s", situation)
			case roleRead && inline && docFault && !strings.Contains(told, "reading inline policy backdoor"):
				t.Errorf("the inline policy's unread document was not told: %s\n%s", situation, told)
			}
			for op, failed := range roleFaults {
				what := map[string]string{"iam:GetRole": "reading role", "iam:ListAttachedRolePolicies": "listing managed policies of role", "iam:ListRolePolicies": "listing inline policies of role"}[op]
				if failed && !strings.Contains(told, what) {
					t.Errorf("the failed %s (%q) was not told: %s\n%s", op, what, situation, told)
				}
			}
			// Every Region: read and repaired, or its failure told.
			for _, r := range managed {
				value := emu.Setting(sandbox.Account, r).Value
				switch {
				case unread[r] && !strings.Contains(told, r):
					t.Errorf("the failed read of %s was not told: %s\n%s", r, situation, told)
				case !unread[r] && roleRead && value != d.SettingValue():
					t.Errorf("%s was readable and the role verified, but holds %q: %s", r, value, situation)
				case !unread[r] && !roleRead && slices.Contains(drifted, r) && !strings.Contains(told, r):
					t.Errorf("%s drifted (blocked: role unreadable) and was not told: %s\n%s", r, situation, told)
				}
			}
			if bad := emu.DanglingSettingWrites(); len(bad) > 0 {
				t.Errorf("setting pointed at a missing role: %v", bad)
			}
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
