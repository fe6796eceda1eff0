// Command fleet is `make demo-fleet`: it builds the fleet readiness
// function, seeds the local AWS emulator with a small fleet in which every
// reason DHMC cannot manage an instance is present, runs the report under
// the Lambda Runtime Interface Emulator, and prints the digest on-call would
// read. It exits non-zero when the report's numbers differ from the seed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/fleet"
	"github.com/dhmc-guard/dhmc-guard/internal/fleetseed"
	"github.com/dhmc-guard/dhmc-guard/internal/rie"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

var regions = []string{"eu-central-1", "eu-west-1", "us-east-1"}

func main() {
	buildDir := flag.String("build-dir", "build/demo-fleet", "where the bootstrap and aws-lambda-rie are built")
	instances := flag.Int("instances", 40, "running instances to seed")
	verbose := flag.Bool("v", false, "show the function's and RIE's own log lines")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *buildDir, *instances, *verbose); err != nil {
		fmt.Fprintf(os.Stderr, "\nDEMO FAILED: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("\nThe report's numbers match the seeded fleet, reason by reason.")
}

// step runs fn, saying what it does, printing a heartbeat every 5 s while
// it runs (a cold build takes minutes) and how long it took.
func step(what string, fn func() error) error {
	fmt.Printf("\n== %s\n", what)
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err == nil {
				fmt.Printf("   done in %s\n", time.Since(start).Round(time.Millisecond))
			}
			return err
		case <-tick.C:
			fmt.Printf("   ... still working (%s)\n", time.Since(start).Round(time.Second))
		}
	}
}

func run(ctx context.Context, buildDir string, instances int, verbose bool) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(buildDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var rieBin, bootstrap string
	if err := step("Building the fleet function (functions/fleet, -tags lambda.norpc) and the Lambda Runtime Interface Emulator", func() error {
		var err error
		rieBin, bootstrap, err = rie.Build(ctx, root, dir, "./functions/fleet")
		return err
	}); err != nil {
		return err
	}

	emu := awsemu.New()
	if err := emu.Start("127.0.0.1:0"); err != nil {
		return fmt.Errorf("starting the AWS emulator: %w", err)
	}
	defer emu.Close()
	spec := fleetseed.Mixed(2026, instances, regions)
	var fnLog io.Writer = io.Discard
	if verbose {
		fnLog = os.Stdout
	}
	var f *sandbox.Fleet
	if err := step(fmt.Sprintf("Seeding %d running instances in %s (DHMC off in %s) and starting the function under RIE",
		instances, strings.Join(regions, ", "), spec.DHMCOff[0]), func() error {
		var err error
		f, err = sandbox.StartFleet(ctx, emu, sandbox.FleetOptions{RIE: rieBin, Bootstrap: bootstrap, Spec: spec, Log: fnLog})
		return err
	}); err != nil {
		return err
	}
	defer f.Close()
	exp := f.Expected
	fmt.Printf("   seeded: %d running, %d ready; ", exp.Total.Running, exp.Total.Ready)
	var parts []string
	for _, why := range []string{fleetseed.DHMCOff, fleetseed.ProfileSSM, fleetseed.OldAgent, fleetseed.NotRegistered, fleetseed.NotPinging} {
		n := exp.Total.Reasons[why]
		if n == 0 {
			return fmt.Errorf("the seed has no instance with %s: use more instances", why)
		}
		parts = append(parts, fmt.Sprintf("%s %d", why, n))
	}
	// HttpTokens optional still serves IMDSv2: hygiene, and ready.
	fmt.Printf("%s; hygiene: %s %d (ready all the same)\n", strings.Join(parts, ", "), fleetseed.IMDSv1, exp.Total.Hygiene[fleetseed.IMDSv1])

	var r *fleet.Report
	if err := step(`Invoking the report on demand ({"action":"report"})`, func() error {
		var res rie.Result
		var err error
		r, res, err = f.Report(ctx, `{"action":"report"}`)
		if err == nil && res.Err() != nil {
			err = res.Err()
		}
		return err
	}); err != nil {
		return err
	}
	fmt.Printf("   %d Regions, %d running, %d ready, %d migration candidates, %d AWS reads in %d ms\n",
		len(r.Regions), r.Totals.Running, r.Totals.Ready, len(r.MigrationCandidates), r.Reads, r.DurationMs)

	msgs := emu.Messages()
	if len(msgs) != 1 {
		return fmt.Errorf("%d SNS messages published, want the one digest", len(msgs))
	}
	m := msgs[0]
	text, _, _ := strings.Cut(m.Body, fleet.JSONMarker)
	fmt.Printf("\n== What on-call received on %s  [kind=%s severity=%s]\nSubject: %s\n\n%s\n   (the message ends with the full report as JSON, not shown here)\n",
		f.TopicARN, m.Attributes["kind"], m.Attributes["severity"], m.Subject, strings.TrimSpace(text))

	fmt.Println("\n== Checking the report against the seed")
	if diffs := sandbox.CheckFleet(r, exp); len(diffs) > 0 {
		return errors.New("the report differs from the seeded fleet:\n  " + strings.Join(diffs, "\n  "))
	}
	if !f.Fn.WaitForLog("FleetReportCompleted", 2*time.Second) {
		return errors.New("no FleetReportCompleted metric in the function's log")
	}
	fmt.Println("   every Region, every reason and every migration candidate matches; EMF metrics are in the log")
	return nil
}
