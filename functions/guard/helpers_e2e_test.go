package main_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// Helpers of the end-to-end tests of the DHMC setups (setups_e2e_test.go)
// and of the guard's safety rules (safety_e2e_test.go).

const acct = sandbox.Account

// startSetup starts the function with env, turns the compliant seed into
// setup s (when s.Apply is set) and clears the call log. When the test
// ends, it checks that no setting write named a role that did not exist at
// that moment: the one thing that breaks DHMC for every instance.
func startSetup(t *testing.T, s sandbox.Setup, env ...string) (*sandbox.Sandbox, *awsemu.Server) {
	t.Helper()
	sb, emu := start(t, env...)
	t.Cleanup(func() {
		if d := emu.DanglingSettingWrites(); len(d) != 0 {
			t.Errorf("setting writes named a role that did not exist: %v", d)
		}
	})
	if s.Apply != nil {
		if err := s.Apply(t.Context(), sb); err != nil {
			t.Fatal(err)
		}
	}
	emu.ResetCalls()
	return sb, emu
}

// compliant is the seed as it is: the default configuration's own setup.
var compliant = sandbox.Setup{Name: "compliant"}

// run invokes the function with payload and wants a report, no function error.
func run(t *testing.T, sb *sandbox.Sandbox, payload []byte) (string, *dhmc.Report) {
	t.Helper()
	res, status, rep := invoke(t, sb, payload)
	if err := res.Err(); err != nil {
		t.Fatalf("invocation failed: %v", err)
	}
	if rep == nil {
		t.Fatalf("status %q without a report: %s", status, res.Payload)
	}
	return status, rep
}

func sweep(t *testing.T, sb *sandbox.Sandbox) *dhmc.Report {
	t.Helper()
	status, rep := run(t, sb, readEvent(t, "schedule.json"))
	if status != "reconciled" {
		t.Fatalf("sweep status %q, want reconciled", status)
	}
	return rep
}

// findings are a report's results as "place kind outcome", sorted; place
// is the Region, "role NAME", or for a watched policy its ARN.
func findings(rep *dhmc.Report) []string {
	out := []string{}
	for _, x := range rep.Results {
		place := x.Region
		switch {
		case place == "" && x.Role != "":
			place = "role " + x.Role
		case place == "":
			place = x.Target
		}
		out = append(out, fmt.Sprintf("%s %s %s", place, x.Kind, x.Outcome))
	}
	slices.Sort(out)
	return out
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

// oneMessage is the only alert published so far.
func oneMessage(t *testing.T, emu *awsemu.Server) awsemu.Message {
	t.Helper()
	msgs := emu.Messages()
	if len(msgs) != 1 {
		subjects := make([]string, len(msgs))
		for i, m := range msgs {
			subjects[i] = m.Subject
		}
		t.Fatalf("%d messages %q, want exactly 1", len(msgs), subjects)
	}
	return msgs[0]
}

func functionWrites(emu *awsemu.Server) int { return sandbox.Writes(emu, sandbox.FunctionCaller) }

// functionOps are the function's accepted calls, "service:Operation", in order.
func functionOps(emu *awsemu.Server) []string {
	var out []string
	for _, c := range emu.Calls() {
		if c.Caller == sandbox.FunctionCaller && c.ErrorCode == "" {
			out = append(out, c.Service+":"+c.Operation)
		}
	}
	return out
}

// samePolicy compares policy documents by meaning, as IAM does.
func samePolicy(t *testing.T, a, b string) bool {
	t.Helper()
	same, err := dhmc.SamePolicy(a, b)
	if err != nil {
		t.Fatalf("comparing %s with %s: %v", a, b, err)
	}
	return same
}
