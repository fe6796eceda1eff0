// Package dhmc holds the domain of Default Host Management Configuration:
// what the setting and role should look like (Desired), what was read from AWS
// (Observed), the differences between the two (Finding, from Plan), and the
// report of one run. It imports nothing of the project and calls no AWS API.
package dhmc

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

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
)

// Mode says whether a run repairs what it finds.
type Mode string

const (
	// ModeEnforce repairs every finding.
	ModeEnforce Mode = "enforce"
	// ModeDetect only reports; actions are skipped.
	ModeDetect Mode = "detect"
	// ModeCheck is a manual check: it never writes, whatever the deployment's
	// mode. It is a run mode only, never a deployment's.
	ModeCheck Mode = "check"
)

// Desired is the state dhmc-guard keeps. It comes from configuration only,
// never from an event.
type Desired struct {
	// Partition is "aws", "aws-cn", "aws-us-gov", ...: taken from the account's
	// own ARNs so the tool works outside the commercial partition.
	Partition string `json:"partition"`
	// AccountID is the 12-digit account the function guards.
	AccountID string `json:"accountId"`
	// RoleName and RolePath name the DHMC role; RolePath starts and ends with "/".
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
	// Mode is the deployment's default mode.
	Mode Mode `json:"mode"`
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
)

// Validate reports every problem with d at once, naming each field.
func (d Desired) Validate() error {
	var errs []error
	if !partitionRE.MatchString(d.Partition) {
		errs = append(errs, fmt.Errorf("partition %q is not an AWS partition", d.Partition))
	}
	if !accountRE.MatchString(d.AccountID) {
		errs = append(errs, fmt.Errorf("account ID %q is not 12 digits", d.AccountID))
	}
	if !roleNameRE.MatchString(d.RoleName) {
		errs = append(errs, fmt.Errorf("role name %q is not a valid IAM role name (1-64 of letters, digits and +=,.@_-)", d.RoleName))
	}
	if len(d.RolePath) > 512 || !rolePathRE.MatchString(d.RolePath) {
		errs = append(errs, fmt.Errorf("role path %q must start and end with / (for example /service-role/)", d.RolePath))
	}
	for _, arn := range d.ExtraPolicyARNs {
		if !policyARN.MatchString(arn) {
			errs = append(errs, fmt.Errorf("extra policy %q is not a managed policy ARN", arn))
		}
	}
	if d.PermissionsBoundaryARN != "" && !policyARN.MatchString(d.PermissionsBoundaryARN) {
		errs = append(errs, fmt.Errorf("permissions boundary %q is not a managed policy ARN", d.PermissionsBoundaryARN))
	}
	for _, r := range d.Regions {
		if !regionRE.MatchString(r) {
			errs = append(errs, fmt.Errorf("region %q is not a Region code such as eu-west-1", r))
		}
	}
	if d.Mode != ModeEnforce && d.Mode != ModeDetect {
		errs = append(errs, fmt.Errorf("mode %q must be %q or %q", d.Mode, ModeEnforce, ModeDetect))
	}
	return errors.Join(errs...)
}

// ValidRegion reports whether r looks like a Region code.
func ValidRegion(r string) bool { return regionRE.MatchString(r) }

// SettingValue is what the service setting must hold: the role's path and
// name without the leading slash (a role at "/" is its bare name).
func (d Desired) SettingValue() string {
	return strings.TrimPrefix(d.RolePath+d.RoleName, "/")
}

// RoleARN is the DHMC role's ARN.
func (d Desired) RoleARN() string {
	return fmt.Sprintf("arn:%s:iam::%s:role%s%s", d.Partition, d.AccountID, d.RolePath, d.RoleName)
}

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

// TrustPolicy is the role's trust policy: SSM may assume it, nothing else.
func (d Desired) TrustPolicy() string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` +
		TrustedService + `"},"Action":"sts:AssumeRole"}]}`
}

// Observed is what one run read from AWS. Role is nil when IAM was not in
// the run's scope.
type Observed struct {
	Role     *RoleState     `json:"role,omitempty"`
	Settings []SettingState `json:"settings"`
}

// RoleState is the DHMC role as IAM returned it.
type RoleState struct {
	Exists bool   `json:"exists"`
	ARN    string `json:"arn,omitempty"`
	Path   string `json:"path,omitempty"`
	// TrustPolicy is the decoded (not URL-encoded) JSON document.
	TrustPolicy            string   `json:"trustPolicy,omitempty"`
	PermissionsBoundaryARN string   `json:"permissionsBoundaryArn,omitempty"`
	AttachedPolicyARNs     []string `json:"attachedPolicyArns,omitempty"`
	InlinePolicyNames      []string `json:"inlinePolicyNames,omitempty"`
}

// SettingState is the service setting in one Region.
type SettingState struct {
	Region           string `json:"region"`
	Value            string `json:"value"`
	Status           string `json:"status,omitempty"`
	LastModifiedUser string `json:"lastModifiedUser,omitempty"`
	LastModifiedDate string `json:"lastModifiedDate,omitempty"` // RFC 3339
}

// Kind names a kind of drift. The values are stable: they appear in reports,
// alerts and metrics.
type Kind string

const (
	KindSettingDisabled          Kind = "setting-disabled"
	KindSettingWrongRole         Kind = "setting-wrong-role"
	KindSettingPending           Kind = "setting-pending-update"
	KindRoleMissing              Kind = "role-missing"
	KindTrustPolicyDrift         Kind = "trust-policy-drift"
	KindManagedPolicyMissing     Kind = "managed-policy-missing"
	KindUnexpectedManagedPolicy  Kind = "unexpected-managed-policy"
	KindUnexpectedInlinePolicy   Kind = "unexpected-inline-policy"
	KindPermissionsBoundaryDrift Kind = "permissions-boundary-drift"
	// KindSettingRoleMissing: the setting names the desired role, but the
	// role does not exist, so DHMC is broken in that Region.
	KindSettingRoleMissing Kind = "setting-role-missing"
	// KindRolePathMismatch: a role with the desired name exists at another
	// path. IAM cannot move a role, and the setting (path+name) cannot
	// reach it: a person must decide.
	KindRolePathMismatch Kind = "role-path-mismatch"
)

// Action names the repair for a finding.
type Action string

const (
	ActionNone                   Action = "none" // reported only (e.g. pending update)
	ActionCreateRole             Action = "create-role"
	ActionUpdateTrustPolicy      Action = "update-trust-policy"
	ActionAttachPolicy           Action = "attach-policy"
	ActionDetachPolicy           Action = "detach-policy"
	ActionDeleteInlinePolicy     Action = "delete-inline-policy"
	ActionPutPermissionsBoundary Action = "put-permissions-boundary"
	ActionDeleteBoundary         Action = "delete-permissions-boundary"
	ActionUpdateSetting          Action = "update-setting"
)

// Finding is one difference between desired and observed state.
type Finding struct {
	Kind Kind `json:"kind"`
	// Region is set for setting findings; empty for the (global) role.
	Region   string `json:"region,omitempty"`
	Observed string `json:"observed"`
	Desired  string `json:"desired"`
	Action   Action `json:"action"`
	// Target is what the action works on when that is not the role itself:
	// a policy ARN, an inline policy name, a boundary ARN.
	Target string `json:"target,omitempty"`
	// LastModifiedUser/Date come from the setting, so an alert can say who
	// changed it even when only a sweep saw the drift.
	LastModifiedUser string `json:"lastModifiedUser,omitempty"`
	LastModifiedDate string `json:"lastModifiedDate,omitempty"`
}

// Outcome of one action.
type Outcome string

const (
	OutcomeDone       Outcome = "done"
	OutcomeFailed     Outcome = "failed"
	OutcomeSkipped    Outcome = "skipped"     // detect mode or check
	OutcomeInProgress Outcome = "in-progress" // PendingUpdate: not fought
)

// Result is a finding with what was done about it.
type Result struct {
	Finding
	Outcome Outcome `json:"outcome"`
	Error   string  `json:"error,omitempty"`
	// Document keeps a deleted inline policy's JSON, so nothing is lost.
	Document string `json:"document,omitempty"`
}

// Cause is why a run happened: the trigger and, for CloudTrail, who did what.
type Cause struct {
	Trigger   string `json:"trigger"` // cloudtrail | schedule | manual
	EventName string `json:"eventName,omitempty"`
	// EventSource is the CloudTrail service endpoint, EventSourceSSM or
	// EventSourceIAM: whether the event touched the setting or the role.
	EventSource string `json:"eventSource,omitempty"`
	EventID     string `json:"eventId,omitempty"`
	EventTime   string `json:"eventTime,omitempty"`
	Region      string `json:"region,omitempty"` // detail.awsRegion
	// Actor is a readable "who" ("user alice", "role Admin (session bob@example.com)", "root", "service config.amazonaws.com").
	Actor     string `json:"actor,omitempty"`
	ActorARN  string `json:"actorArn,omitempty"`
	ActorType string `json:"actorType,omitempty"`
	SourceIP  string `json:"sourceIp,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	ErrorCode string `json:"errorCode,omitempty"`
	ErrorMsg  string `json:"errorMessage,omitempty"`
}

// CloudTrail event sources of the calls that touch DHMC.
const (
	EventSourceSSM = "ssm.amazonaws.com"
	EventSourceIAM = "iam.amazonaws.com"
)

// SettingEvent reports whether the cause is a call on the service setting
// (as opposed to the role).
func (c Cause) SettingEvent() bool { return c.EventSource == EventSourceSSM }

// RegionError is a Region that could not be read or repaired as a whole.
type RegionError struct {
	Region string `json:"region"` // "iam" for the role
	Error  string `json:"error"`
}

// Report is one run, JSON-serialisable with stable field names: it is the
// manual invoke's response and the alert's body.
type Report struct {
	Cause       Cause         `json:"cause"`
	AccountID   string        `json:"accountId"`
	Mode        string        `json:"mode"` // enforce | detect | check
	StartedAt   string        `json:"startedAt"`
	DurationMs  int64         `json:"durationMs"`
	Regions     []string      `json:"regionsChecked"`
	RoleChecked bool          `json:"roleChecked"`
	Results     []Result      `json:"findings"`
	Errors      []RegionError `json:"errors,omitempty"`
	// Calls counts API calls by operation ("ssm:GetServiceSetting": 3).
	Calls  map[string]int `json:"apiCalls"`
	Reads  int            `json:"reads"`
	Writes int            `json:"writes"`
}

// Drifted reports whether the run found anything.
func (r *Report) Drifted() bool { return len(r.Results) > 0 }

// Failed reports whether any repair or read failed.
func (r *Report) Failed() bool {
	if len(r.Errors) > 0 {
		return true
	}
	return slices.ContainsFunc(r.Results, func(x Result) bool { return x.Outcome == OutcomeFailed })
}
