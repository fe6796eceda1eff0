package benchcheck

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/rie"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

const mib = 1 << 20

// measureBinary is the size of the release binary, which must be the
// linux/arm64 one that is deployed.
func measureBinary(path string) (Attempt, error) {
	if path == "" {
		return Attempt{}, fmt.Errorf("no binary given (make bench-check runs make build first)")
	}
	f, err := elf.Open(path)
	if err != nil {
		return Attempt{}, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		return Attempt{}, fmt.Errorf("%s is a %s binary, not the arm64 release build", path, f.Machine)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return Attempt{}, err
	}
	return Attempt{
		Value:   float64(fi.Size()) / mib,
		Figures: []Figure{{Name: "size", Value: float64(fi.Size()), Unit: "bytes"}},
	}, nil
}

// rssSweeps is how many scheduled sweeps the memory check runs in one
// function instance: the first repairs RSSRegions-3 Regions, the rest find
// them compliant.
const rssSweeps = 10

// rssRegions are RSSRegions Region codes: the commercial ones the emulator
// knows, then made-up ones (the emulator and the function take any code of
// the right shape).
func rssRegions() []string {
	regions := slices.Clone(awsemu.DefaultRegions)
	for i := 1; len(regions) < RSSRegions; i++ {
		regions = append(regions, fmt.Sprintf("xx-bench-%d", i))
	}
	return regions
}

// measurePeakRSS runs the release bootstrap (for this host) under RIE
// against an emulator whose account has RSSRegions Regions enabled, the
// deployed default discovering them, sweeps rssSweeps times and reads the
// bootstrap's peak resident memory.
func measurePeakRSS(ctx context.Context, env Env) (Attempt, error) {
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
	regions := rssRegions()
	emu.SetEnabledRegions(sandbox.Account, regions)
	sb, err := sandbox.Start(ctx, emu, sandbox.Options{RIE: rieBin, Bootstrap: bootstrap, Env: []string{"DHMC_REGIONS=all"}})
	if err != nil {
		return Attempt{}, err
	}
	defer sb.Close()
	schedule := filepath.Join(env.ModuleRoot, "events", "schedule.json")
	for i := range rssSweeps {
		res, err := sb.InvokeFile(ctx, schedule)
		if err != nil {
			return Attempt{}, fmt.Errorf("sweep %d: %w", i+1, err)
		}
		if err := res.Err(); err != nil {
			return Attempt{}, fmt.Errorf("sweep %d: %w", i+1, err)
		}
		_, rep, err := sandbox.ReportOf(res.Payload)
		if err != nil {
			return Attempt{}, err
		}
		if rep == nil || len(rep.Regions) != len(regions) || rep.Failed() {
			return Attempt{}, fmt.Errorf("sweep %d did not sweep the %d Regions cleanly", i+1, len(regions))
		}
	}
	rss, err := sb.Fn.BootstrapPeakRSS()
	if err != nil {
		return Attempt{}, err
	}
	return Attempt{
		Value: float64(rss) / mib,
		Figures: []Figure{
			{Name: "Regions", Value: float64(len(regions))},
			{Name: "sweeps", Value: rssSweeps},
			{Name: "peak RSS (VmHWM)", Value: float64(rss), Unit: "bytes"},
		},
	}, nil
}
