package rie

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// rieModule is the module of the Lambda Runtime Interface Emulator.
const rieModule = "github.com/aws/aws-lambda-runtime-interface-emulator"

// RIEPackage is the emulator's main package, pinned by the tool directive in
// go.mod, so `go build` of it needs nothing beyond the module cache.
const RIEPackage = rieModule + "/cmd/aws-lambda-rie"

// BuildOptions say how BuildWith compiles.
type BuildOptions struct {
	// Progress, if set, receives a line when each build starts and ends (with
	// its duration), the module downloads, and a heartbeat every few seconds
	// while a build runs, so a first build on an empty cache is never silent.
	Progress io.Writer
	// Release builds with the settings of the deployed binary (CGO_ENABLED=0,
	// -trimpath), for measuring what is deployed. Otherwise the function is
	// built with the calling program's own race and cgo settings and without
	// -trimpath: -trimpath and a cgo or race difference each change every
	// compiled package, so matching the caller lets the build reuse the
	// packages `go run` or `go test` already compiled into the build cache
	// (a cold `make demo` compiled the SDK twice before). Under `go test
	// -race` the function thus runs with the race detector too (see rieFlags
	// for RIE).
	Release bool
}

// Build compiles the emulator and the function package pkg for this host
// into dir, like the caller (see BuildOptions.Release), quietly.
func Build(ctx context.Context, moduleRoot, dir, pkg string) (rieBin, bootstrap string, err error) {
	return BuildWith(ctx, moduleRoot, dir, pkg, BuildOptions{})
}

// BuildWith compiles the emulator and the function package pkg for this host
// into dir, both at once, and returns their paths. The function gets the
// release build's tag and linker flags (-tags lambda.norpc, -s -w). A failed
// build's error carries the compiler's output.
//
// Several processes may build into one dir at once (the test packages of
// one `go test ./...`): they take turns. An up-to-date binary in dir is not
// linked again, which is what makes SharedDir worth using.
func BuildWith(ctx context.Context, moduleRoot, dir, pkg string, o BuildOptions) (rieBin, bootstrap string, err error) {
	rieBin = filepath.Join(dir, "aws-lambda-rie")
	bootstrap = filepath.Join(dir, "bootstrap")
	flags, cgo := buildSettings(o.Release)
	env := append(os.Environ(), "CGO_ENABLED="+cgo)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return "", "", err
	}
	defer unlock()
	p := newProgress(o.Progress)
	defer p.stop()
	builds := []*build{
		{name: "bootstrap", args: goBuildArgs(flags, "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", bootstrap, pkg)},
		{name: "aws-lambda-rie", args: goBuildArgs(rieFlags(flags), "-o", rieBin, RIEPackage)},
	}
	var wg sync.WaitGroup
	for _, b := range builds {
		wg.Go(func() { b.err = b.run(ctx, moduleRoot, env, p) })
	}
	wg.Wait()
	for _, b := range builds {
		if b.err != nil {
			return "", "", b.err
		}
	}
	return rieBin, bootstrap, nil
}

// rieFlags are the flags for RIE. RIE has data races of its own (rapid and
// rapidcore's invoke path), so under -race its own packages are compiled
// without the race instrumentation: nothing in them is reported, while the
// standard library and the runtime stay the race-enabled ones `go test -race`
// already compiled. (Building RIE without -race instead recompiled the whole
// standard library: 30 s more of a cold make test.)
func rieFlags(flags []string) []string {
	if slices.Contains(flags, "-race") {
		return append(slices.Clone(flags), "-gcflags="+rieModule+"/...=-race=false")
	}
	return flags
}

func goBuildArgs(head []string, tail ...string) []string {
	return append(append([]string{"build", "-v"}, head...), tail...)
}

// SharedDir is where to build pkg for the calling program's settings (or
// the release settings) so that every test package, the riebuild step of
// make test and later runs find the same binaries: moduleRoot/build/rie/
// <settings>/<pkg>. go build does not link again a binary that is up to
// date, so after the first build a test's TestMain only checks.
func SharedDir(moduleRoot, pkg string, release bool) string {
	flags, cgo := buildSettings(release)
	variant := "host"
	if release {
		variant = "release"
	}
	if slices.Contains(flags, "-race") {
		variant += "-race"
	}
	if cgo == "1" {
		variant += "-cgo"
	}
	name := strings.NewReplacer("/", "-", ".", "").Replace(strings.Trim(pkg, "./"))
	return filepath.Join(moduleRoot, "build", "rie", variant, name)
}

// lockDir takes an exclusive lock on dir (a lock file in it) until unlock.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, ".build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// buildSettings are the go build flags and the CGO_ENABLED value for a
// release build or one like the running program.
// ReleaseGCFlags turn inlining off in the deployed build (the Makefile's
// build and sam-build use the same): the function spends its time waiting on
// AWS, not computing, and inlining costs it about 1 MB of binary, a goal of
// the project (make bench-check: at most 12 MiB for arm64).
const ReleaseGCFlags = "-gcflags=all=-l"

func buildSettings(release bool) (flags []string, cgo string) {
	race := false
	cgo = "0"
	if !release {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				switch s.Key {
				case "-race":
					race = s.Value == "true"
				case "CGO_ENABLED":
					cgo = s.Value
				}
			}
		}
	}
	if release {
		flags = append(flags, "-trimpath", ReleaseGCFlags)
	}
	if race {
		flags = append(flags, "-race")
	}
	return flags, cgo
}

type build struct {
	name string
	args []string
	err  error
}

// pkgLine is a line of `go build -v` output naming a package it compiled.
var pkgLine = regexp.MustCompile(`^[A-Za-z0-9_.~/-]+$`)

func (b *build) run(ctx context.Context, dir string, env []string, p *progress) error {
	start := time.Now()
	p.started(b.name)
	cmd := exec.CommandContext(ctx, "go", b.args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(b.args, " "), err)
	}
	// Everything but the package names is kept for the error.
	var kept bytes.Buffer
	s := bufio.NewScanner(out)
	for s.Scan() {
		line := s.Text()
		switch {
		case pkgLine.MatchString(line):
			p.compiled(b.name)
		case strings.HasPrefix(line, "go: downloading "):
			p.say("   %s", line)
			fallthrough
		default:
			kept.WriteString(line + "\n")
		}
	}
	if err := cmd.Wait(); err != nil {
		p.finished(b.name, time.Since(start), false)
		return fmt.Errorf("go %s: %w\n%s", strings.Join(b.args, " "), err, kept.String())
	}
	p.finished(b.name, time.Since(start), true)
	return nil
}
