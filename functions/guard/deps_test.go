package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTheBinaryLinksNoHarness holds the architecture's rule that the
// emulator, the test harnesses and the template renderer never reach a
// Lambda binary: each costs the release binary size and cold start (a YAML
// parser once slipped in through a log-level test helper).
func TestTheBinaryLinksNoHarness(t *testing.T) {
	for _, fn := range []string{".", "../fleet"} {
		out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", fn).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", fn, err, out)
		}
		for _, p := range strings.Fields(string(out)) {
			forbidden := strings.HasSuffix(p, "test") && strings.Contains(p, "dhmc-guard/") ||
				strings.HasSuffix(p, "/internal/awsemu") || strings.Contains(p, "/internal/awsemu/") ||
				strings.HasSuffix(p, "dhmc-guard/infra") || strings.HasSuffix(p, "/internal/rie") ||
				strings.HasSuffix(p, "/internal/sandbox") || strings.HasSuffix(p, "/internal/fleetseed") ||
				p == "gopkg.in/yaml.v3" || p == "testing"
			if forbidden {
				t.Errorf("%s links %s", fn, p)
			}
		}
	}
}
