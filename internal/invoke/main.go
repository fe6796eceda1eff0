// Command invoke replays one event against the real function without Docker
// (`make invoke EVENT=events/<file>.json [STATE=drifted]`): it builds the
// bootstrap and the Lambda Runtime Interface Emulator, starts the local AWS
// emulator with the sandbox account in the named state, invokes the function
// under RIE with the event, and prints the result, the alert as on-call reads
// it, and the AWS calls the function made.
//
// It exits 1 when the invocation could not run or the function returned an
// error (after printing what it did), 2 on bad arguments.
package main

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/dhmc-guard/dhmc-guard/internal/rie"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// config is what one replay needs. RIE and Bootstrap, when set, are used as
// they are instead of being built.
type config struct {
	Event, State, BuildDir string
	RIE, Bootstrap         string
	Env                    []string
	Verbose                bool
}

// envFlags collects repeated -env KEY=VALUE flags.
type envFlags []string

func (e *envFlags) String() string { return strings.Join(*e, ",") }
func (e *envFlags) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

func main() {
	var c config
	var env envFlags
	flag.StringVar(&c.Event, "event", "", "the event file to replay, e.g. events/schedule.json (required)")
	flag.StringVar(&c.State, "state", sandbox.StateDrifted, "the account's state before the invocation: "+stateNames())
	flag.StringVar(&c.BuildDir, "build-dir", "build/demo", "where the bootstrap and aws-lambda-rie are built")
	flag.Var(&env, "env", "KEY=VALUE added to the function's environment (repeatable), e.g. -env DHMC_MODE=detect")
	flag.BoolVar(&c.Verbose, "v", false, "show the function's and RIE's own log lines")
	flag.Parse()
	c.Env = env
	if c.Event == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: invoke -event events/<file>.json [-state "+stateNames()+"] [-env KEY=VALUE]…")
		os.Exit(2)
	}
	if _, err := sandbox.LookupState(c.State); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if _, err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "\nINVOKE FAILED: %v\n", err)
		os.Exit(1)
	}
}

func stateNames() string {
	var names []string
	for _, s := range sandbox.States() {
		names = append(names, s.Name)
	}
	return strings.Join(names, "|")
}

// outcome is what a replay saw, for the tests.
type outcome struct {
	// Status is the event invocation's status, "report" for a manual
	// invocation's bare report, or "" when the function returned an error.
	Status   string
	Err      error // the function's error
	Messages []awsemu.Message
	Calls    []awsemu.Call
}

// run replays c.Event and writes what happened to w. A function error is
// printed and returned; the outcome is filled in either way.
func run(ctx context.Context, c config, w io.Writer) (outcome, error) {
	start := time.Now()
	payload, err := os.ReadFile(c.Event)
	if err != nil {
		return outcome{}, err
	}
	if !json.Valid(payload) {
		fmt.Fprintf(w, "note: %s is not valid JSON; the function is expected to reject it\n", c.Event)
	}
	state, err := sandbox.LookupState(c.State)
	if err != nil {
		return outcome{}, err
	}

	if c.RIE == "" || c.Bootstrap == "" {
		fmt.Fprintln(w, "== Building the function (bootstrap) and the Lambda Runtime Interface Emulator")
		dir, err := filepath.Abs(c.BuildDir)
		if err != nil {
			return outcome{}, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return outcome{}, err
		}
		root, err := os.Getwd()
		if err != nil {
			return outcome{}, err
		}
		t := time.Now()
		if c.RIE, c.Bootstrap, err = rie.BuildWith(ctx, root, dir, "./functions/guard", rie.BuildOptions{Progress: w}); err != nil {
			return outcome{}, err
		}
		fmt.Fprintf(w, "   (built in %.1fs)\n", time.Since(t).Seconds())
	}

	emu := awsemu.New()
	if err := emu.Start("127.0.0.1:0"); err != nil {
		return outcome{}, fmt.Errorf("starting the AWS emulator: %w", err)
	}
	defer emu.Close()
	var fnLog io.Writer = io.Discard
	if c.Verbose {
		fnLog = w
	}
	sb, err := sandbox.Start(ctx, emu, sandbox.Options{RIE: c.RIE, Bootstrap: c.Bootstrap, Env: c.Env, Log: fnLog, State: state.Name})
	if err != nil {
		return outcome{}, err
	}
	defer sb.Close()
	fmt.Fprintf(w, "\n== Local AWS on %s, account %s in state %q: %s\n", emu.URL(), sandbox.Account, state.Name, state.Description)
	drift, err := sandbox.Drift(emu)
	if err != nil {
		return outcome{}, err
	}
	for _, f := range drift {
		where := f.Region
		if where == "" {
			where = "role"
		}
		fmt.Fprintf(w, "   drifted: [%s] %s (%s)\n", where, f.Kind, f.Observed)
	}
	fmt.Fprintf(w, "   managed Regions %s, mode enforce unless -env DHMC_MODE=… says otherwise\n", strings.Join(sandbox.Regions, ", "))

	emu.ResetCalls()
	before := len(emu.Messages())
	fmt.Fprintf(w, "\n== Invoking the function with %s\n", c.Event)
	t := time.Now()
	res, err := sb.InvokeFile(ctx, c.Event)
	if err != nil {
		return outcome{}, err
	}
	out := outcome{Calls: emu.Calls(), Messages: emu.Messages()[before:]}
	fmt.Fprintf(w, "   answered in %.0f ms\n", float64(time.Since(t).Microseconds())/1000)

	if out.Err = res.Err(); out.Err != nil {
		fmt.Fprintf(w, "\n== Result: a function error (what Lambda reports as errorType and errorMessage)\n   errorType:    %s\n   errorMessage: %s\n", res.ErrorType, res.ErrorMessage)
	} else {
		status, rep, err := sandbox.ReportOf(res.Payload)
		if err != nil {
			return out, err
		}
		out.Status = status
		if status == "report" {
			fmt.Fprintln(w, "\n== Result: a manual invocation returns the bare report")
		} else {
			fmt.Fprintf(w, "\n== Result: an event invocation returns {\"status\":…,\"report\":…}; status %q\n", status)
			var r struct {
				Reason string `json:"reason"`
			}
			if json.Unmarshal(res.Payload, &r) == nil && r.Reason != "" {
				fmt.Fprintf(w, "   reason: %s\n", r.Reason)
			}
		}
		if rep != nil {
			sandbox.WriteReport(w, rep)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, res.Payload, "", "  "); err != nil {
			return out, fmt.Errorf("indenting the result: %w", err)
		}
		fmt.Fprintf(w, "\n%s\n", pretty.String())
	}

	fmt.Fprintf(w, "\n== Alerts published to %s: %d\n", sb.TopicARN, len(out.Messages))
	for i, m := range out.Messages {
		fmt.Fprintf(w, "\n--- message %d\n", i+1)
		sandbox.WriteAlert(w, m)
	}

	fmt.Fprintf(w, "\n== AWS calls the function made (the emulator's call log): %d, %d of them writes\n",
		len(out.Calls), countWrites(out.Calls))
	sandbox.WriteCalls(w, out.Calls)
	fmt.Fprintf(w, "\nDone in %.1fs.\n", time.Since(start).Seconds())
	if out.Err != nil {
		return out, errors.New("the function returned an error (shown above)")
	}
	return out, nil
}

func countWrites(calls []awsemu.Call) int {
	n := 0
	for _, c := range calls {
		if c.Write {
			n++
		}
	}
	return n
}
