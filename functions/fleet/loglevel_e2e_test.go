package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/fleetseed"
	"github.com/dhmc-guard/dhmc-guard/internal/loglevel"
	"github.com/dhmc-guard/dhmc-guard/internal/loglevel/logleveltest"
	"github.com/dhmc-guard/dhmc-guard/internal/metrics"
)

// TestMetricsSurviveEveryAllowedLogLevel runs the weekly report as each
// allowed LogLevel deploys the function (the template rendered) and applies
// Lambda's documented filter to what the bootstrap printed: every metric
// record reaches CloudWatch Logs at every level.
func TestMetricsSurviveEveryAllowedLogLevel(t *testing.T) {
	cases, err := logleveltest.Cases("../../infra/template.yaml", "FleetFunction")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Param, func(t *testing.T) {
			f := start(t, fleetseed.Mixed(5, 120, e2eRegions), c.Env()...)
			if _, res, err := f.Report(t.Context(), `{"trigger":"schedule"}`); err != nil || res.Err() != nil {
				t.Fatalf("report: %v %v", err, res.Err())
			}
			if !f.Fn.WaitForLog(`"`+metrics.FleetReportCompleted+`"`, 2*time.Second) {
				t.Fatalf("no %s record printed at all", metrics.FleetReportCompleted)
			}
			kept, others, dropped := c.Filtered(f.Fn.Logs())
			if len(dropped) > 0 {
				t.Errorf("Lambda's filter at %s drops %d metric records, e.g. %s", c.Filter, len(dropped), dropped[0])
			}
			all := strings.Join(kept, "\n")
			for _, m := range []string{metrics.FleetReportCompleted, metrics.FleetRunning, metrics.FleetNotReadyReason, metrics.FleetHygiene} {
				if !strings.Contains(all, `"`+m+`"`) {
					t.Errorf("LogLevel %s: no %s record reaches CloudWatch", c.Param, m)
				}
			}
			for _, line := range others {
				if lvl := loglevel.LambdaLevel(line); (c.Param == "WARN" || c.Param == "ERROR") && lvl == "INFO" {
					t.Errorf("LogLevel %s lets an INFO line through: %s", c.Param, line)
				}
			}
		})
	}
}
