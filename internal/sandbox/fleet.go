package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/fleet"
	"github.com/dhmc-guard/dhmc-guard/internal/fleetseed"
	"github.com/dhmc-guard/dhmc-guard/internal/rie"
)

// The fleet function's identity in the sandbox.
const (
	FleetFunctionRoleARN = "arn:aws:iam::" + Account + ":role/dhmc-guard-FleetFunctionRole-EXAMPLE"
	fleetSession         = "arn:aws:sts::" + Account + ":assumed-role/dhmc-guard-FleetFunctionRole-EXAMPLE/dhmc-guard-fleet"
	fleetKey             = "ASIAFLEETFUNCTION000"
)

// Fleet is the fleet readiness function under RIE against a seeded fleet.
type Fleet struct {
	Emu      *awsemu.Server
	Fn       *rie.Instance
	TopicARN string
	// Expected is what the report must find (the generator's oracle).
	Expected fleetseed.Expected
}

// FleetOptions say what to start. Spec.Regions are also the function's
// DHMC_REGIONS unless Env overrides it.
type FleetOptions struct {
	RIE, Bootstrap string
	Spec           fleetseed.Spec
	Env            []string
	Log            io.Writer
}

// StartFleet seeds emu with the fleet and the alert topic and starts the
// fleet function against it.
func StartFleet(ctx context.Context, emu *awsemu.Server, o FleetOptions) (*Fleet, error) {
	if len(o.Spec.Regions) == 0 {
		return nil, fmt.Errorf("starting the fleet sandbox: the fleet has no Regions")
	}
	emu.SetCaller(fleetKey, Account, fleetSession)
	topic := emu.CreateTopic(Account, HomeRegion, "dhmc-guard-alerts")
	exp := fleetseed.Seed(emu, o.Spec)
	env := mergeEnv([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.TempDir(),
		"AWS_ENDPOINT_URL=" + emu.URL(),
		"AWS_ACCESS_KEY_ID=" + fleetKey,
		"AWS_SECRET_ACCESS_KEY=sandbox",
		"AWS_SESSION_TOKEN=sandbox",
		"AWS_REGION=" + HomeRegion,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_LAMBDA_FUNCTION_NAME=dhmc-guard-fleet",
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"AWS_LAMBDA_LOG_LEVEL=INFO",
		fleet.EnvTopicARN + "=" + topic,
		fleet.EnvRegions + "=" + strings.Join(o.Spec.Regions, ","),
	}, o.Env)
	fn, err := rie.Start(ctx, rie.Options{RIE: o.RIE, Bootstrap: o.Bootstrap, Env: env, Log: o.Log})
	if err != nil {
		return nil, err
	}
	return &Fleet{Emu: emu, Fn: fn, TopicARN: topic, Expected: exp}, nil
}

// Close stops the function (the emulator belongs to the caller).
func (f *Fleet) Close() { f.Fn.Close() }

// FleetCaller is the caller ARN the emulator records for the fleet function.
const FleetCaller = fleetSession

// Report invokes the function with payload and decodes the report. A
// function error is not an error here: it is in the Result (nil report).
func (f *Fleet) Report(ctx context.Context, payload string) (*fleet.Report, rie.Result, error) {
	res, err := f.Fn.Invoke(ctx, []byte(payload))
	if err != nil || res.ErrorType != "" || res.ErrorMessage != "" {
		return nil, res, err
	}
	var r fleet.Report
	if err := json.Unmarshal(res.Payload, &r); err != nil {
		return nil, res, fmt.Errorf("decoding the fleet report %s: %w", res.Payload, err)
	}
	return &r, res, nil
}

// CheckFleet compares a report with the seed's expectations and returns
// every difference, so a demo or test can say exactly what is wrong.
func CheckFleet(r *fleet.Report, exp fleetseed.Expected) []string {
	var out []string
	if len(r.Regions) != len(exp.Regions) {
		out = append(out, fmt.Sprintf("%d Regions reported, %d seeded", len(r.Regions), len(exp.Regions)))
	}
	for _, x := range r.Regions {
		want, ok := exp.Regions[x.Region]
		if !ok {
			out = append(out, "unexpected Region "+x.Region)
			continue
		}
		if x.Error != "" {
			out = append(out, x.Region+": "+x.Error)
		}
		for _, c := range []struct {
			what      string
			got, want int
		}{{"running", x.Running, want.Running}, {"managed nodes", x.ManagedNodes, want.ManagedNodes}, {"ready", x.Ready, want.Ready}} {
			if c.got != c.want {
				out = append(out, fmt.Sprintf("%s %s: %d, seeded %d", x.Region, c.what, c.got, c.want))
			}
		}
		for _, why := range fleet.Reasons {
			got := 0
			if s := x.Reasons[why]; s != nil {
				got = s.Count
			}
			if w := want.Reasons[string(why)]; got != w {
				out = append(out, fmt.Sprintf("%s %s: %d, seeded %d", x.Region, why, got, w))
			}
		}
		for _, h := range fleet.Hygiene {
			got := 0
			if s := x.Hygiene[h]; s != nil {
				got = s.Count
			}
			if w := want.Hygiene[string(h)]; got != w {
				out = append(out, fmt.Sprintf("%s %s (hygiene): %d, seeded %d", x.Region, h, got, w))
			}
		}
	}
	got := map[string]int{}
	for _, c := range r.MigrationCandidates {
		got[c.InstanceProfile] = c.Count
	}
	for arn, n := range exp.Migration {
		if got[arn] != n {
			out = append(out, fmt.Sprintf("migration candidate %s: %d instances, seeded %d", arn, got[arn], n))
		}
	}
	if len(got) != len(exp.Migration) {
		out = append(out, fmt.Sprintf("%d migration candidates, seeded %d", len(got), len(exp.Migration)))
	}
	return out
}
