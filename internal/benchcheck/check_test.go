package benchcheck

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func checkNamed(t *testing.T, env Env, name string) Check {
	t.Helper()
	for _, c := range Checks(env) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check named %s", name)
	return Check{}
}

// doctored returns a Measure that answers values in turn (the last one
// again when they run out) and counts its calls.
func doctored(calls *int, values ...float64) func(context.Context) (Attempt, error) {
	return func(context.Context) (Attempt, error) {
		v := values[min(*calls, len(values)-1)]
		*calls++
		return Attempt{Value: v, Figures: []Figure{{Name: "doctored", Value: v}}}, nil
	}
}

func TestEveryCheckFailsOverItsLimitAfterEveryAttempt(t *testing.T) {
	for _, c := range Checks(Env{}) {
		t.Run(c.Name, func(t *testing.T) {
			calls := 0
			c.Measure = doctored(&calls, c.Max*1.01)
			var out bytes.Buffer
			res := c.Run(t.Context(), &out)
			if res.Passed {
				t.Fatalf("passed at 1%% over its limit:\n%s", out.String())
			}
			if !strings.Contains(out.String(), "FAILED "+c.Name) || !strings.Contains(res.Verdict(), "FAILED") {
				t.Errorf("output does not say FAILED:\n%s", out.String())
			}
			if calls != c.Attempts || len(res.Attempts) != c.Attempts {
				t.Errorf("measured %d times, want all %d attempts before failing", calls, c.Attempts)
			}
			if c.Hint != "" && !strings.Contains(out.String(), c.Hint) {
				t.Errorf("failure does not print the hint")
			}
			if !strings.Contains(out.String(), "doctored") {
				t.Errorf("the attempt's figures are not printed:\n%s", out.String())
			}
		})
	}
}

func TestEveryCheckPassesAtItsLimit(t *testing.T) {
	for _, c := range Checks(Env{}) {
		calls := 0
		c.Measure = doctored(&calls, c.Max)
		if res := c.Run(t.Context(), &bytes.Buffer{}); !res.Passed || calls != 1 {
			t.Errorf("%s: at exactly its limit passed=%v after %d attempts, want a pass at the first", c.Name, res.Passed, calls)
		}
	}
}

func TestANoisyMeasurementPassesOnALaterAttempt(t *testing.T) {
	calls := 0
	c := Check{Name: "noisy", Max: 1.5, Unit: "ratio", Attempts: 3, Measure: doctored(&calls, 2.9, 1.7, 1.2)}
	res := c.Run(t.Context(), &bytes.Buffer{})
	if !res.Passed || calls != 3 || res.Best != 1.2 {
		t.Errorf("passed=%v after %d attempts, best %v; want a pass on the third with 1.2", res.Passed, calls, res.Best)
	}
	calls = 0
	c.Measure = doctored(&calls, 2.9, 1.7, 1.9)
	if res := c.Run(t.Context(), &bytes.Buffer{}); res.Passed || res.Best != 1.7 {
		t.Errorf("passed=%v best %v; want a failure reporting the best attempt, 1.7", res.Passed, res.Best)
	}
}

func TestAMeasurementErrorFails(t *testing.T) {
	c := Check{Name: "broken", Max: 1, Attempts: 3, Measure: func(context.Context) (Attempt, error) {
		return Attempt{}, errors.New("emulator did not start")
	}}
	var out bytes.Buffer
	if res := c.Run(t.Context(), &out); res.Passed || res.Err == nil || !strings.Contains(out.String(), "FAILED") {
		t.Errorf("a check that could not measure: passed=%v err=%v\n%s", res.Passed, res.Err, out.String())
	}
}

func TestRunAllRunsEveryCheckAndFailsIfOneFails(t *testing.T) {
	var a, b int
	checks := []Check{
		{Name: "bad", Max: 1, Attempts: 2, Measure: doctored(&a, 5)},
		{Name: "good", Max: 1, Attempts: 2, Measure: doctored(&b, 0.5)},
	}
	var out bytes.Buffer
	results, ok := RunAll(t.Context(), checks, &out)
	if ok || len(results) != 2 || b != 1 {
		t.Fatalf("ok=%v, %d results, good measured %d times; want a failure that still ran the good check", ok, len(results), b)
	}
	summary := out.String()[strings.Index(out.String(), "summary"):]
	if !strings.Contains(summary, "FAILED bad") || !strings.Contains(summary, "PASSED good") {
		t.Errorf("summary:\n%s", summary)
	}
}

func TestRatioOfDoctoredSweepTimes(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name     string
		num, den []time.Duration
		want     float64
	}{
		{"one round trip", ms(22, 23, 90, 22, 24), ms(20, 21, 20, 21, 60), 23.0 / 21.0}, // medians ignore the outliers
		{"two round trips", ms(44, 45, 46), ms(22, 22, 23), 45.0 / 22.0},
		{"even count", ms(10, 30), ms(10, 10), 2},
	}
	for _, tt := range tests {
		a, err := ratioAttempt(&sweeper{name: "num", times: tt.num}, &sweeper{name: "den", times: tt.den})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := a.Value - tt.want; diff > 1e-9 || diff < -1e-9 {
			t.Errorf("%s: ratio %v, want %v", tt.name, a.Value, tt.want)
		}
	}
	// Two round trips against the deployed default's goal: FAILED.
	a, _ := ratioAttempt(&sweeper{name: "discovered", times: ms(44, 45, 46)}, &sweeper{name: "one", times: ms(22, 22, 23)})
	calls := 0
	c := checkNamed(t, Env{}, "deployed-default-vs-1")
	c.Measure = doctored(&calls, a.Value)
	if res := c.Run(t.Context(), &bytes.Buffer{}); res.Passed {
		t.Errorf("%s passed a ratio of %.2f", c.Name, a.Value)
	}
	if _, err := ratioAttempt(&sweeper{}, &sweeper{}); err == nil {
		t.Error("a ratio of no sweeps was computed")
	}
}

// fakeELF writes an ELF64 header for machine, padded to size bytes.
func fakeELF(t *testing.T, machine uint16, size int64) string {
	t.Helper()
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6] = 2, 1, 1 // 64-bit, little-endian, version 1
	binary.LittleEndian.PutUint16(h[16:], 2)
	binary.LittleEndian.PutUint16(h[18:], machine)
	binary.LittleEndian.PutUint32(h[20:], 1)
	binary.LittleEndian.PutUint16(h[52:], 64) // header size
	path := filepath.Join(t.TempDir(), "bootstrap")
	if err := os.WriteFile(path, h, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBinarySizeCheckMeasuresTheFileAndItsArchitecture(t *testing.T) {
	const aarch64, x8664 = 183, 62
	tests := []struct {
		name string
		path string
		pass bool
	}{
		{"arm64 under the limit", fakeELF(t, aarch64, 11<<20), true},
		{"arm64 over the limit", fakeELF(t, aarch64, 12<<20+1), false},
		{"a host (amd64) binary", fakeELF(t, x8664, 1<<20), false},
		{"no binary", filepath.Join(t.TempDir(), "missing"), false},
	}
	for _, tt := range tests {
		c := checkNamed(t, Env{Binary: tt.path}, "binary-size")
		var out bytes.Buffer
		if res := c.Run(t.Context(), &out); res.Passed != tt.pass {
			t.Errorf("%s: passed=%v, want %v\n%s", tt.name, res.Passed, tt.pass, out.String())
		}
	}
}

func TestARealSweepRatioSaysFailedAgainstADoctoredLimit(t *testing.T) {
	// A 17-Region sweep is never twice as fast as a one-Region sweep.
	c := checkNamed(t, Env{Latency: 2 * time.Millisecond, Sweeps: 3}, "regions-17-vs-1")
	c.Max = 0.5
	var out bytes.Buffer
	if res := c.Run(t.Context(), &out); res.Passed || res.Err != nil || len(res.Attempts) != c.Attempts {
		t.Errorf("passed=%v err=%v after %d attempts against a limit of 0.5:\n%s", res.Passed, res.Err, len(res.Attempts), out.String())
	}
	c.Max = 1000
	if res := c.Run(t.Context(), &out); !res.Passed {
		t.Errorf("failed against a limit of 1000:\n%s", out.String())
	}
}
