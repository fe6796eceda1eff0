package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// BenchmarkColdStartAndFullSweep starts a fresh function under RIE for each
// iteration and runs a scheduled sweep of every Region enabled in the
// account (17, discovered through account:ListRegions). It reports the init
// time RIE logs, the first invocation's wall time, and the bootstrap's peak
// resident memory, measured on the process (RIE's "Max Memory Used" only
// echoes the configured size).
func BenchmarkColdStartAndFullSweep(b *testing.B) {
	schedule, err := os.ReadFile(filepath.Join(eventsDir, "schedule.json"))
	if err != nil {
		b.Fatal(err)
	}
	var initMs, firstMs, rssMB float64
	for b.Loop() {
		b.StopTimer()
		emu := awsemu.New()
		if err := emu.Start("127.0.0.1:0"); err != nil {
			b.Fatal(err)
		}
		sb, err := sandbox.Start(b.Context(), emu, sandbox.Options{RIE: rieBin, Bootstrap: bootstrap, Env: []string{"DHMC_REGIONS=all"}})
		if err != nil {
			b.Fatal(err)
		}
		d := sandbox.Desired()
		for _, r := range awsemu.DefaultRegions {
			emu.SetSetting(sandbox.Account, r, d.SettingValue())
		}
		b.StartTimer()
		start := time.Now()
		res, err := sb.Fn.Invoke(b.Context(), schedule)
		first := time.Since(start)
		b.StopTimer()
		if err != nil || res.Err() != nil {
			b.Fatalf("invoke: %v %v\n%s", err, res.Err(), sb.Fn.Logs())
		}
		_, rep, err := sandbox.ReportOf(res.Payload)
		if err != nil || len(rep.Regions) != len(awsemu.DefaultRegions) || len(rep.Results) != 0 {
			b.Fatalf("sweep report %+v %v, want %d compliant Regions", rep, err, len(awsemu.DefaultRegions))
		}
		init, ok := sb.Fn.InitDuration()
		if !ok {
			b.Fatalf("no INIT REPORT in the log:\n%s", sb.Fn.Logs())
		}
		rss, err := sb.Fn.BootstrapPeakRSS()
		if err != nil {
			b.Fatal(err)
		}
		initMs += float64(init.Microseconds()) / 1000
		firstMs += float64(first.Microseconds()) / 1000
		rssMB += float64(rss) / (1 << 20)
		sb.Close()
		emu.Close()
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(initMs/n, "init-ms")
	b.ReportMetric(firstMs/n, "first-invoke-ms")
	b.ReportMetric(rssMB/n, "peak-rss-MB")
}

// BenchmarkReleaseBinarySize builds the deployed artefact (linux/arm64,
// stripped, -tags lambda.norpc) and reports its size.
func BenchmarkReleaseBinarySize(b *testing.B) {
	out := filepath.Join(b.TempDir(), "bootstrap")
	var size int64
	for b.Loop() {
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, msg)
		}
		fi, err := os.Stat(out)
		if err != nil {
			b.Fatal(err)
		}
		size = fi.Size()
	}
	b.ReportMetric(float64(size)/(1<<20), "MB")
}
