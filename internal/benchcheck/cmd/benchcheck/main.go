// Command benchcheck runs dhmc-guard's performance checks (`make
// bench-check`): sweep-time ratios, the release binary's size and the
// function's peak memory, printing every figure it measured. It exits 1 if
// any check failed.
//
//	go run ./internal/benchcheck/cmd/benchcheck -binary build/arm64/bootstrap [-only name,name]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"

	"github.com/dhmc-guard/dhmc-guard/internal/benchcheck"
)

func main() {
	binary := flag.String("binary", "build/arm64/bootstrap", "the arm64 release bootstrap (make build)")
	only := flag.String("only", "", "comma-separated check names to run (default: all)")
	flag.Parse()

	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	checks := benchcheck.Checks(benchcheck.Env{ModuleRoot: root, Binary: *binary, Progress: os.Stdout})
	if *only != "" {
		names := strings.Split(*only, ",")
		checks = slices.DeleteFunc(checks, func(c benchcheck.Check) bool { return !slices.Contains(names, c.Name) })
		if len(checks) == 0 {
			fmt.Fprintf(os.Stderr, "no check named %s\n", *only)
			os.Exit(2)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, ok := benchcheck.RunAll(ctx, checks, os.Stdout); !ok {
		fmt.Println("\nbench-check FAILED")
		os.Exit(1)
	}
	fmt.Println("\nbench-check passed")
}
