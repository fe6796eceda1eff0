package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/rie"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// The real bootstrap and RIE, built once for every test here.
var rieBin, bootstrap, eventsDir string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(func() int {
		root, _ := filepath.Abs("../..")
		// Benchmarks measure what is deployed, so they get the release
		// build's settings; tests get their own (the race detector under
		// make test), which reuses the packages go test already compiled,
		// and the binaries make test's riebuild step left in SharedDir.
		release := flag.Lookup("test.bench").Value.String() != ""
		dir := rie.SharedDir(root, "./functions/guard", release)
		start := time.Now()
		fmt.Fprintf(os.Stderr, "e2e: building the bootstrap and aws-lambda-rie in %s\n", dir)
		var err error
		rieBin, bootstrap, err = rie.BuildWith(context.Background(), root, dir, "./functions/guard",
			rie.BuildOptions{Progress: os.Stderr, Release: release})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "e2e: built in %.1fs\n", time.Since(start).Seconds())
		eventsDir = filepath.Join(root, "events")
		return m.Run()
	}())
}

// start runs the function under RIE against a fresh seeded emulator.
func start(t *testing.T, env ...string) (*sandbox.Sandbox, *awsemu.Server) {
	t.Helper()
	emu := awsemu.StartTest(t)
	var log bytes.Buffer
	sb, err := sandbox.Start(t.Context(), emu, sandbox.Options{RIE: rieBin, Bootstrap: bootstrap, Env: env, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sb.Close()
		if t.Failed() {
			t.Logf("function log:\n%s", log.String())
		}
	})
	return sb, emu
}

func invoke(t *testing.T, sb *sandbox.Sandbox, payload []byte) (rie.Result, string, *dhmc.Report) {
	t.Helper()
	res, err := sb.Fn.Invoke(t.Context(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() != nil {
		return res, "", nil
	}
	status, rep, err := sandbox.ReportOf(res.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return res, status, rep
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type indexEntry struct {
	Kind        string  `json:"kind"`
	MatchesRule *string `json:"matchesRule"`
}

func eventIndex(t *testing.T) map[string]indexEntry {
	t.Helper()
	var idx map[string]indexEntry
	if err := json.Unmarshal(readEvent(t, "index.json"), &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

// breakAll drifts the role three ways and the setting in every Region, as
// the user, through the real APIs.
func breakAll(t *testing.T, sb *sandbox.Sandbox) {
	t.Helper()
	ctx := t.Context()
	d := sandbox.Desired()
	c := sb.UserIAM()
	must(t, func() error {
		_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(d.RoleName), PolicyArn: aws.String(d.ManagedPolicyARN())})
		return err
	})
	must(t, func() error {
		_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(d.RoleName), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
		return err
	})
	must(t, func() error {
		_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(d.RoleName), PolicyName: aws.String("backdoor"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)})
		return err
	})
	for _, r := range sandbox.Regions {
		must(t, func() error {
			_, err := sb.UserSSM(r).ResetServiceSetting(ctx, &ssm.ResetServiceSettingInput{SettingId: aws.String(d.SettingARN(r))})
			return err
		})
	}
}

func must(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

// driftIn lists the drifted places: "role" or a Region.
func driftIn(t *testing.T, emu *awsemu.Server) map[string]int {
	t.Helper()
	drift, err := sandbox.Drift(emu)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, f := range drift {
		where := f.Region
		if where == "" {
			where = "role"
		}
		out[where]++
	}
	return out
}

// eventRegion is the Region a CloudTrail sample names.
func eventRegion(t *testing.T, raw []byte) string {
	t.Helper()
	var e struct {
		Detail struct {
			AWSRegion string `json:"awsRegion"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	return e.Detail.AWSRegion
}

// TestEverySampleEventAgainstTheEmulator drifts a fresh account, delivers
// one sample, and checks the state, the alerts and the result.
func TestEverySampleEventAgainstTheEmulator(t *testing.T) {
	for name, entry := range eventIndex(t) {
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			sb, emu := start(t)
			raw := readEvent(t, name)
			breakAll(t, sb)
			emu.ResetCalls()
			res, status, rep := invoke(t, sb, raw)
			if err := res.Err(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			writes := sandbox.Writes(emu, sandbox.FunctionCaller)
			msgs := emu.Messages()
			drift := driftIn(t, emu)

			switch entry.Kind {
			case "cloudtrail-ssm":
				region := eventRegion(t, raw)
				// One Region, and the role its setting must name: the write
				// is only made once that role is read (and repaired).
				if status != "reconciled" || rep == nil || !rep.RoleChecked || !slices.Equal(rep.Regions, []string{region}) {
					t.Fatalf("status %q, report %+v: want that Region and its role", status, rep)
				}
				if drift[region] != 0 || drift["role"] != 0 {
					t.Errorf("drift after = %v, want %s and the role repaired", drift, region)
				}
				if writes != 4 || len(msgs) != 1 {
					t.Errorf("writes %d messages %d, want 4 (3 on the role, 1 setting) and 1", writes, len(msgs))
				}
			case "cloudtrail-iam", "schedule", "scheduler":
				if status != "reconciled" || rep == nil || !rep.RoleChecked || len(rep.Regions) != len(sandbox.Regions) {
					t.Fatalf("status %q report %+v, want the role and every Region", status, rep)
				}
				if len(drift) != 0 {
					t.Errorf("drift after = %v, want none", drift)
				}
				// attach managed, detach admin, delete inline, 3 settings
				if writes != 6 || len(msgs) != 1 {
					t.Errorf("writes %d messages %d, want 6 and 1", writes, len(msgs))
				}
			case "manual":
				if rep == nil || len(rep.Results) == 0 {
					t.Fatalf("manual result %s has no findings", res.Payload)
				}
				if strings.Contains(name, "check") {
					if writes != 0 || rep.Mode != "check" {
						t.Errorf("check made %d writes in mode %q", writes, rep.Mode)
					}
					if len(drift) == 0 {
						t.Error("check repaired something")
					}
				} else if writes == 0 || rep.Mode != "enforce" {
					t.Errorf("remediate made %d writes in mode %q", writes, rep.Mode)
				}
				if len(msgs) != 1 {
					t.Errorf("messages %d, want 1 (drift was found)", len(msgs))
				}
			case "ignore", "own-repair":
				if status != "ignored" || writes != 0 || len(msgs) != 0 {
					t.Errorf("status %q writes %d messages %d, want ignored, 0, 0", status, writes, len(msgs))
				}
			case "denied":
				if status != "denied" || writes != 0 || len(msgs) != 1 {
					t.Errorf("status %q writes %d messages %d, want denied, 0, 1", status, writes, len(msgs))
				} else if msgs[0].Attributes["severity"] != "low" {
					t.Errorf("denied alert severity %q, want low", msgs[0].Attributes["severity"])
				}
			default:
				t.Fatalf("index kind %q has no expectation here", entry.Kind)
			}
		})
	}
}

// TestReplayingOwnRepairEventsDoesNothing builds CloudTrail events from
// every write the function made, as CloudTrail would record them, and
// delivers them back: loop protection must stop each one.
func TestReplayingOwnRepairEventsDoesNothing(t *testing.T) {
	sb, emu := start(t)
	breakAll(t, sb)
	emu.ResetCalls()
	if res, _, _ := invoke(t, sb, readEvent(t, "schedule.json")); res.Err() != nil {
		t.Fatal(res.Err())
	}
	var own []awsemu.Call
	for _, c := range emu.Calls() {
		if c.Write && c.Caller == sandbox.FunctionCaller {
			own = append(own, c)
		}
	}
	if len(own) == 0 {
		t.Fatal("the repair made no writes to replay")
	}
	msgs, writes := len(emu.Messages()), sandbox.Writes(emu, "")
	template := readEvent(t, "ignore-own-repair.json")
	for _, c := range own {
		ev := ownEvent(t, template, c)
		_, status, _ := invoke(t, sb, ev)
		if status != "ignored" {
			t.Errorf("replayed %s: status %q, want ignored", c.Operation, status)
		}
	}
	if got := sandbox.Writes(emu, ""); got != writes {
		t.Errorf("replay made %d writes", got-writes)
	}
	if got := len(emu.Messages()); got != msgs {
		t.Errorf("replay sent %d messages", got-msgs)
	}
}

// ownEvent rewrites the own-repair sample into the record of call c.
func ownEvent(t *testing.T, template []byte, c awsemu.Call) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(template, &ev); err != nil {
		t.Fatal(err)
	}
	d := sandbox.Desired()
	detail := ev["detail"].(map[string]any)
	detail["eventName"] = c.Operation
	switch c.Service {
	case "ssm":
		ev["source"] = "aws.ssm"
		detail["eventSource"] = "ssm.amazonaws.com"
		detail["awsRegion"] = c.Region
		detail["requestParameters"] = map[string]any{"settingId": d.SettingARN(c.Region), "settingValue": d.SettingValue()}
	default:
		ev["source"] = "aws.iam"
		detail["eventSource"] = "iam.amazonaws.com"
		detail["awsRegion"] = "us-east-1"
		detail["requestParameters"] = map[string]any{"roleName": d.RoleName}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRepairFailureInOneRegionAlertsAndFails: AccessDenied on one Region's
// update fails that Region only; the invocation returns an error after the
// alert is published.
func TestRepairFailureInOneRegionAlertsAndFails(t *testing.T) {
	sb, emu := start(t)
	breakAll(t, sb)
	emu.Inject(awsemu.Fault{Op: "ssm:UpdateServiceSetting", Region: "eu-central-1", Kind: awsemu.FaultAccessDenied})
	res, _, _ := invoke(t, sb, readEvent(t, "schedule.json"))
	if res.ErrorType != "RepairError" || !strings.Contains(res.ErrorMessage, "eu-central-1") {
		t.Errorf("function error = %q %q, want a RepairError naming eu-central-1", res.ErrorType, res.ErrorMessage)
	}
	drift := driftIn(t, emu)
	if drift["eu-central-1"] == 0 || drift["eu-west-1"] != 0 || drift["us-east-1"] != 0 || drift["role"] != 0 {
		t.Errorf("drift after = %v, want only eu-central-1 left", drift)
	}
	msgs := emu.Messages()
	if len(msgs) != 1 {
		t.Fatalf("messages = %d, want 1", len(msgs))
	}
	if msgs[0].Attributes["outcome"] != "failed" || msgs[0].Attributes["severity"] != "high" {
		t.Errorf("alert attributes %v, want a high-severity failure", msgs[0].Attributes)
	}
	if !strings.Contains(msgs[0].Body, "AccessDenied") {
		t.Errorf("alert body does not carry the error:\n%s", msgs[0].Body)
	}
}

// TestDetectModeReportsWithoutWriting: a detect deployment alerts on drift
// and changes nothing; a manual remediate then repairs.
func TestDetectModeReportsWithoutWriting(t *testing.T) {
	sb, emu := start(t, "DHMC_MODE=detect")
	breakAll(t, sb)
	emu.ResetCalls()
	_, _, rep := invoke(t, sb, readEvent(t, "schedule.json"))
	if rep == nil || rep.Mode != "detect" || len(rep.Results) == 0 {
		t.Fatalf("report = %+v, want detect with findings", rep)
	}
	if w := sandbox.Writes(emu, sandbox.FunctionCaller); w != 0 {
		t.Errorf("detect mode made %d writes", w)
	}
	if n := len(emu.Messages()); n != 1 {
		t.Errorf("messages = %d, want 1", n)
	}
	_, _, rep = invoke(t, sb, readEvent(t, "manual-remediate.json"))
	if rep == nil || rep.Mode != "enforce" {
		t.Fatalf("remediate report = %+v", rep)
	}
	if drift := driftIn(t, emu); len(drift) != 0 {
		t.Errorf("drift after remediate = %v", drift)
	}
}

// TestCompliantSweepSendsNothing: no drift, no alert, no writes.
func TestCompliantSweepSendsNothing(t *testing.T) {
	sb, emu := start(t)
	_, status, rep := invoke(t, sb, readEvent(t, "schedule.json"))
	if status != "reconciled" || rep == nil || len(rep.Results) != 0 {
		t.Fatalf("status %q report %+v", status, rep)
	}
	if n := len(emu.Messages()); n != 0 {
		t.Errorf("messages = %d, want 0", n)
	}
	if w := sandbox.Writes(emu, ""); w != 0 {
		t.Errorf("writes = %d, want 0", w)
	}
	// A compliant sweep of R Regions: R GetServiceSetting + 3 IAM reads.
	if rep.Reads != len(sandbox.Regions)+3 {
		t.Errorf("reads = %d, want %d", rep.Reads, len(sandbox.Regions)+3)
	}
}

// TestBadInputUnderRIE: each bad payload is a clear function error or
// ignored, and nothing is written.
func TestBadInputUnderRIE(t *testing.T) {
	sb, emu := start(t)
	breakAll(t, sb)
	emu.ResetCalls()
	bad := map[string]string{
		"malformed":      `{"action":`,
		"empty object":   `{}`,
		"null":           `null`,
		"array":          `[1,2]`,
		"wrong type":     `{"action":42}`,
		"unknown action": `{"action":"destroy"}`,
		"bad region":     `{"action":"remediate","regions":["mars-1"]}`,
		"huge":           `{"action":"check","pad":"` + strings.Repeat("x", 300<<10) + `"}`,
	}
	for name, payload := range bad {
		res, err := sb.Fn.Invoke(t.Context(), []byte(payload))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Err() == nil {
			t.Errorf("%s: accepted with result %s", name, res.Payload)
		} else if res.ErrorType != "InputError" {
			t.Errorf("%s: errorType %q (%s), want InputError", name, res.ErrorType, res.ErrorMessage)
		}
	}
	if w := sandbox.Writes(emu, ""); w != 0 {
		t.Errorf("bad input caused %d writes", w)
	}
	if n := len(emu.Messages()); n != 0 {
		t.Errorf("bad input caused %d messages", n)
	}
}

// TestBadConfigurationFailsInit: the function does not start half-configured.
func TestBadConfigurationFailsInit(t *testing.T) {
	sb, emu := start(t, "DHMC_MODE=repair-everything")
	res, err := sb.Fn.Invoke(t.Context(), readEvent(t, "manual-check.json"))
	if err == nil && res.Err() == nil {
		t.Fatalf("a function with a bad DHMC_MODE answered %s", res.Payload)
	}
	if !sb.Fn.WaitForLog("DHMC_MODE", 5*time.Second) {
		t.Errorf("init failure does not name DHMC_MODE:\n%s", sb.Fn.Logs())
	}
	// The stack's own creation (sandbox.CreateStack) is in the log too.
	if n := emu.CountCalls(func(c awsemu.Call) bool { return c.Caller == sandbox.FunctionCaller }); n != 0 {
		t.Errorf("a misconfigured function made %d calls", n)
	}
}

// TestStormOfEventsWritesOnlyWhatDrifted delivers 100 matching events back
// to back against a drifted account: the first repairs, the rest find the
// account compliant.
func TestStormOfEventsWritesOnlyWhatDrifted(t *testing.T) {
	sb, emu := start(t)
	breakAll(t, sb)
	drifted := 0
	for _, n := range driftIn(t, emu) {
		drifted += n
	}
	emu.ResetCalls()
	names := []string{"iam-detach-role-policy.json", "ssm-reset-service-setting.json", "iam-attach-role-policy-admin.json", "iam-put-role-policy.json"}
	for i := range 100 {
		if res, _, _ := invoke(t, sb, readEvent(t, names[i%len(names)])); res.Err() != nil {
			t.Fatal(res.Err())
		}
	}
	writes := sandbox.Writes(emu, sandbox.FunctionCaller)
	alerts := len(emu.Messages())
	t.Logf("storm: 100 events, %d drifted items, %d writes, %d alerts", drifted, writes, alerts)
	if writes != drifted {
		t.Errorf("writes = %d, want exactly the %d drifted items", writes, drifted)
	}
	// The first event repairs everything; the other 99 find it compliant.
	if alerts != 1 {
		t.Errorf("alerts = %d, want 1", alerts)
	}
	if d := driftIn(t, emu); len(d) != 0 {
		t.Errorf("drift after the storm: %v", d)
	}
}
