package dhmc

import (
	"strings"
	"testing"
)

func TestAWSEnforcerIsNamedBeforeQuickSetup(t *testing.T) {
	role := RoleState{Name: "AWS-QuickSetup-SSM-DefaultEC2MgmtRole-eu-west-1", Path: "/", Exists: true}
	if m, ok := RecogniseManager(role, "eu-west-1"); !ok || m != "Quick Setup" {
		t.Errorf("without the association: %q %v, want Quick Setup", m, ok)
	}
	role.EnforcedBy = EnableDHMCAssociation
	m, ok := RecogniseManager(role, "eu-west-1")
	if !ok || !strings.HasPrefix(m, "AWS EnableDHMCAssociation (") || !strings.Contains(m, EnableDHMCRunbook) {
		t.Errorf("with the association: %q %v", m, ok)
	}
	if !IsQuickSetupRoleName("aws-quicksetup-ssm-DefaultEC2MgmtRole-x") || IsQuickSetupRoleName("AWSSystemsManagerDefaultEC2InstanceManagementRole") {
		t.Error("IsQuickSetupRoleName")
	}
}
