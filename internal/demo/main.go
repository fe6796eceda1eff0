// Command demo runs the whole dhmc-guard loop on this machine (`make demo`):
// it builds the function, starts the local AWS emulator with a seeded
// account, runs the real bootstrap under the Lambda Runtime Interface
// Emulator, breaks DHMC the way a person would, delivers the matching sample
// CloudTrail events, and shows what on-call would see. It exits non-zero if
// the loop does not close.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/rie"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

func main() {
	buildDir := flag.String("build-dir", "build/demo", "where the bootstrap and aws-lambda-rie are built")
	verbose := flag.Bool("v", false, "show the function's and RIE's own log lines")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *buildDir, *verbose); err != nil {
		fmt.Fprintf(os.Stderr, "\nDEMO FAILED: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("\nThe loop closed in %.1fs: drift was detected, repaired, reported, and the account is compliant again.\n", time.Since(started).Seconds())
}

// started is when the demo began; every step says how far in it starts.
var started = time.Now()

func step(format string, a ...any) {
	fmt.Printf("\n== [%4.1fs] "+format+"\n", append([]any{time.Since(started).Seconds()}, a...)...)
}

func run(ctx context.Context, buildDir string, verbose bool) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	events := filepath.Join(root, "events")

	step("Building the function (bootstrap, -tags lambda.norpc) and the Lambda Runtime Interface Emulator, at once")
	dir, err := filepath.Abs(buildDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	buildStart := time.Now()
	rieBin, bootstrap, err := rie.BuildWith(ctx, root, dir, "./functions/guard", rie.BuildOptions{Progress: os.Stdout})
	if err != nil {
		return err
	}
	fmt.Printf("   %s\n   %s\n   (built in %.1fs)\n", bootstrap, rieBin, time.Since(buildStart).Seconds())

	emu := awsemu.New()
	if err := emu.Start("127.0.0.1:0"); err != nil {
		return fmt.Errorf("starting the AWS emulator: %w", err)
	}
	defer emu.Close()
	var fnLog io.Writer = io.Discard
	if verbose {
		fnLog = os.Stdout
	}
	sb, err := sandbox.Start(ctx, emu, sandbox.Options{RIE: rieBin, Bootstrap: bootstrap, Log: fnLog})
	if err != nil {
		return err
	}
	defer sb.Close()
	d := sandbox.Desired()
	step("Local AWS on %s: account %s, role %s, setting on in %s, topic %s",
		emu.URL(), sandbox.Account, d.RoleARN(), strings.Join(sandbox.Regions, ", "), sb.TopicARN)
	fmt.Printf("   function under RIE with AWS_ENDPOINT_URL=%s, mode enforce\n", emu.URL())

	step("Manual check (events/manual-check.json) on the healthy account")
	rep, err := invoke(ctx, sb, filepath.Join(events, "manual-check.json"))
	if err != nil {
		return err
	}
	if len(rep.Results) != 0 || rep.Writes != 0 {
		return fmt.Errorf("the seeded account should be compliant; the check found %d findings and made %d writes", len(rep.Results), rep.Writes)
	}
	if d, ok := sb.Fn.InitDuration(); ok {
		fmt.Printf("   (cold start: init %s)\n", d.Round(time.Microsecond))
	}

	step("Breaking DHMC as %s: detach the managed policy, reset the setting in eu-west-1", sandbox.UserARN)
	brokeAt := time.Now()
	if _, err := sb.UserIAM().DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{
		RoleName: aws.String(d.RoleName), PolicyArn: aws.String(d.ManagedPolicyARN()),
	}); err != nil {
		return fmt.Errorf("breaking the role: %w", err)
	}
	if _, err := sb.UserSSM("eu-west-1").ResetServiceSetting(ctx, &ssm.ResetServiceSettingInput{
		SettingId: aws.String(d.SettingARN("eu-west-1")),
	}); err != nil {
		return fmt.Errorf("breaking the setting: %w", err)
	}
	if err := showDrift(emu); err != nil {
		return err
	}

	emu.ResetCalls()
	// CloudTrail's records of alice's two calls: the samples, retold with
	// her identity and the time she made them.
	step("CloudTrail delivers alice's ResetServiceSetting (events/ssm-reset-service-setting.json): reconcile eu-west-1")
	if _, err := invokeRetold(ctx, sb, filepath.Join(events, "ssm-reset-service-setting.json"), brokeAt); err != nil {
		return err
	}
	step("CloudTrail delivers alice's DetachRolePolicy (events/iam-detach-role-policy.json): reconcile the role, verify every Region")
	if _, err := invokeRetold(ctx, sb, filepath.Join(events, "iam-detach-role-policy.json"), brokeAt); err != nil {
		return err
	}

	msgs := emu.Messages()
	step("What on-call received: %d SNS message(s) on %s", len(msgs), sb.TopicARN)
	for i, m := range msgs {
		fmt.Printf("\n--- message %d\n", i+1)
		sandbox.WriteAlert(os.Stdout, m)
	}
	if len(msgs) == 0 {
		return errors.New("no alert was published for the repairs")
	}

	step("Replaying the function's own repair events (loop protection)")
	before := len(emu.Messages())
	writes := sandbox.Writes(emu, "")
	for _, name := range []string{"ignore-own-repair.json", "ignore-own-repair-ssm.json"} {
		res, err := sb.InvokeFile(ctx, filepath.Join(events, name))
		if err != nil {
			return err
		}
		if res.Err() != nil {
			return res.Err()
		}
		status, _, err := sandbox.ReportOf(res.Payload)
		if err != nil {
			return err
		}
		fmt.Printf("   %s → %s\n", name, status)
	}
	if sandbox.Writes(emu, "") != writes || len(emu.Messages()) != before {
		return errors.New("replaying the function's own events caused writes or alerts")
	}

	step("Final check (events/manual-check.json)")
	rep, err = invoke(ctx, sb, filepath.Join(events, "manual-check.json"))
	if err != nil {
		return err
	}
	if len(rep.Results) != 0 {
		return fmt.Errorf("the account is still drifted after the repairs: %d findings", len(rep.Results))
	}
	drift, err := sandbox.Drift(emu)
	if err != nil {
		return err
	}
	if len(drift) != 0 {
		return fmt.Errorf("the emulator's state still differs from the desired state: %+v", drift)
	}
	if err := flap(ctx, sb, events); err != nil {
		return err
	}
	return history(ctx, sb)
}

// terraform is the user agent of a tool that keeps putting its own state
// back: what the flap escalation recognises.
const terraform = "Terraform/1.9.0 (+https://www.terraform.io) terraform-provider-aws/5.70.0"

// flap has a tool detach the managed policy again and again: each time the
// guard repairs it; the third time in 24 h it escalates, once.
func flap(ctx context.Context, sb *sandbox.Sandbox, events string) error {
	step("A tool (Terraform's user agent) keeps detaching the managed policy: the guard repairs it each time")
	d := sandbox.Desired()
	before := len(sb.Emu.Messages())
	for i := 1; i <= 3; i++ {
		at := time.Now()
		if _, err := sb.UserIAM().DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{
			RoleName: aws.String(d.RoleName), PolicyArn: aws.String(d.ManagedPolicyARN()),
		}); err != nil {
			return fmt.Errorf("detaching the managed policy again: %w", err)
		}
		fmt.Printf("   detach %d:\n", i)
		if _, err := invokeRetoldBy(ctx, sb, filepath.Join(events, "iam-detach-role-policy.json"), at, terraform); err != nil {
			return err
		}
	}
	msgs := sb.Emu.Messages()[before:]
	var escalation *awsemu.Message
	for i, m := range msgs {
		fmt.Printf("   message: [%s] %s\n", m.Attributes["severity"], m.Subject)
		if strings.HasPrefix(m.Subject, "FLAPPING") {
			escalation = &msgs[i]
		}
	}
	if escalation == nil {
		return errors.New("three repairs of the same item in a row were not escalated as flapping")
	}
	step("The escalation on-call received (once, high)")
	sandbox.WriteAlert(os.Stdout, *escalation)
	return nil
}

// history asks the function for the run ledger's last hour.
func history(ctx context.Context, sb *sandbox.Sandbox) error {
	step(`The run ledger answers {"action":"history","since":"1h","limit":5}`)
	res, err := sb.Fn.Invoke(ctx, []byte(`{"action":"history","since":"1h","limit":5}`))
	if err != nil {
		return err
	}
	if err := res.Err(); err != nil {
		return err
	}
	var page struct {
		Runs []struct {
			StartedAt time.Time `json:"startedAt"`
			Trigger   string    `json:"trigger"`
			Outcome   string    `json:"outcome"`
			Findings  int       `json:"findings"`
			Actor     string    `json:"actor"`
		} `json:"runs"`
		Cursor string `json:"cursor"`
	}
	if err := json.Unmarshal(res.Payload, &page); err != nil {
		return fmt.Errorf("reading the history: %w", err)
	}
	if len(page.Runs) == 0 {
		return errors.New("the run ledger has no runs")
	}
	for _, r := range page.Runs {
		fmt.Printf("   %s  %-10s %-9s %d finding(s)  %s\n", r.StartedAt.Format(time.TimeOnly), r.Trigger, r.Outcome, r.Findings, r.Actor)
	}
	if page.Cursor != "" {
		fmt.Println(`   … more: pass "cursor" back for the next page`)
	}
	return nil
}

// invokeRetold delivers a sample CloudTrail event as the record of
// alice's change at at.
func invokeRetold(ctx context.Context, sb *sandbox.Sandbox, path string, at time.Time) (*dhmc.Report, error) {
	return invokeRetoldBy(ctx, sb, path, at, "")
}

func invokeRetoldBy(ctx context.Context, sb *sandbox.Sandbox, path string, at time.Time, userAgent string) (*dhmc.Report, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if raw, err = sandbox.Retell(raw, at, userAgent); err != nil {
		return nil, err
	}
	return show(sb.Fn.Invoke(ctx, raw))
}

// invoke runs one event and prints the report's essentials.
func invoke(ctx context.Context, sb *sandbox.Sandbox, path string) (*dhmc.Report, error) {
	return show(sb.InvokeFile(ctx, path))
}

// show prints an invocation's report; it fails on a failed invocation.
func show(res rie.Result, err error) (*dhmc.Report, error) {
	if err != nil {
		return nil, err
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	status, rep, err := sandbox.ReportOf(res.Payload)
	if err != nil {
		return nil, err
	}
	if rep == nil {
		fmt.Printf("   %s\n", status)
		return &dhmc.Report{}, nil
	}
	sandbox.WriteReport(os.Stdout, rep)
	return rep, nil
}

func showDrift(emu *awsemu.Server) error {
	drift, err := sandbox.Drift(emu)
	if err != nil {
		return err
	}
	if len(drift) == 0 {
		return errors.New("breaking DHMC left no drift")
	}
	for _, f := range drift {
		b, _ := json.Marshal(f)
		fmt.Printf("   drift: %s\n", b)
	}
	return nil
}
