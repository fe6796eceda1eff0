// Package dhmc holds the domain of Default Host Management Configuration:
// what the setting and role should look like (Desired), what was read from AWS
// (Observed), the differences between the two (Finding, from Plan), who else
// may own a setup (Recognise), what configuration would adopt what is there
// (Suggest), and the report of one run. It imports nothing of the project and
// calls no AWS API.
package dhmc

const (
	// SettingID is the SSM service setting that holds the DHMC role, one value
	// per account and Region.
	SettingID = "/ssm/managed-instance/default-ec2-instance-management-role"

	// DefaultRoleName and DefaultRolePath are what the AWS console creates.
	DefaultRoleName = "AWSSystemsManagerDefaultEC2InstanceManagementRole"
	DefaultRolePath = "/service-role/"

	// ManagedPolicyName is the AWS managed policy the role must carry.
	ManagedPolicyName = "AmazonSSMManagedEC2InstanceDefaultPolicy"

	// SettingDisabled is how SSM reports a setting that was never set or was reset.
	SettingDisabled = "$None"

	// TrustedService is the only principal allowed to assume the role.
	TrustedService = "ssm.amazonaws.com"

	// RegionPlaceholder in a role name stands for the Region whose setting
	// names the role: Quick Setup and AWS's sample template create one role
	// per Region (AWS-QuickSetup-SSM-DefaultEC2MgmtRole-eu-west-1, ...).
	RegionPlaceholder = "{region}"
)

// Mode says whether a run repairs what it finds.
type Mode string

const (
	// ModeEnforce repairs every finding it safely can.
	ModeEnforce Mode = "enforce"
	// ModeDetect only reports; actions are skipped.
	ModeDetect Mode = "detect"
	// ModeCheck is a manual check: it never writes, whatever the deployment's
	// mode. It is a run mode only, never a deployment's.
	ModeCheck Mode = "check"
)
