package sandbox

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// The DHMC setups real accounts have, as AWS itself creates them. Each turns
// the compliant seed into that setup and says what configuration adopts it.
// They are the fixtures of the end-to-end adoption tests, `make invoke
// STATE=...` and the demo.

// Setup is one real-world DHMC setup.
type Setup struct {
	Name        string
	Description string
	// Apply turns a seeded (compliant) emulator into the setup.
	Apply func(ctx context.Context, sb *Sandbox) error
	// Adopt is the function environment that adopts the setup as it is.
	Adopt []string
	// Manager is how the guard names whoever owns it ("" for none).
	Manager string
}

// QuickSetupRole is the role Quick Setup's DHMC configuration creates in region.
func QuickSetupRole(region string) string { return "AWS-QuickSetup-SSM-DefaultEC2MgmtRole-" + region }

// Setups are the setups the guard must recognise rather than fight.
var Setups = []Setup{
	{
		Name:        "path-root",
		Description: "the DHMC role at path / (the setting holds its bare name), as hand-made setups have it",
		// AWS's sample template and many hand-made setups put the role at "/":
		// the setting then holds the bare name.
		Apply: func(_ context.Context, sb *Sandbox) error {
			d := Desired()
			sb.Emu.DeleteRoleState(Account, d.RoleName)
			putDHMCRole(sb.Emu, d.RoleName, "/", nil)
			setAll(sb.Emu, d.RoleName)
			return nil
		},
		Adopt: []string{"DHMC_ROLE_PATH=/"},
	},
	{
		Name:        "quick-setup",
		Description: "Quick Setup's DHMC: a role AWS-QuickSetup-SSM-DefaultEC2MgmtRole-<region> per Region",
		// Quick Setup's DHMC type: one role per Region, re-applied by its
		// State Manager association.
		Apply: func(_ context.Context, sb *Sandbox) error {
			sb.Emu.DeleteRoleState(Account, Desired().RoleName)
			for _, r := range Regions {
				putDHMCRole(sb.Emu, QuickSetupRole(r), "/", nil)
				sb.Emu.SetSetting(Account, r, QuickSetupRole(r))
			}
			return nil
		},
		Adopt:   []string{"DHMC_ROLE_NAME=AWS-QuickSetup-SSM-DefaultEC2MgmtRole-{region}", "DHMC_ROLE_PATH=/"},
		Manager: "Quick Setup",
	},
	{
		Name:        "aws-org-setup",
		Description: "the Systems Manager console's \"Enable Systems Manager\" for an organisation: a daily EnableDHMCAssociation and Quick Setup-named roles",
		// Same role names as Quick Setup; the Region's State Manager
		// association EnableDHMCAssociation (runbook
		// AWSQuickSetupType-EnableDHMC) is what tells them apart.
		Apply: func(_ context.Context, sb *Sandbox) error {
			sb.Emu.DeleteRoleState(Account, Desired().RoleName)
			for _, r := range Regions {
				putDHMCRole(sb.Emu, QuickSetupRole(r), "/", nil)
				sb.Emu.SetSetting(Account, r, QuickSetupRole(r))
				sb.Emu.PutAssociation(Account, r, awsemu.Association{AssociationName: dhmc.EnableDHMCAssociation, Name: dhmc.EnableDHMCRunbook})
			}
			return nil
		},
		Adopt:   []string{"DHMC_ROLE_NAME=AWS-QuickSetup-SSM-DefaultEC2MgmtRole-{region}", "DHMC_ROLE_PATH=/"},
		Manager: dhmc.AWSEnforcerName(dhmc.EnableDHMCAssociation),
	},
	{
		Name:        "service-managed",
		Description: "RegisterDefaultHostManagementConfiguration SERVICE_MANAGED in every Region: the role in IAM's reserved path",
		// RegisterDefaultHostManagementConfiguration, SERVICE_MANAGED, in
		// every Region: SSM creates its role in IAM's reserved path.
		Apply: func(ctx context.Context, sb *Sandbox) error {
			sb.Emu.DeleteRoleState(Account, Desired().RoleName)
			for _, r := range Regions {
				sb.Emu.SetSetting(Account, r, dhmc.SettingDisabled)
				if _, err := sb.UserSSM(r).RegisterDefaultHostManagementConfiguration(ctx, &ssm.RegisterDefaultHostManagementConfigurationInput{
					PermissionModel: ssmtypes.DHMCPermissionModelServiceManaged, Overwrite: true,
				}); err != nil {
					return fmt.Errorf("registering DHMC (SERVICE_MANAGED) in %s: %w", r, err)
				}
			}
			return nil
		},
		Adopt:   []string{"DHMC_ROLE_PATH=" + awsemu.ServiceManagedRolePath, "DHMC_MODE=detect"},
		Manager: "SSM service-managed registration (RegisterDefaultHostManagementConfiguration, SERVICE_MANAGED)",
	},
	{
		Name:        "cloudformation",
		Description: "a CloudFormation stack dhmc-baseline created the role every Region names",
		// A stack (AWS::IAM::Role + AWS::SSM::DefaultHostManagementConfiguration)
		// in the home Region, whose role every Region's setting names.
		// CloudFormation does not tag IAM roles: only the stack knows its role.
		Apply: func(_ context.Context, sb *Sandbox) error {
			sb.Emu.DeleteRoleState(Account, Desired().RoleName)
			putDHMCRole(sb.Emu, "DhmcBaselineRole", "/", nil)
			sb.Emu.PutStackResource(Account, HomeRegion, awsemu.StackResource{
				StackName: "dhmc-baseline", LogicalID: "DhmcRole", Type: "AWS::IAM::Role", PhysicalID: "DhmcBaselineRole",
			})
			setAll(sb.Emu, "DhmcBaselineRole")
			return nil
		},
		Adopt:   []string{"DHMC_ROLE_NAME=DhmcBaselineRole", "DHMC_ROLE_PATH=/"},
		Manager: "CloudFormation stack dhmc-baseline",
	},
	{
		Name:        "aws-sample",
		Description: "AWS's sample template: a role AWSSystemsManagerDefaultEC2InstanceManagementRole-<region> per Region at /",
		// aws-samples/aws-systems-manager-default-host-management-configuration:
		// a role per Region at "/", set by a State Manager association.
		Apply: func(_ context.Context, sb *Sandbox) error {
			d := Desired()
			sb.Emu.DeleteRoleState(Account, d.RoleName)
			for _, r := range Regions {
				putDHMCRole(sb.Emu, d.RoleName+"-"+r, "/", nil)
				sb.Emu.SetSetting(Account, r, d.RoleName+"-"+r)
			}
			return nil
		},
		Adopt:   []string{"DHMC_ROLE_NAME=AWSSystemsManagerDefaultEC2InstanceManagementRole-{region}", "DHMC_ROLE_PATH=/"},
		Manager: "CloudFormation (AWS's sample template aws-samples/aws-systems-manager-default-host-management-configuration)",
	},
}

// SetupNamed returns the setup called name.
func SetupNamed(name string) (Setup, bool) {
	for _, s := range Setups {
		if s.Name == name {
			return s, true
		}
	}
	return Setup{}, false
}

// putDHMCRole creates a working DHMC role: SSM may assume it, it carries
// the managed policy, nothing more.
func putDHMCRole(emu *awsemu.Server, name, path string, tags map[string]string) {
	d := Desired()
	emu.PutRole(Account, awsemu.Role{
		Name: name, Path: path, TrustPolicy: d.TrustPolicy(),
		AttachedPolicies: []string{d.ManagedPolicyARN()}, Tags: tags,
	})
}

func setAll(emu *awsemu.Server, value string) {
	for _, r := range Regions {
		emu.SetSetting(Account, r, value)
	}
}

// The setups are sandbox states too: `make invoke STATE=quick-setup`.
func init() {
	for _, s := range Setups {
		states = append(states, State{Name: s.Name, Description: s.Description + " (adopt with " + strings.Join(s.Adopt, " ") + ")", Apply: s.Apply})
	}
}
