// Command riebuild builds a function's bootstrap and aws-lambda-rie exactly as
// the end-to-end tests and the demo do (rie.BuildWith, like the calling
// program), showing progress. `make test` runs it as `go run -race` before
// the tests: the build each test package's TestMain starts with is then a
// visible step the first time, and a cache hit in the tests. Because it is
// the same call built with the same -race setting, its flags cannot drift
// from the tests'.
//
//	go run -race ./internal/rie/cmd/riebuild [-o DIR] [-pkg ./functions/guard] [-release]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/rie"
)

func main() {
	out := flag.String("o", "", "directory to build into (default: rie.SharedDir, where the tests look)")
	pkg := flag.String("pkg", "./functions/guard", "the function's main package")
	release := flag.Bool("release", false, "build with the deployed binary's settings (CGO_ENABLED=0, -trimpath)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *out, *pkg, *release); err != nil {
		fmt.Fprintln(os.Stderr, "riebuild:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out, pkg string, release bool) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	dir := rie.SharedDir(root, pkg, release)
	if out != "" {
		if dir, err = filepath.Abs(out); err != nil {
			return err
		}
	}
	start := time.Now()
	rieBin, bootstrap, err := rie.BuildWith(ctx, root, dir, pkg, rie.BuildOptions{Progress: os.Stdout, Release: release})
	if err != nil {
		return err
	}
	fmt.Printf("   %s\n   %s\n   (built in %.1fs)\n", bootstrap, rieBin, time.Since(start).Seconds())
	return nil
}
