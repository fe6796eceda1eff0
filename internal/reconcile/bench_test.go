package reconcile_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

// BenchmarkCompliantSweep reports the API calls of a sweep that finds
// nothing: the goal is R+3 reads (R+4 when Regions are discovered), 0 writes.
func BenchmarkCompliantSweep(b *testing.B) {
	for _, tc := range []struct {
		regions  int
		discover bool
	}{{1, false}, {4, false}, {17, false}, {17, true}} {
		name := fmt.Sprintf("regions=%d", tc.regions)
		if tc.discover {
			name += "/discovered"
		}
		b.Run(name, func(b *testing.B) {
			regions := awsemu.DefaultRegions[:tc.regions]
			var e *env
			if tc.discover {
				e = newEnv(b)
			} else {
				e = newEnv(b, regions...)
			}
			e.seedCompliant(regions...)
			r := e.reconciler(reconcile.Options{})
			var calls, reads, writes int
			for b.Loop() {
				rep, err := r.Run(b.Context(), reconcile.Scope{})
				if err != nil || len(rep.Results) != 0 || rep.Failed() {
					b.Fatalf("sweep not compliant: %v %+v", err, rep)
				}
				reads += rep.Reads
				writes += rep.Writes
			}
			calls = e.srv.CountCalls(nil)
			n := float64(b.N)
			b.ReportMetric(float64(calls)/n, "calls/op")
			b.ReportMetric(float64(reads)/n, "reads/op")
			b.ReportMetric(float64(writes)/n, "writes/op")
		})
	}
}

// BenchmarkSweepLatency injects 20 ms into every call and reports the wall
// time of a full sweep: one configured Region, 17 configured Regions at
// parallelism 20, 8 and 1, and the deployed default (17 Regions discovered
// through account:ListRegions, the reconciler warm), with the ratios to the
// one-Region sweep. The goals (17/1 <= 1.5 at the default parallelism,
// parallel <= 1/8 of sequential, deployed default <= 1.2) are asserted by
// `make bench-check` (internal/benchcheck), with retries; a benchmark only
// reports.
func BenchmarkSweepLatency(b *testing.B) {
	regions := awsemu.DefaultRegions
	configured := newEnv(b, regions...)
	configured.seedCompliant(regions...)
	configured.srv.Inject(awsemu.Fault{Op: "*", Kind: awsemu.FaultLatency, Latency: 20 * time.Millisecond})
	discovered := newEnv(b)
	discovered.seedCompliant(regions...)
	discovered.srv.Inject(awsemu.Fault{Op: "*", Kind: awsemu.FaultLatency, Latency: 20 * time.Millisecond})

	type sweep struct {
		name  string
		r     *reconcile.Reconciler
		scope reconcile.Scope
		total time.Duration
	}
	sweeps := []*sweep{
		{name: "1region", r: configured.reconciler(reconcile.Options{}), scope: reconcile.Scope{Regions: regions[:1]}},
		{name: "17regions", r: configured.reconciler(reconcile.Options{})},
		{name: "17regions-par8", r: configured.reconciler(reconcile.Options{Parallelism: 8})},
		{name: "17serial", r: configured.reconciler(reconcile.Options{Parallelism: 1})},
		{name: "17discovered", r: discovered.reconciler(reconcile.Options{})},
	}
	run := func(s *sweep) time.Duration {
		scope := s.scope
		start := time.Now()
		rep, err := s.r.Run(b.Context(), scope)
		if err != nil || rep.Failed() || len(rep.Results) != 0 {
			b.Fatalf("%s sweep not compliant: %v %+v", s.name, err, rep)
		}
		return time.Since(start)
	}
	for _, s := range sweeps {
		run(s) // warm: a deployed function's environment is reused
	}
	for b.Loop() {
		for _, s := range sweeps {
			s.total += run(s)
		}
	}
	n := float64(b.N)
	for _, s := range sweeps {
		b.ReportMetric(float64(s.total.Microseconds())/1000/n, "ms-"+s.name)
	}
	one := sweeps[0].total.Seconds()
	b.ReportMetric(sweeps[1].total.Seconds()/one, "17/1-ratio")
	b.ReportMetric(sweeps[1].total.Seconds()/sweeps[3].total.Seconds(), "17/serial-ratio")
	b.ReportMetric(sweeps[4].total.Seconds()/one, "discovered/1-ratio")
}
