package ledger

import "strings"

// What usually makes an item flap: another tool that manages the same
// setting or role (dhmc-facts.md section 8). The phrases go into the
// escalation as they are.
const (
	CauseQuickSetup = "Quick Setup: its State Manager association re-applies the Quick Setup DHMC configuration " +
		"(remove that configuration, or make it use the same role)"
	CauseCloudFormation = "a CloudFormation stack manages the same setting or role " +
		"(change the stack to the desired value, or remove the resource from it)"
	CauseTerraform = "Terraform: an aws_ssm_service_setting or aws_iam_role re-applies its own value on every apply " +
		"(align the Terraform code with this guard, or remove the resource)"
)

// LikelyCause recognises the tool behind a change from the actor (readable
// or ARN), the user agent and the service that invoked the call on the
// actor's behalf; "" when it recognises none.
//
//   - Quick Setup: a session of a role named AWS-QuickSetup-…, or Systems
//     Manager (Automation, State Manager) as the invoker. Quick Setup
//     deploys through CloudFormation, so it is checked first.
//   - CloudFormation: cloudformation.amazonaws.com as invoker, source or
//     user agent.
//   - Terraform: a user agent naming Terraform, terraform-provider-aws or
//     HashiCorp.
func LikelyCause(actor, userAgent, invokedBy string) string {
	a, ua, inv := strings.ToLower(actor), strings.ToLower(userAgent), strings.ToLower(invokedBy)
	switch {
	case strings.Contains(a, "aws-quicksetup-"),
		strings.Contains(ua, "aws-quicksetup"),
		inv == "ssm.amazonaws.com",
		strings.Contains(ua, "ssm.amazonaws.com"),
		strings.Contains(ua, "aws-automation"):
		return CauseQuickSetup
	case inv == "cloudformation.amazonaws.com",
		strings.Contains(ua, "cloudformation.amazonaws.com"),
		strings.Contains(a, "cloudformation.amazonaws.com"):
		return CauseCloudFormation
	case strings.Contains(ua, "terraform"), strings.Contains(ua, "hashicorp"):
		return CauseTerraform
	}
	return ""
}

// commonCause is the likely cause seen most often among repairs (the first
// on a tie), "" when none is recognised.
func commonCause(repairs []Sighting) string {
	counts := map[string]int{}
	best := ""
	for _, r := range repairs {
		c := LikelyCause(r.Actor, r.UserAgent, r.InvokedBy)
		if c == "" {
			continue
		}
		counts[c]++
		if best == "" || counts[c] > counts[best] {
			best = c
		}
	}
	return best
}
