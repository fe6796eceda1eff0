package main_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/loglevel"
	"github.com/dhmc-guard/dhmc-guard/internal/loglevel/logleveltest"
	"github.com/dhmc-guard/dhmc-guard/internal/metrics"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// TestMetricsSurviveEveryAllowedLogLevel deploys the function as each
// allowed LogLevel does (the template rendered: Lambda's filter and the
// function's own level), runs a scheduled sweep that repairs drift, and
// applies Lambda's documented filter to what the bootstrap printed: every
// metric record reaches CloudWatch Logs at every level, and the function's
// own lines follow the level chosen.
func TestMetricsSurviveEveryAllowedLogLevel(t *testing.T) {
	cases, err := logleveltest.Cases("../../infra/template.yaml", "GuardFunction")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Param, func(t *testing.T) {
			emu := awsemu.StartTest(t)
			var log bytes.Buffer
			sb, err := sandbox.Start(t.Context(), emu, sandbox.Options{RIE: rieBin, Bootstrap: bootstrap, State: sandbox.StateDrifted, Env: c.Env(), Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sb.Close)
			if res, _, _ := invoke(t, sb, readEvent(t, "schedule.json")); res.Err() != nil {
				t.Fatalf("sweep: %v", res.Err())
			}
			if !sb.Fn.WaitForLog(`"`+metrics.SweepCompleted+`"`, 2*time.Second) {
				t.Fatalf("no %s record printed at all", metrics.SweepCompleted)
			}
			kept, others, dropped := c.Filtered(sb.Fn.Logs())
			if len(dropped) > 0 {
				t.Errorf("Lambda's filter at %s drops %d metric records, e.g. %s", c.Filter, len(dropped), dropped[0])
			}
			names := strings.Join(kept, "\n")
			for _, m := range []string{metrics.SweepCompleted, metrics.DriftFound} {
				if !strings.Contains(names, `"`+m+`"`) {
					t.Errorf("LogLevel %s: no %s record reaches CloudWatch", c.Param, m)
				}
			}
			for _, line := range others {
				if lvl := loglevel.LambdaLevel(line); c.Param != "DEBUG" && lvl == "DEBUG" ||
					(c.Param == "WARN" || c.Param == "ERROR") && lvl == "INFO" ||
					c.Param == "ERROR" && lvl == "WARN" {
					t.Errorf("LogLevel %s lets a %s line through: %s", c.Param, lvl, line)
				}
			}
		})
	}
}
