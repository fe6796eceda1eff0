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
