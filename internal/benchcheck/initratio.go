package benchcheck

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/config"
	"github.com/dhmc-guard/dhmc-guard/internal/rie"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// minimalPkg is the smallest aws-lambda-go function, the INIT yardstick.
const minimalPkg = "./internal/benchcheck/cmd/minimalfn"

// initStarts is how many cold starts of each function one attempt times.
const initStarts = 11

// measureInitRatio times INIT (RIE's INIT REPORT) of initStarts cold starts
// of the release bootstrap, deployed as the template deploys it, and of a
// minimal aws-lambda-go function built with the same flags, interleaved, and
// compares the medians.
func measureInitRatio(ctx context.Context, env Env) (Attempt, error) {
	if env.ModuleRoot == "" {
		return Attempt{}, fmt.Errorf("no module root to build the bootstraps in")
	}
	guardPkg := "./functions/guard"
	rieBin, guardBoot, err := rie.BuildWith(ctx, env.ModuleRoot, rie.SharedDir(env.ModuleRoot, guardPkg, true), guardPkg,
		rie.BuildOptions{Progress: env.Progress, Release: true})
	if err != nil {
		return Attempt{}, err
	}
	_, minBoot, err := rie.BuildWith(ctx, env.ModuleRoot, rie.SharedDir(env.ModuleRoot, minimalPkg, true), minimalPkg,
		rie.BuildOptions{Progress: env.Progress, Release: true})
	if err != nil {
		return Attempt{}, err
	}
	emu := awsemu.New()
	if err := emu.Start("127.0.0.1:0"); err != nil {
		return Attempt{}, err
	}
	defer emu.Close()

	var guardInits, minInits []time.Duration
	for range initStarts {
		sb, err := sandbox.Start(ctx, emu, sandbox.Options{RIE: rieBin, Bootstrap: guardBoot, Env: []string{config.EnvRegions + "=all"}})
		if err != nil {
			return Attempt{}, err
		}
		d, err := coldStart(ctx, sb.Fn, "guard")
		sb.Close()
		if err != nil {
			return Attempt{}, err
		}
		guardInits = append(guardInits, d)

		fn, err := rie.Start(ctx, rie.Options{RIE: rieBin, Bootstrap: minBoot, Env: []string{
			"PATH=" + os.Getenv("PATH"), "AWS_REGION=" + sandbox.HomeRegion, "AWS_LAMBDA_FUNCTION_NAME=minimal",
		}})
		if err != nil {
			return Attempt{}, err
		}
		d, err = coldStart(ctx, fn, "minimal function")
		fn.Close()
		if err != nil {
			return Attempt{}, err
		}
		minInits = append(minInits, d)
	}
	g, m := median(guardInits), median(minInits)
	if m <= 0 {
		return Attempt{}, fmt.Errorf("the minimal function's INIT took no time")
	}
	return Attempt{
		Value: float64(g) / float64(m),
		Figures: []Figure{
			{Name: "minimal aws-lambda-go INIT", Value: msOf(m), Unit: "ms"},
			{Name: "guard INIT", Value: msOf(g), Unit: "ms"},
			{Name: "cold starts each", Value: initStarts},
		},
	}, nil
}

// coldStart invokes a fresh instance once and reads its INIT duration.
func coldStart(ctx context.Context, fn *rie.Instance, name string) (time.Duration, error) {
	res, err := fn.Invoke(ctx, []byte(`{"source":"benchcheck.init","detail-type":"init"}`))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	_ = res // the guard ignores an event it does not know; INIT is over either way
	d, ok := fn.InitDuration()
	if !ok {
		return 0, fmt.Errorf("%s: no INIT REPORT line in RIE's log:\n%s", name, fn.Logs())
	}
	return d, nil
}
