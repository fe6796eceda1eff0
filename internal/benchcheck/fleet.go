package benchcheck

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/fleetseed"
	"github.com/dhmc-guard/dhmc-guard/internal/rie"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// The fleet report's goals (issue 16), measured on one weekly report of
// FleetInstances running instances over the 17 default Regions, Latency per
// call, with DescribeInstances answering EC2's full payload (about 4.7 KB
// of XML per instance).
const (
	FleetInstances = 50000
	// MaxFleetPeakRSSMiB bounds the fleet bootstrap's peak resident memory:
	// pages are assessed and dropped, so it must not follow the fleet.
	MaxFleetPeakRSSMiB = 64.0
	// FleetMemoryMB is the fleet function's MemorySize (infra/template.yaml;
	// a template test holds them equal). Lambda gives a function CPU in
	// proportion to its memory: 1,769 MB is one vCPU.
	FleetMemoryMB = 768
	// FleetDeadline is how long a 50,000-instance report may take as
	// deployed.
	FleetDeadline = 60 * time.Second
)

// MaxFleetCPUPer10k is the CPU time per 10,000 instances at which
// FleetInstances finish within FleetDeadline at FleetMemoryMB's share of a
// vCPU: 60 s × 768/1769 vCPU = 26.0 vCPU-seconds for 5 × 10,000 instances,
// 5.2 s each. Round trips overlap the decoding (PagesInFlight), so CPU is
// the bound.
var MaxFleetCPUPer10k = math.Floor(FleetDeadline.Seconds()*FleetMemoryMB/1769/(FleetInstances/10000)*100) / 100 // to the hundredth, rounded down

// fleetRuns measures the fleet report once per attempt and shares each run
// between the memory and the CPU check: one 50,000-instance run serves both.
type fleetRuns struct {
	env  Env
	mu   sync.Mutex
	runs []fleetRun
	used map[string]int // check name -> runs consumed
}

type fleetRun struct {
	rssBytes int64
	cpu      time.Duration
	wall     time.Duration
	calls    int
}

func newFleetRuns(env Env) *fleetRuns { return &fleetRuns{env: env, used: map[string]int{}} }

// next returns the check's next run, measuring one when the other check has
// not already.
func (f *fleetRuns) next(ctx context.Context, check string) (fleetRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.used[check]
	if i == len(f.runs) {
		r, err := measureFleet(ctx, f.env)
		if err != nil {
			return fleetRun{}, err
		}
		f.runs = append(f.runs, r)
	}
	f.used[check] = i + 1
	return f.runs[i], nil
}

func (r fleetRun) figures() []Figure {
	return []Figure{
		{Name: "instances", Value: FleetInstances},
		{Name: "Regions", Value: float64(len(awsemu.DefaultRegions))},
		{Name: "peak RSS (VmHWM)", Value: float64(r.rssBytes), Unit: "bytes"},
		{Name: "CPU", Value: r.cpu.Seconds(), Unit: "s"},
		{Name: "wall on this machine", Value: r.wall.Seconds(), Unit: "s"},
		{Name: "API calls", Value: float64(r.calls)},
	}
}

func (f *fleetRuns) measureRSS(ctx context.Context) (Attempt, error) {
	r, err := f.next(ctx, "rss")
	if err != nil {
		return Attempt{}, err
	}
	return Attempt{Value: float64(r.rssBytes) / mib, Figures: r.figures()}, nil
}

func (f *fleetRuns) measureCPU(ctx context.Context) (Attempt, error) {
	r, err := f.next(ctx, "cpu")
	if err != nil {
		return Attempt{}, err
	}
	per10k := r.cpu.Seconds() / (FleetInstances / 10000)
	figs := append(r.figures(), Figure{Name: fmt.Sprintf("wall at %d MB (%.3f vCPU)", FleetMemoryMB, FleetMemoryMB/1769.0),
		Value: r.cpu.Seconds() * 1769 / FleetMemoryMB, Unit: "s"})
	return Attempt{Value: per10k, Figures: figs}, nil
}

// measureFleet runs the release fleet bootstrap (for this host) under RIE
// against a seeded 50,000-instance fleet, every call delayed by Latency,
// and reads the bootstrap's peak RSS and CPU time after the report.
func measureFleet(ctx context.Context, env Env) (fleetRun, error) {
	if env.ModuleRoot == "" {
		return fleetRun{}, fmt.Errorf("no module root to build the bootstrap in")
	}
	pkg := "./functions/fleet"
	rieBin, bootstrap, err := rie.BuildWith(ctx, env.ModuleRoot, rie.SharedDir(env.ModuleRoot, pkg, true), pkg,
		rie.BuildOptions{Progress: env.Progress, Release: true})
	if err != nil {
		return fleetRun{}, err
	}
	emu := awsemu.New()
	if err := emu.Start("127.0.0.1:0"); err != nil {
		return fleetRun{}, err
	}
	defer emu.Close()
	spec := fleetseed.Mixed(42, FleetInstances, awsemu.DefaultRegions)
	spec.StoppedPerRegion = 20
	f, err := sandbox.StartFleet(ctx, emu, sandbox.FleetOptions{RIE: rieBin, Bootstrap: bootstrap, Spec: spec, Env: []string{"DHMC_REGIONS=all"}})
	if err != nil {
		return fleetRun{}, err
	}
	defer f.Close()
	emu.ResetCalls()
	emu.Inject(awsemu.Fault{Op: "*", Kind: awsemu.FaultLatency, Latency: env.latency()})
	start := time.Now()
	rep, res, err := f.Report(ctx, `{"trigger":"schedule"}`)
	wall := time.Since(start)
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		return fleetRun{}, fmt.Errorf("the fleet report: %w", err)
	}
	if diffs := sandbox.CheckFleet(rep, f.Expected); len(diffs) > 0 {
		return fleetRun{}, fmt.Errorf("the fleet report differs from the seed:\n%s", strings.Join(diffs, "\n"))
	}
	rss, err := f.Fn.BootstrapPeakRSS()
	if err != nil {
		return fleetRun{}, err
	}
	cpu, err := f.Fn.BootstrapCPU()
	if err != nil {
		return fleetRun{}, err
	}
	return fleetRun{rssBytes: rss, cpu: cpu, wall: wall, calls: emu.CountCalls(nil)}, nil
}
