package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/fleetseed"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// BenchmarkFleetReport runs the built bootstrap under RIE against 10,000
// (and 50,000) running instances over the 17 default Regions, every call
// delayed 20 ms, Regions discovered through account:ListRegions (the
// deployed default), DescribeInstances answering EC2's full payload (~4.7 KB
// an instance). It reports the invocation's wall time, the API calls the
// emulator answered, the bootstrap's peak resident memory (VmHWM) and its
// CPU time, whole and per 10,000 instances. The 50,000 case shows memory
// stays flat as the fleet grows: pages are assessed and dropped (at most
// 4 held), and only a compact node index (~30 bytes a node) grows. Goals:
// make bench-check (internal/benchcheck/fleet.go).
func BenchmarkFleetReport(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		b.Run(fmt.Sprintf("%dk-instances-17-Regions", n/1000), func(b *testing.B) { benchFleet(b, n) })
	}
}

func benchFleet(b *testing.B, instances int) {
	spec := fleetseed.Mixed(42, instances, awsemu.DefaultRegions)
	spec.StoppedPerRegion = 20
	var wallMs, calls, rssMB, cpuMs float64
	for b.Loop() {
		b.StopTimer()
		emu := awsemu.New()
		if err := emu.Start("127.0.0.1:0"); err != nil {
			b.Fatal(err)
		}
		f, err := sandbox.StartFleet(b.Context(), emu, sandbox.FleetOptions{RIE: rieBin, Bootstrap: bootstrap, Spec: spec, Env: []string{"DHMC_REGIONS=all"}})
		if err != nil {
			b.Fatal(err)
		}
		emu.ResetCalls()
		emu.Inject(awsemu.Fault{Op: "*", Kind: awsemu.FaultLatency, Latency: 20 * time.Millisecond})
		b.StartTimer()
		start := time.Now()
		r, res, err := f.Report(b.Context(), `{"trigger":"schedule"}`)
		wall := time.Since(start)
		b.StopTimer()
		if err != nil || res.Err() != nil {
			b.Fatalf("invoke: %v %v\n%s", err, res.Err(), f.Fn.Logs())
		}
		if diffs := sandbox.CheckFleet(r, f.Expected); len(diffs) > 0 {
			b.Fatalf("report differs from the seed:\n%s", strings.Join(diffs, "\n"))
		}
		rss, err := f.Fn.BootstrapPeakRSS()
		if err != nil {
			b.Fatal(err)
		}
		cpu, err := f.Fn.BootstrapCPU()
		if err != nil {
			b.Fatal(err)
		}
		cpuMs += float64(cpu.Milliseconds())
		wallMs += float64(wall.Microseconds()) / 1000
		calls += float64(emu.CountCalls(nil))
		rssMB += float64(rss) / (1 << 20)
		f.Close()
		emu.Close()
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(wallMs/n, "wall-ms")
	b.ReportMetric(calls/n, "api-calls")
	b.ReportMetric(rssMB/n, "peak-rss-MB")
	// CPU time of the bootstrap (start-up included), whole and per 10,000
	// instances: what Lambda's share of a vCPU stretches into wall time.
	b.ReportMetric(cpuMs/n, "cpu-ms")
	b.ReportMetric(cpuMs/n*10000/float64(instances), "cpu-ms-per-10k")
}
