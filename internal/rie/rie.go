// Package rie runs a built Lambda bootstrap under the AWS Lambda Runtime
// Interface Emulator, the way Lambda runs it, for the end-to-end tests and
// `make demo`. It is never part of the function itself.
package rie

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options say what to run.
type Options struct {
	RIE       string   // path to aws-lambda-rie
	Bootstrap string   // path to the function's bootstrap
	Env       []string // the function's environment (KEY=VALUE)
	// Log, if set, also receives everything RIE and the function print.
	Log io.Writer
}

// Instance is one running emulator with its function.
type Instance struct {
	cmd       *exec.Cmd
	invokeURL string
	logs      *syncBuffer
	done      chan struct{}
	client    *http.Client
}

// errPortTaken is a start that lost the race for a port it was handed.
var errPortTaken = errors.New("a port was taken before aws-lambda-rie could bind it")

// Start launches RIE on two free loopback ports (its invoke endpoint and the
// runtime API the bootstrap polls, so several instances can run at once) and
// waits until it accepts invocations. A free port can be taken by another
// process between being found and being bound (tests run in parallel), so a
// start that fails that way is tried again on new ports, a few times.
func Start(ctx context.Context, o Options) (*Instance, error) {
	for attempt := 1; ; attempt++ {
		in, err := start(ctx, o)
		if !errors.Is(err, errPortTaken) || attempt == 5 {
			return in, err
		}
	}
}

func start(ctx context.Context, o Options) (*Instance, error) {
	invokeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logs := &syncBuffer{}
	var out io.Writer = logs
	if o.Log != nil {
		out = io.MultiWriter(logs, o.Log)
	}
	cmd := exec.Command(o.RIE,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", apiAddr,
		o.Bootstrap)
	cmd.Env = o.Env
	if !slices.ContainsFunc(o.Env, func(kv string) bool { return strings.HasPrefix(kv, "GORACE=") }) {
		// A race-enabled binary (see BuildOptions) sleeps a second at exit
		// by default, which every Close would wait for.
		cmd.Env = append(slices.Clone(o.Env), "GORACE=atexit_sleep_ms=0")
	}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so Close also ends the bootstrap it spawned.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", o.RIE, err)
	}
	in := &Instance{
		cmd:       cmd,
		invokeURL: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations",
		logs:      logs,
		done:      make(chan struct{}),
		client:    &http.Client{Timeout: 5 * time.Minute},
	}
	go func() { _ = cmd.Wait(); close(in.done) }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", invokeAddr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return in, nil
		}
		select {
		case <-in.done:
			if strings.Contains(logs.String(), "address already in use") {
				return nil, fmt.Errorf("%w: %s", errPortTaken, logs.String())
			}
			return nil, fmt.Errorf("aws-lambda-rie exited at start: %s", logs.String())
		case <-ctx.Done():
			in.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			in.Close()
			return nil, fmt.Errorf("aws-lambda-rie did not listen on %s within 10s", invokeAddr)
		}
	}
}

// Result is one invocation's outcome as Lambda reports it: a payload, or a
// function error with its type and message.
type Result struct {
	Payload      json.RawMessage
	ErrorType    string
	ErrorMessage string
}

// Err returns the function error, if there was one.
func (r Result) Err() error {
	if r.ErrorType == "" && r.ErrorMessage == "" {
		return nil
	}
	return fmt.Errorf("function error %s: %s", r.ErrorType, r.ErrorMessage)
}

// Invoke sends payload as a RequestResponse invocation.
func (in *Instance) Invoke(ctx context.Context, payload []byte) (Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.invokeURL, bytes.NewReader(payload))
	if err != nil {
		return Result{}, err
	}
	resp, err := in.client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("invoking: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Result{}, fmt.Errorf("reading invocation result: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Result{}, fmt.Errorf("invocation answered %s: %s", resp.Status, body)
	}
	var fnErr struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &fnErr) == nil && fnErr.ErrorMessage != "" {
		return Result{ErrorType: fnErr.ErrorType, ErrorMessage: fnErr.ErrorMessage}, nil
	}
	return Result{Payload: body}, nil
}

// Logs is everything RIE and the function printed so far.
func (in *Instance) Logs() string { return in.logs.String() }

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// WaitForLog waits, up to timeout, until the logs contain substr. Output
// reaches the logs through a pipe, so a line printed just before an
// invocation returned may arrive just after it.
func (in *Instance) WaitForLog(substr string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !strings.Contains(in.Logs(), substr) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// InitDuration is the function's init time as RIE measured it. RIE's REPORT
// line's "Init Duration" is wrong; its INIT REPORT line is right.
func (in *Instance) InitDuration() (time.Duration, bool) {
	in.WaitForLog("INIT REPORT", 2*time.Second)
	m := initReport.FindStringSubmatch(in.Logs())
	if m == nil {
		return 0, false
	}
	ms, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}

// BootstrapPeakRSS is the bootstrap process's peak resident memory (VmHWM),
// in bytes. RIE's "Max Memory Used" only echoes the configured size, so the
// process is measured instead. It must be called while the process lives.
func (in *Instance) BootstrapPeakRSS() (int64, error) {
	pid, err := childPID(in.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parsing VmHWM %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// childPID finds the bootstrap: the one child of the RIE process.
func childPID(parent int) (int, error) {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", parent))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			return strconv.Atoi(f[0])
		}
	}
	return 0, fmt.Errorf("no child process of aws-lambda-rie (pid %d): has it been invoked?", parent)
}

// Close stops RIE and the function.
func (in *Instance) Close() {
	if in.cmd.Process != nil {
		_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGTERM)
	}
	select {
	case <-in.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL)
		<-in.done
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
