package infra_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/config"
	"github.com/dhmc-guard/dhmc-guard/internal/securityhub"
)

// The function may call exactly the Security Hub actions the code calls,
// and only when SecurityHubFindings is true; the environment follows.
func TestSecurityHubFindingsGrantExactlyWhatIsCalled(t *testing.T) {
	for _, on := range []string{"false", "true"} {
		t.Run("SecurityHubFindings="+on, func(t *testing.T) {
			params := map[string]string{"SecurityHubFindings": on}
			var actions []string
			for _, st := range functionStatements(t, params) {
				for _, a := range strs(st["Action"]) {
					if strings.HasPrefix(a, "securityhub:") {
						actions = append(actions, a)
					}
				}
			}
			slices.Sort(actions)
			want := []string{}
			if on == "true" {
				want = slices.Sorted(slices.Values(securityhub.Actions))
			}
			if !slices.Equal(actions, want) && !(len(actions) == 0 && len(want) == 0) {
				t.Errorf("securityhub actions %v, want %v", actions, want)
			}
			fn := resource(t, render(t, mainTemplate, envWith("", params)), "GuardFunction", "AWS::Serverless::Function")
			vars := get(t, fn.Properties, "Environment", "Variables").(map[string]any)
			if got := str(vars[config.EnvSecurityHubFindings]); got != on {
				t.Errorf("%s = %s, want %s", config.EnvSecurityHubFindings, got, on)
			}
		})
	}
}
