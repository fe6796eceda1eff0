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

// BenchmarkSweepLatency injects 20 ms into every call and compares the wall
// time of a 17-Region sweep with a 1-Region sweep (goal <= 1.5) and with the
// same 17 Regions checked one after another (goal <= 1/8).
func BenchmarkSweepLatency(b *testing.B) {
	for _, par := range []int{8, reconcile.DefaultParallelism} {
		b.Run(fmt.Sprintf("parallelism=%d", par), func(b *testing.B) {
			regions := awsemu.DefaultRegions
			e := newEnv(b, regions...)
			e.seedCompliant(regions...)
			e.srv.Inject(awsemu.Fault{Op: "*", Kind: awsemu.FaultLatency, Latency: 20 * time.Millisecond})
			parallel := e.reconciler(reconcile.Options{Parallelism: par})
			serial := e.reconciler(reconcile.Options{Parallelism: 1})
			sweep := func(r *reconcile.Reconciler, s reconcile.Scope) time.Duration {
				start := time.Now()
				rep, err := r.Run(b.Context(), s)
				if err != nil || rep.Failed() || len(rep.Results) != 0 {
					b.Fatalf("sweep not compliant: %v %+v", err, rep)
				}
				return time.Since(start)
			}
			var one, all, oneByOne time.Duration
			for b.Loop() {
				one += sweep(parallel, reconcile.Scope{Regions: regions[:1]})
				all += sweep(parallel, reconcile.Scope{})
				oneByOne += sweep(serial, reconcile.Scope{})
			}
			n := float64(b.N)
			b.ReportMetric(float64(one.Milliseconds())/n, "ms-1region")
			b.ReportMetric(float64(all.Milliseconds())/n, "ms-17regions")
			b.ReportMetric(float64(oneByOne.Milliseconds())/n, "ms-17serial")
			b.ReportMetric(all.Seconds()/one.Seconds(), "17/1-ratio")
			b.ReportMetric(all.Seconds()/oneByOne.Seconds(), "17/serial-ratio")
		})
	}
}
