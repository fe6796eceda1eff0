package dhmc

import (
	"cmp"
	"fmt"
	"strings"
)

// Names by which AWS's own DHMC setups can be told apart.
const (
	// quickSetupRolePrefix starts every role Quick Setup creates; its DHMC
	// configuration type creates AWS-QuickSetup-SSM-DefaultEC2MgmtRole-<region>.
	quickSetupRolePrefix = "AWS-QuickSetup-"
	// reservedPathPrefix is IAM's reserved path, where SSM puts the role of a
	// SERVICE_MANAGED RegisterDefaultHostManagementConfiguration (the SDK's
	// RoleArn documentation). The exact path below it is not documented.
	reservedPathPrefix = "/aws-reserved/"
	// cfnStackNameTag is the tag CloudFormation adds to what a stack creates,
	// where the resource type propagates it (not guaranteed for IAM roles).
	cfnStackNameTag = "aws:cloudformation:stack-name"
	// EnableDHMCAssociation is the daily State Manager association the
	// Systems Manager console's "Enable Systems Manager" for an organisation
	// creates; it runs AWSQuickSetupType-EnableDHMC and uses Quick Setup's
	// role names (dhmc-facts §10).
	EnableDHMCAssociation = "EnableDHMCAssociation"
	EnableDHMCRunbook     = "AWSQuickSetupType-EnableDHMC"
	// sampleTemplate is AWS's sample template that turns DHMC on through a
	// State Manager association, with one role per Region at path "/".
	sampleTemplate = "aws-samples/aws-systems-manager-default-host-management-configuration"
)

// RecogniseManager says who else manages the DHMC setup whose setting in
// region names role, in words on-call knows, or false when nothing shows.
// A name alone proves nothing about privileges (anyone can create a role
// called like Quick Setup's): the caller still checks the role itself.
func RecogniseManager(role RoleState, region string) (string, bool) {
	stack := cmp.Or(role.Stack, role.Tags[cfnStackNameTag])
	switch {
	case role.EnforcedBy != "":
		return AWSEnforcerName(role.EnforcedBy), true
	case hasPrefixFold(role.Name, quickSetupRolePrefix), hasPrefixFold(stack, "StackSet-AWS-QuickSetup"):
		return "Quick Setup", true
	case strings.HasPrefix(role.Path, reservedPathPrefix):
		return "SSM service-managed registration (RegisterDefaultHostManagementConfiguration, SERVICE_MANAGED)", true
	case stack != "":
		return "CloudFormation stack " + stack, true
	case strings.EqualFold(role.Name, DefaultRoleName+"-"+region) && role.Path == "/":
		return "CloudFormation (AWS's sample template " + sampleTemplate + ")", true
	}
	return "", false
}

// IsQuickSetupRoleName reports whether name is one Quick Setup gives its
// roles, as AWS's organisation setup (EnableDHMCAssociation) does too.
func IsQuickSetupRoleName(name string) bool { return hasPrefixFold(name, quickSetupRolePrefix) }

// AWSEnforcerName is how alerts name AWS's own DHMC enforcer, found as the
// State Manager association called association.
func AWSEnforcerName(association string) string {
	return "AWS " + association + " (the daily State Manager association that Enable Systems Manager for the organisation " +
		"creates in the Systems Manager console, runbook " + EnableDHMCRunbook + ")"
}

// AdoptParameters are the template parameters under which the guard would
// keep role, named by the setting in region, instead of fighting it: a name
// ending in the Region becomes a per-Region name.
func AdoptParameters(role RoleState, region string) map[string]string {
	name := role.Name
	if region != "" && strings.HasSuffix(name, region) && len(name) > len(region) {
		name = strings.TrimSuffix(name, region) + RegionPlaceholder
	}
	params := map[string]string{"RoleName": name, "RolePath": orRoot(role.Path)}
	if strings.HasPrefix(role.Path, reservedPathPrefix) {
		// IAM lets nobody change a role in the reserved path: adopted, the
		// guard can only watch it.
		params["Mode"] = string(ModeDetect)
	}
	return params
}

// FormatParameters renders parameters as "K=V K=V" in a stable order.
func FormatParameters(params map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(params) {
		parts = append(parts, fmt.Sprintf("%s=%s", k, params[k]))
	}
	return strings.Join(parts, " ")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func orRoot(path string) string {
	if path == "" {
		return "/"
	}
	return path
}
