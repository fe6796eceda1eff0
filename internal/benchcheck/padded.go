package benchcheck

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/rie"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// The padded-policies goal (issue 14, item 1): a DHMC role holding
// PaddedPolicies inline policies of 131,072 characters each (white space
// IAM leaves out of the role's aggregate: 26 MB as written, three times
// that URL-encoded on the wire) is swept in enforce mode within
// MaxPaddedRSSMiB, with a response under 1 MB, one alert naming every
// policy, and every document retrievable from the ledger archive.
const (
	PaddedPolicies  = 200
	MaxPaddedRSSMiB = 64.0
)

func paddedCheck(env Env) Check {
	return Check{
		Name: "padded-policies-rss",
		What: fmt.Sprintf("the bootstrap's peak resident memory under RIE (128 MB function) sweeping a DHMC role with %d inline policies of %d characters "+
			"(enforce; response < 1 MB, one alert naming every policy, every document archived)", PaddedPolicies, dhmc.MaxPolicyDocument),
		Max:      MaxPaddedRSSMiB,
		Unit:     "MiB",
		Attempts: 2,
		Hint: "Something holds policy documents as IAM returned them: they must be compacted where read (internal/reconcile documents.go) " +
			"and archived one by one (internal/ledger archive.go), the report carrying at most its document budget.",
		Measure: func(ctx context.Context) (Attempt, error) { return measurePaddedRSS(ctx, env) },
	}
}

func measurePaddedRSS(ctx context.Context, env Env) (Attempt, error) {
	if env.ModuleRoot == "" {
		return Attempt{}, fmt.Errorf("no module root to build the bootstrap in")
	}
	pkg := "./functions/guard"
	rieBin, bootstrap, err := rie.BuildWith(ctx, env.ModuleRoot, rie.SharedDir(env.ModuleRoot, pkg, true), pkg,
		rie.BuildOptions{Progress: env.Progress, Release: true})
	if err != nil {
		return Attempt{}, err
	}
	emu := awsemu.New()
	if err := emu.Start("127.0.0.1:0"); err != nil {
		return Attempt{}, err
	}
	defer emu.Close()
	sb, err := sandbox.Start(ctx, emu, sandbox.Options{RIE: rieBin, Bootstrap: bootstrap,
		Env: []string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128"}})
	if err != nil {
		return Attempt{}, err
	}
	defer sb.Close()
	p, err := sandbox.SeedPadded(emu, PaddedPolicies, dhmc.MaxPolicyDocument)
	if err != nil {
		return Attempt{}, err
	}
	res, err := sb.InvokeFile(ctx, filepath.Join(env.ModuleRoot, "events", "schedule.json"))
	if err != nil {
		return Attempt{}, err
	}
	got, problems := p.Check(ctx, sb, res)
	if len(problems) > 0 {
		if len(problems) > 5 {
			problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
		}
		return Attempt{}, fmt.Errorf("the sweep of the padded role fell short: %s", strings.Join(problems, "; "))
	}
	rss, err := sb.Fn.BootstrapPeakRSS()
	if err != nil {
		return Attempt{}, err
	}
	return Attempt{
		Value: float64(rss) / mib,
		Figures: []Figure{
			{Name: "policies", Value: PaddedPolicies},
			{Name: "archived", Value: float64(got.Archived)},
			{Name: "response", Value: float64(got.ResponseBytes), Unit: "bytes"},
			{Name: "alert", Value: float64(got.AlertBytes), Unit: "bytes"},
			{Name: "peak RSS (VmHWM)", Value: float64(rss), Unit: "bytes"},
		},
	}, nil
}
