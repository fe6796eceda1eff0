package dhmc

import "strings"

// Observed is what one run read from AWS.
type Observed struct {
	// Roles are the roles read this run, by lower-cased name (IAM role names
	// are unique in an account whatever their case and path): the roles the
	// settings in scope must name, and the roles they do name. A role that
	// does not exist is present with Exists false. Nil when IAM was not read.
	Roles map[string]RoleState `json:"roles,omitempty"`
	// RoleErrors are the roles that could not be read, by lower-cased name.
	RoleErrors map[string]string `json:"roleErrors,omitempty"`
	// Settings are the settings read, in Region order.
	Settings []SettingState `json:"settings"`
	// Unreachable are Regions where the guard is not allowed to read the
	// setting at all (an SCP, an opt-in Region turned off): nothing can be
	// done there, and they do not fail a sweep.
	Unreachable []RegionError `json:"unreachable,omitempty"`
	// Policies are the watched customer managed policies read this run.
	Policies []PolicyState `json:"policies,omitempty"`
}

// Role returns the state of the role called name, if it was read.
func (o Observed) Role(name string) (RoleState, bool) {
	r, ok := o.Roles[strings.ToLower(name)]
	return r, ok
}

// RoleError returns why the role called name could not be read.
func (o Observed) RoleError(name string) (string, bool) {
	e, ok := o.RoleErrors[strings.ToLower(name)]
	return e, ok
}

// RoleState is an IAM role as IAM returned it.
type RoleState struct {
	Name   string `json:"name"`
	Exists bool   `json:"exists"`
	ARN    string `json:"arn,omitempty"`
	Path   string `json:"path,omitempty"`
	// TrustPolicy is the decoded (not URL-encoded) JSON document.
	TrustPolicy            string   `json:"trustPolicy,omitempty"`
	PermissionsBoundaryARN string   `json:"permissionsBoundaryArn,omitempty"`
	AttachedPolicyARNs     []string `json:"attachedPolicyArns,omitempty"`
	InlinePolicyNames      []string `json:"inlinePolicyNames,omitempty"`
	// Tags are the role's tags (a stack's aws:cloudformation:* tags, where
	// a tool copied them; CloudFormation itself does not tag IAM roles).
	Tags map[string]string `json:"tags,omitempty"`
	// Stack is the CloudFormation stack that created the role, when
	// CloudFormation says so (DescribeStackResources by physical ID).
	Stack string `json:"stack,omitempty"`
	// EnforcedBy names AWS's own State Manager association that keeps DHMC
	// on with this role (EnableDHMCAssociation), when a Region whose setting
	// names the role has one (internal/reconcile/enforcer.go).
	EnforcedBy string `json:"enforcedBy,omitempty"`
}

// SettingState is the service setting in one Region.
type SettingState struct {
	Region string `json:"region"`
	Value  string `json:"value"`
	Status string `json:"status,omitempty"`
	// LastModifiedUser is an ARN or, as real SSM answers even after a
	// customer's change, "System": not an audit trail (dhmc-facts §9).
	LastModifiedUser string `json:"lastModifiedUser,omitempty"`
	LastModifiedDate string `json:"lastModifiedDate,omitempty"` // RFC 3339
}

// PolicyState is a customer managed policy's default version.
type PolicyState struct {
	ARN            string `json:"arn"`
	DefaultVersion string `json:"defaultVersion"`
	// Document is the default version's decoded JSON document.
	Document string `json:"document"`
}
