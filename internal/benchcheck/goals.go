package benchcheck

import (
	"context"
	"fmt"
	"io"
	"time"
)

// The goals (issue 11). Sweeps are timed with Latency added to every call
// the emulator answers, so that round trips, not CPU, dominate, as in AWS.
const (
	// MaxRegionsRatio: a sweep of 17 Regions takes at most 1.5 times a
	// sweep of one: Regions are read at once, not one after another.
	MaxRegionsRatio = 1.5
	// MaxParallelRatio: 17 Regions at Parallelism 20 take at most an
	// eighth of the time they take at Parallelism 1.
	MaxParallelRatio = 1.0 / 8
	// MaxDiscoveredRatio: the deployed default (ManagedRegions=all, the
	// Regions discovered through account:ListRegions), warm, sweeps 17
	// Regions in at most 1.2 times a configured one-Region sweep: one
	// round trip, not a listing and then the reads.
	MaxDiscoveredRatio = 1.2
	// MaxBinaryMiB bounds the deployed arm64 bootstrap.
	MaxBinaryMiB = 12.0
	// MaxPeakRSSMiB bounds the bootstrap's peak resident memory under RIE
	// after repeated sweeps of RSSRegions Regions (the function has 128 MB).
	MaxPeakRSSMiB = 40.0

	// Latency is added to every emulated call in the sweep checks.
	Latency = 20 * time.Millisecond
	// RSSRegions is how many Regions the memory check sweeps.
	RSSRegions = 64
)

// Env is what the checks need from outside.
type Env struct {
	// ModuleRoot is the repository, for building the release bootstrap the
	// memory check runs under RIE.
	ModuleRoot string
	// Binary is the arm64 release bootstrap (`make build`'s
	// build/arm64/bootstrap).
	Binary string
	// Latency per emulated call (default Latency) and Sweeps timed per
	// attempt for each side of a ratio (default 7): tests make them small.
	Latency time.Duration
	Sweeps  int
	// Progress receives build progress (nil: none).
	Progress io.Writer
}

func (e Env) latency() time.Duration {
	if e.Latency > 0 {
		return e.Latency
	}
	return Latency
}

func (e Env) sweeps() int {
	if e.Sweeps > 0 {
		return e.Sweeps
	}
	return 7
}

// Checks are the goals, in the order make bench-check runs them.
func Checks(env Env) []Check {
	ms := float64(env.latency()) / float64(time.Millisecond)
	fleet := newFleetRuns(env)
	return []Check{
		{
			Name:     "regions-17-vs-1",
			What:     "a sweep of 17 configured Regions vs one configured Region, " + fmtMs(ms) + " per call, Parallelism 20",
			Max:      MaxRegionsRatio,
			Unit:     "ratio",
			Attempts: 3,
			Hint:     "Regions are no longer read at once: look at how observe fans out (internal/reconcile).",
			Measure:  func(ctx context.Context) (Attempt, error) { return measureRegionsRatio(ctx, env) },
		},
		{
			Name:     "parallel-vs-sequential",
			What:     "17 Regions at Parallelism 20 vs Parallelism 1, " + fmtMs(ms) + " per call",
			Max:      MaxParallelRatio,
			Unit:     "ratio",
			Attempts: 3,
			Hint:     "Parallelism no longer bounds the fan-out as configured, or something per Region is serialised.",
			Measure:  func(ctx context.Context) (Attempt, error) { return measureParallelRatio(ctx, env) },
		},
		{
			Name:     "deployed-default-vs-1",
			What:     "a warm sweep of the deployed default (ManagedRegions=all: 17 Regions found by account:ListRegions) vs one configured Region, " + fmtMs(ms) + " per call",
			Max:      MaxDiscoveredRatio,
			Unit:     "ratio",
			Attempts: 3,
			Hint: "The deployed default lists the Regions (account:ListRegions) and then reads them: two round trips. " +
				"Issue 11 point 7 makes it one (read the role while the Regions are listed; keep the list per warm environment with a short TTL).",
			Measure: func(ctx context.Context) (Attempt, error) { return measureDiscoveredRatio(ctx, env) },
		},
		{
			Name:     "binary-size",
			What:     "the arm64 release bootstrap (make build: " + env.Binary + ")",
			Max:      MaxBinaryMiB,
			Unit:     "MiB",
			Attempts: 1,
			Hint:     "A new dependency or a debug build: compare `go version -m` of the binary with the last good one.",
			Measure:  func(ctx context.Context) (Attempt, error) { return measureBinary(env.Binary) },
		},
		{
			Name:     "peak-rss",
			What:     "the bootstrap's peak resident memory under RIE after repeated sweeps of 64 Regions",
			Max:      MaxPeakRSSMiB,
			Unit:     "MiB",
			Attempts: 3,
			Hint:     "Something keeps memory per Region or per run: profile a sweep of 64 Regions (heap).",
			Measure:  func(ctx context.Context) (Attempt, error) { return measurePeakRSS(ctx, env) },
		},
		// Issue 16: the fleet report on EC2's real payload (fleet.go).
		{
			Name:     "fleet-50k-peak-rss",
			What:     "the fleet bootstrap's peak resident memory under RIE for 50,000 instances over 17 Regions (EC2's full payload), " + fmtMs(ms) + " per call",
			Max:      MaxFleetPeakRSSMiB,
			Unit:     "MiB",
			Attempts: 2,
			Hint:     "Something holds instances or pages: DescribeInstances pages must be assessed and dropped (internal/fleet PagesInFlight).",
			Measure:  fleet.measureRSS,
		},
		{
			Name: "fleet-cpu-per-10k",
			What: fmt.Sprintf("the fleet bootstrap's CPU seconds per 10,000 instances (same run): at %d MB, %.3f of a vCPU, 50,000 must finish in %v",
				FleetMemoryMB, FleetMemoryMB/1769.0, FleetDeadline),
			Max:      MaxFleetCPUPer10k,
			Unit:     "s",
			Attempts: 2,
			Hint:     "Decoding DescribeInstances dominates: a slower decoder or more work per instance. Profile the fleet report, or raise the fleet MemorySize (and FleetMemoryMB) with the arithmetic.",
			Measure:  fleet.measureCPU,
		},
		paddedCheck(env),
	}
}

func fmtMs(ms float64) string { return formatValue(ms, "ms") }
