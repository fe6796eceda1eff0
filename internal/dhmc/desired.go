package dhmc

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Desired is the state dhmc-guard keeps. It comes from configuration only,
// never from an event.
type Desired struct {
	// Partition is "aws", "aws-cn", "aws-us-gov", ...: taken from the account's
	// own ARNs so the tool works outside the commercial partition.
	Partition string `json:"partition"`
	// AccountID is the 12-digit account the function guards.
	AccountID string `json:"accountId"`
	// RoleName and RolePath name the DHMC role; RolePath starts and ends with
	// "/" and may be "/" itself. RoleName may end in RegionPlaceholder: each
	// Region then has its own role, and every role check applies to each.
	RoleName string `json:"roleName"`
	RolePath string `json:"rolePath"`
	// ExtraPolicyARNs are managed policies allowed on the role besides the
	// required one. Anything else attached is a finding.
	ExtraPolicyARNs []string `json:"extraPolicyArns,omitempty"`
	// PermissionsBoundaryARN is the boundary the role must carry; empty means none.
	PermissionsBoundaryARN string `json:"permissionsBoundaryArn,omitempty"`
	// Regions are the managed Regions; empty means every Region enabled in the
	// account, discovered at run time.
	Regions []string `json:"regions,omitempty"`
	// ExcludedRegions are never read nor written, even when enabled.
	ExcludedRegions []string `json:"excludedRegions,omitempty"`
	// Mode is the deployment's default mode.
	Mode Mode `json:"mode"`
	// TakeOver lets the guard replace a working setup that another manager
	// (Quick Setup, a CloudFormation stack, SSM's own registration) owns.
	// Off, such a Region is reported as managed-elsewhere and left alone.
	TakeOver bool `json:"takeOver,omitempty"`
	// Trust says what the role's trust policy may and must carry besides
	// ssm.amazonaws.com → sts:AssumeRole.
	Trust TrustRules `json:"trust,omitzero"`
}

// TrustRules are the confused-deputy conditions the trust policy may carry.
type TrustRules struct {
	// RequireCondition makes a trust policy without an aws:SourceAccount,
	// aws:SourceArn, aws:SourceOrgID or aws:SourceOrgPaths condition that
	// narrows it to this account or organisation a finding.
	RequireCondition bool `json:"requireCondition,omitempty"`
	// OrganizationID ("o-...") is this account's organisation, so that
	// aws:SourceOrgID / aws:SourceOrgPaths conditions can be checked. Empty:
	// such conditions cannot be verified and are reported, never repaired.
	OrganizationID string `json:"organizationId,omitempty"`
}

var (
	accountRE   = regexp.MustCompile(`^[0-9]{12}$`)
	partitionRE = regexp.MustCompile(`^aws(-[a-z]+)*$`)
	// IAM role names: 1-64 of [\w+=,.@-].
	roleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	// IAM paths: "/" or "/seg/.../", printable ASCII without spaces, 512 max.
	rolePathRE = regexp.MustCompile(`^/([\x21-\x7E]*/)?$`)
	regionRE   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	policyARN  = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::([0-9]{12}|aws):policy/[\x21-\x7E]+$`)
	orgIDRE    = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
)

// longestRegion stands in for RegionPlaceholder when a per-Region role name
// is checked against IAM's 64-character limit and the Regions are not
// configured: the longest Region codes of the commercial, China and GovCloud
// partitions have 14 characters. AWS's own sample template names its role
// AWSSystemsManagerDefaultEC2InstanceManagementRole-${AWS::Region}, exactly
// 64 characters in those Regions: a longer probe would refuse the
// configuration that adopts it. Configured Regions are checked one by one.
const longestRegion = "ap-southeast-1"

// Validate reports every problem with d at once, naming each field.
func (d Desired) Validate() error {
	var errs []error
	if !partitionRE.MatchString(d.Partition) {
		errs = append(errs, fmt.Errorf("partition %q is not an AWS partition", d.Partition))
	}
	if !accountRE.MatchString(d.AccountID) {
		errs = append(errs, fmt.Errorf("account ID %q is not 12 digits", d.AccountID))
	}
	errs = append(errs, validRoleName(d.RoleName, d.Regions))
	if len(d.RolePath) > 512 || !rolePathRE.MatchString(d.RolePath) {
		errs = append(errs, fmt.Errorf("role path %q must start and end with / (for example / or /service-role/)", d.RolePath))
	}
	for _, arn := range d.ExtraPolicyARNs {
		errs = append(errs, AllowablePolicy(arn, "extra policy"))
	}
	if d.PermissionsBoundaryARN != "" {
		errs = append(errs, AllowablePolicy(d.PermissionsBoundaryARN, "permissions boundary"))
	}
	for _, r := range slices.Concat(d.Regions, d.ExcludedRegions) {
		if !regionRE.MatchString(r) {
			errs = append(errs, fmt.Errorf("region %q is not a Region code such as eu-west-1", r))
		}
	}
	if d.Trust.OrganizationID != "" && !orgIDRE.MatchString(d.Trust.OrganizationID) {
		errs = append(errs, fmt.Errorf("organization ID %q is not an AWS Organizations ID such as o-a1b2c3d4e5", d.Trust.OrganizationID))
	}
	if d.Mode != ModeEnforce && d.Mode != ModeDetect {
		errs = append(errs, fmt.Errorf("mode %q must be %q or %q", d.Mode, ModeEnforce, ModeDetect))
	}
	return errors.Join(errs...)
}

func validRoleName(name string, regions []string) error {
	base, perRegion := strings.CutSuffix(name, RegionPlaceholder)
	switch {
	case strings.Contains(base, RegionPlaceholder) || strings.ContainsAny(base, "{}"):
		return fmt.Errorf("role name %q: %s may appear once, at the end of the name", name, RegionPlaceholder)
	case perRegion && base == "":
		return fmt.Errorf("role name %q: a name is needed before %s", name, RegionPlaceholder)
	case !perRegion && !roleNameRE.MatchString(name):
		return fmt.Errorf("role name %q is not a valid IAM role name (1-64 of letters, digits and +=,.@_-)", name)
	case !perRegion:
		return nil
	}
	if len(regions) == 0 {
		regions = []string{longestRegion}
	}
	for _, r := range regions {
		if !roleNameRE.MatchString(base + r) {
			return fmt.Errorf("role name %q is not a valid IAM role name in %s (1-64 of letters, digits and +=,.@_- once %s is replaced)", name, r, RegionPlaceholder)
		}
	}
	return nil
}

// ValidRegion reports whether r looks like a Region code.
func ValidRegion(r string) bool { return regionRE.MatchString(r) }

// PerRegion reports whether each Region has a role of its own.
func (d Desired) PerRegion() bool { return strings.HasSuffix(d.RoleName, RegionPlaceholder) }

// RoleNameIn is the name of the role the setting in region must name.
func (d Desired) RoleNameIn(region string) string {
	return strings.Replace(d.RoleName, RegionPlaceholder, region, 1)
}

// SettingValueIn is what the setting in region must hold: the role's path
// and name without the leading slash (a role at "/" is its bare name).
func (d Desired) SettingValueIn(region string) string {
	return strings.TrimPrefix(d.RolePath+d.RoleNameIn(region), "/")
}

// RoleARNIn is the ARN of the role the setting in region must name.
func (d Desired) RoleARNIn(region string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role%s%s", d.Partition, d.AccountID, d.RolePath, d.RoleNameIn(region))
}

// RoleNames are the distinct roles that regions' settings must name, in
// Region order: one, or one per Region.
func (d Desired) RoleNames(regions []string) []string {
	if !d.PerRegion() {
		return []string{d.RoleName}
	}
	var out []string
	for _, r := range regions {
		if n := d.RoleNameIn(r); !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// SettingValue, RoleARN: the single-role forms of SettingValueIn and RoleARNIn,
// for configurations without RegionPlaceholder.
func (d Desired) SettingValue() string { return d.SettingValueIn("") }
func (d Desired) RoleARN() string      { return d.RoleARNIn("") }

// ManagedPolicyARN is the required AWS managed policy in d's partition.
func (d Desired) ManagedPolicyARN() string {
	return fmt.Sprintf("arn:%s:iam::aws:policy/%s", d.Partition, ManagedPolicyName)
}

// SettingARN is the full ARN of the setting in region; SSM's update and reset
// calls document SettingId as this ARN.
func (d Desired) SettingARN(region string) string {
	return fmt.Sprintf("arn:%s:ssm:%s:%s:servicesetting%s", d.Partition, region, d.AccountID, SettingID)
}

// AllowedPolicyARNs is the required policy plus the allowlist.
func (d Desired) AllowedPolicyARNs() []string {
	return append([]string{d.ManagedPolicyARN()}, d.ExtraPolicyARNs...)
}

// WatchedPolicyARNs are the customer managed policies whose documents decide
// what the role may do: the allowlisted ones and the boundary. A new default
// version of one of them changes the role's privileges without touching the
// role, so the guard watches their version changes.
func (d Desired) WatchedPolicyARNs() []string {
	var out []string
	for _, arn := range append(slices.Clone(d.ExtraPolicyARNs), d.PermissionsBoundaryARN) {
		if arn != "" && !IsAWSManagedPolicy(arn) && !slices.Contains(out, arn) {
			out = append(out, arn)
		}
	}
	return out
}

// TrustPolicy is the trust policy the guard writes when it creates the role:
// SSM may assume it, nothing else; with RequireCondition, only on behalf of
// this account (the confused-deputy condition AWS recommends).
func (d Desired) TrustPolicy() string {
	cond := ""
	if d.Trust.RequireCondition {
		cond = `,"Condition":{"StringEquals":{"aws:SourceAccount":"` + d.AccountID + `"}}`
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` +
		TrustedService + `"},"Action":"sts:AssumeRole"` + cond + `}]}`
}
