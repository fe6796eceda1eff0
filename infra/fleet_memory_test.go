package infra_test

import (
	"strconv"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/infra"
	"github.com/dhmc-guard/dhmc-guard/internal/benchcheck"
)

// The fleet function's memory size is chosen from bench-check's CPU
// arithmetic (internal/benchcheck/fleet.go): the two must not drift apart.
func TestFleetMemorySizeIsTheOneBenchCheckAssumes(t *testing.T) {
	r := render(t, mainTemplate, infra.DefaultEnv())
	fn := resource(t, r, "FleetFunction", "AWS::Serverless::Function")
	got, err := strconv.Atoi(str(fn.Properties["MemorySize"]))
	if err != nil || got != benchcheck.FleetMemoryMB {
		t.Errorf("FleetFunction MemorySize = %v, bench-check assumes %d MB", fn.Properties["MemorySize"], benchcheck.FleetMemoryMB)
	}
}

// Lambda's filter counts a line without a level (every EMF metric record) as
// INFO: whatever LogLevel says, the filter stays at INFO or below, and the
// functions get the level for their own lines (internal/loglevel).
func TestLambdaLogFilterNeverDropsMetrics(t *testing.T) {
	for _, level := range []string{"DEBUG", "INFO", "WARN", "ERROR"} {
		r := render(t, mainTemplate, envWith("", map[string]string{"LogLevel": level}))
		want := "INFO"
		if level == "DEBUG" {
			want = "DEBUG"
		}
		for _, name := range []string{"GuardFunction", "FleetFunction"} {
			p := resource(t, r, name, "AWS::Serverless::Function").Properties
			if got := str(get(t, p, "LoggingConfig", "ApplicationLogLevel")); got != want {
				t.Errorf("LogLevel %s: %s ApplicationLogLevel %s, want %s", level, name, got, want)
			}
			if got := str(get(t, p, "Environment", "Variables", "DHMC_LOG_LEVEL")); got != level {
				t.Errorf("LogLevel %s: %s DHMC_LOG_LEVEL %s", level, name, got)
			}
		}
	}
}
