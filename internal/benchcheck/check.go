// Package benchcheck holds dhmc-guard's performance goals as checks that
// fail (`make bench-check`, run in CI): ratios of sweep times measured in one
// run, and sizes, never absolute times, because the 2-core machines the
// project runs on are too noisy for those. Each check measures up to
// Attempts times and passes on the first attempt within its limit, so a
// noisy machine cannot fail it by chance, while a real regression fails
// every attempt.
package benchcheck

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Figure is one number an attempt measured, printed as it is.
type Figure struct {
	Name  string
	Value float64
	Unit  string
}

func (f Figure) String() string {
	return fmt.Sprintf("%s %s", f.Name, formatValue(f.Value, f.Unit))
}

// Attempt is one measurement: the value compared with the limit, and every
// figure it was computed from.
type Attempt struct {
	Value   float64
	Figures []Figure
}

// Check is one goal: the measured value must not exceed Max.
type Check struct {
	Name string // short, stable: what CI logs and tests name
	What string // one line: what is measured against what
	Max  float64
	Unit string // of Value and Max: "ratio", "MiB" (bytes shown as MiB)
	// Attempts is how many measurements may be taken before the check
	// fails (best of Attempts); 1 for deterministic figures such as sizes.
	Attempts int
	// Hint is printed when the check fails: what usually causes it.
	Hint    string
	Measure func(ctx context.Context) (Attempt, error)
}

// Result is a check's outcome and every attempt it took.
type Result struct {
	Check    Check
	Attempts []Attempt
	Best     float64 // the lowest value measured
	Passed   bool
	Err      error // a measurement that could not be taken
}

// Run runs c, writing each attempt's figures and the verdict to w.
func (c Check) Run(ctx context.Context, w io.Writer) Result {
	fmt.Fprintf(w, "\n== %s: %s (goal ≤ %s, best of %d)\n", c.Name, c.What, formatValue(c.Max, c.Unit), max(c.Attempts, 1))
	res := Result{Check: c}
	for i := range max(c.Attempts, 1) {
		a, err := c.Measure(ctx)
		if err != nil {
			res.Err = fmt.Errorf("%s: attempt %d: %w", c.Name, i+1, err)
			fmt.Fprintf(w, "   attempt %d: could not measure: %v\n   FAILED\n", i+1, err)
			return res
		}
		res.Attempts = append(res.Attempts, a)
		if i == 0 || a.Value < res.Best {
			res.Best = a.Value
		}
		verdict := "within the goal"
		if a.Value > c.Max {
			verdict = "over the goal"
		}
		figs := make([]string, len(a.Figures))
		for j, f := range a.Figures {
			figs[j] = f.String()
		}
		fmt.Fprintf(w, "   attempt %d: %s → %s: %s\n", i+1, strings.Join(figs, ", "), formatValue(a.Value, c.Unit), verdict)
		if a.Value <= c.Max {
			res.Passed = true
			break
		}
	}
	fmt.Fprintln(w, "   "+res.Verdict())
	if !res.Passed && c.Hint != "" {
		fmt.Fprintf(w, "   %s\n", c.Hint)
	}
	return res
}

// Verdict is one line: PASSED or FAILED with the best value and the goal.
func (r Result) Verdict() string {
	switch {
	case r.Err != nil:
		return fmt.Sprintf("FAILED %s: %v", r.Check.Name, r.Err)
	case r.Passed:
		return fmt.Sprintf("PASSED %s: %s ≤ %s", r.Check.Name, formatValue(r.Best, r.Check.Unit), formatValue(r.Check.Max, r.Check.Unit))
	default:
		return fmt.Sprintf("FAILED %s: best %s > %s in %d attempt(s)", r.Check.Name, formatValue(r.Best, r.Check.Unit),
			formatValue(r.Check.Max, r.Check.Unit), len(r.Attempts))
	}
}

// RunAll runs every check, whatever the earlier ones gave, writes a summary,
// and reports whether all passed.
func RunAll(ctx context.Context, checks []Check, w io.Writer) ([]Result, bool) {
	var results []Result
	ok := true
	for _, c := range checks {
		r := c.Run(ctx, w)
		results = append(results, r)
		ok = ok && r.Passed
	}
	fmt.Fprintln(w, "\n== bench-check summary")
	for _, r := range results {
		fmt.Fprintln(w, "   "+r.Verdict())
	}
	return results, ok
}

func formatValue(v float64, unit string) string {
	switch unit {
	case "ratio":
		return fmt.Sprintf("%.3f", v)
	case "ms":
		return fmt.Sprintf("%.1f ms", v)
	case "MiB":
		return fmt.Sprintf("%.2f MiB", v)
	case "bytes":
		return fmt.Sprintf("%d bytes (%.2f MiB)", int64(v), v/(1<<20))
	case "":
		return fmt.Sprintf("%g", v)
	default:
		return fmt.Sprintf("%g %s", v, unit)
	}
}
