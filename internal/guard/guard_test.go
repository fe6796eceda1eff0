package guard_test

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/guard"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
	"github.com/dhmc-guard/dhmc-guard/internal/trigger"
)

// newHandler wires the real handler, reconciler and SDK clients to a fresh
// seeded emulator, as main does with AWS.
func newHandler(t *testing.T) (*guard.Handler, *awsemu.Server) {
	t.Helper()
	emu := awsemu.StartTest(t)
	topic := sandbox.Seed(emu)
	cfg := aws.Config{
		Region:       sandbox.HomeRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("ASIAGUARDFUNCTION000", "x", "x"),
		BaseEndpoint: aws.String(emu.URL()),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = time.Millisecond })
		},
	}
	d := sandbox.Desired()
	rec, err := reconcile.New(d, reconcile.Clients{
		SSM: func(region string) reconcile.SettingsAPI {
			return ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.Region = region })
		},
		IAM: iam.NewFromConfig(cfg),
	}, reconcile.Options{VisibilityBaseDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return &guard.Handler{
		Runner:    rec,
		Publisher: sns.NewFromConfig(cfg),
		TopicARN:  topic,
		AccountID: d.AccountID,
		Mode:      d.Mode,
		Trigger: trigger.Config{
			RoleName: d.RoleName, RolePath: d.RolePath,
			SelfRoleARN: sandbox.FunctionRoleARN, Regions: d.Regions,
		},
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Metrics: io.Discard,
	}, emu
}

func event(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writes(emu *awsemu.Server) int { return sandbox.Writes(emu, "") }

func TestForwardedEventReconcilesTheRegionInTheDetail(t *testing.T) {
	h, emu := newHandler(t)
	for _, r := range []string{"eu-west-1", "eu-central-1"} {
		emu.SetSetting(sandbox.Account, r, dhmc.SettingDisabled)
	}
	out, err := h.Handle(t.Context(), event(t, "ssm-reset-forwarded.json"))
	if err != nil {
		t.Fatal(err)
	}
	resp := out.(guard.Response)
	if resp.Status != guard.StatusReconciled || len(resp.Report.Regions) != 1 || resp.Report.Regions[0] != "eu-central-1" {
		t.Fatalf("response %+v, want eu-central-1 (detail.awsRegion) reconciled", resp)
	}
	if got := emu.Setting(sandbox.Account, "eu-central-1").Value; got != sandbox.Desired().SettingValue() {
		t.Errorf("eu-central-1 = %q, want repaired", got)
	}
	if got := emu.Setting(sandbox.Account, "eu-west-1").Value; got != dhmc.SettingDisabled {
		t.Errorf("eu-west-1 (the envelope's Region) = %q, want untouched", got)
	}
}

func TestDeniedAttemptAlertsLowWithoutReadingOrWriting(t *testing.T) {
	h, emu := newHandler(t)
	out, err := h.Handle(t.Context(), event(t, "denied-detach-role-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s := out.(guard.Response).Status; s != guard.StatusDenied {
		t.Errorf("status %q, want denied", s)
	}
	reads := emu.CountCalls(func(c awsemu.Call) bool { return c.Service == "ssm" || c.Service == "iam" })
	if reads != 0 {
		t.Errorf("a denied attempt made %d SSM/IAM calls", reads)
	}
	msgs := emu.Messages()
	if len(msgs) != 1 || msgs[0].Attributes["severity"] != "low" || msgs[0].Attributes["outcome"] != "denied" {
		t.Errorf("messages %+v, want one low-severity denied alert", msgs)
	}
}

func TestIgnoredEventsTouchNothing(t *testing.T) {
	for _, name := range []string{"ignore-own-repair.json", "ignore-own-repair-ssm.json", "ignore-iam-other-role.json", "ignore-ssm-other-setting.json", "ignore-ssm-region-not-managed.json"} {
		t.Run(name, func(t *testing.T) {
			h, emu := newHandler(t)
			emu.SetSetting(sandbox.Account, "eu-west-1", dhmc.SettingDisabled)
			emu.ResetCalls()
			out, err := h.Handle(t.Context(), event(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if resp := out.(guard.Response); resp.Status != guard.StatusIgnored || resp.Reason == "" {
				t.Errorf("response %+v, want ignored with a reason", resp)
			}
			if n := len(emu.Calls()); n != 0 {
				t.Errorf("%d AWS calls, want none", n)
			}
		})
	}
}

func TestManualCheckReturnsTheBareReportAndNeverWrites(t *testing.T) {
	h, emu := newHandler(t)
	emu.SetSetting(sandbox.Account, "us-east-1", dhmc.SettingDisabled)
	emu.ResetCalls()
	out, err := h.Handle(t.Context(), event(t, "manual-check.json"))
	if err != nil {
		t.Fatal(err)
	}
	rep, ok := out.(*dhmc.Report)
	if !ok {
		t.Fatalf("result %T, want *dhmc.Report", out)
	}
	if rep.Mode != "check" || len(rep.Results) != 1 || rep.Results[0].Outcome != dhmc.OutcomeSkipped {
		t.Errorf("report %+v, want one skipped finding in check mode", rep)
	}
	if w := writes(emu); w != 0 {
		t.Errorf("check made %d writes", w)
	}
}

func TestPublishFailureIsReturnedNotSwallowed(t *testing.T) {
	h, emu := newHandler(t)
	emu.SetSetting(sandbox.Account, "eu-west-1", dhmc.SettingDisabled)
	emu.Inject(awsemu.Fault{Op: "sns:Publish", Kind: awsemu.FaultAccessDenied})
	_, err := h.Handle(t.Context(), event(t, "schedule.json"))
	var aerr *guard.AlertError
	if !errors.As(err, &aerr) {
		t.Fatalf("error %v, want an AlertError", err)
	}
	if got := emu.Setting(sandbox.Account, "eu-west-1").Value; got != sandbox.Desired().SettingValue() {
		t.Errorf("the repair did not happen before the publish failed: %q", got)
	}
}

func TestFailedRepairReturnsRepairErrorAfterAlerting(t *testing.T) {
	h, emu := newHandler(t)
	emu.SetSetting(sandbox.Account, "eu-west-1", dhmc.SettingDisabled)
	emu.Inject(awsemu.Fault{Op: "ssm:UpdateServiceSetting", Kind: awsemu.FaultAccessDenied})
	_, err := h.Handle(t.Context(), event(t, "schedule.json"))
	var rerr *guard.RepairError
	if !errors.As(err, &rerr) || len(rerr.Failed) != 1 {
		t.Fatalf("error %v, want a RepairError with one failure", err)
	}
	if msgs := emu.Messages(); len(msgs) != 1 || msgs[0].Attributes["outcome"] != "failed" {
		t.Errorf("messages %+v, want one failure alert", msgs)
	}
}

func TestBadInputIsAnInputErrorWithNoCalls(t *testing.T) {
	h, emu := newHandler(t)
	for _, payload := range []string{``, `{`, `{}`, `{"action":"nuke"}`, `{"detail-type":"Something Else","source":"aws.ec2","detail":{}}`} {
		_, err := h.Invoke(t.Context(), []byte(payload))
		var ierr *trigger.InputError
		if !errors.As(err, &ierr) {
			t.Errorf("%q: error %v, want an InputError", payload, err)
		}
	}
	if n := len(emu.Calls()); n != 0 {
		t.Errorf("bad input made %d AWS calls", n)
	}
}
