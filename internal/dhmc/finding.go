package dhmc

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
	// path. IAM cannot move a role, and a setting naming the configured path
	// would name a role that does not exist: a person must decide.
	KindRolePathMismatch Kind = "role-path-mismatch"
	// KindManagedElsewhere: the setting names a working role that another
	// manager owns (Quick Setup, a CloudFormation stack, SSM's own
	// registration). Left alone unless TakeOver is set.
	KindManagedElsewhere Kind = "managed-elsewhere"
	// KindTrustPolicyUnrecognised: the trust policy allows only SSM, but
	// carries a condition the guard cannot verify (an unknown key, an
	// organisation it was not told). It can only narrow the role, so it is
	// reported, never rewritten.
	KindTrustPolicyUnrecognised Kind = "trust-policy-unrecognised"
	// KindRegionUnreachable: the guard may not read the setting in a Region
	// (explicitly denied, e.g. by an SCP, or the Region is not enabled).
	KindRegionUnreachable Kind = "region-unreachable"
	// KindAllowedPolicyChanged: an allowlisted customer managed policy or the
	// boundary got a new default version: the role's privileges changed
	// without the role changing. Reported with the new document, never
	// repaired.
	KindAllowedPolicyChanged Kind = "allowed-policy-changed"
	// KindRoleUnreadable: a role could not be read (GetRole or its policy
	// lists denied or failing). It is a Report error, not a finding: the
	// guard is blind to the role, so it is told high, in the normal window.
	KindRoleUnreadable Kind = "role-unreadable"
	// KindRegionsUnlisted: the enabled Regions could not be listed; the run
	// fell back to the last good list. A Report error, told high.
	KindRegionsUnlisted Kind = "regions-unlisted"
)

// Places of Report errors that are not a Region: IAM (the roles) and the
// account's Region list.
const (
	ErrorPlaceRole    = "iam"
	ErrorPlaceRegions = "regions"
)

// ErrorKind is the kind a Report error is told as: the role's, the Region
// list's, or a Region's.
func ErrorKind(e RegionError) Kind {
	switch e.Region {
	case ErrorPlaceRole, "":
		return KindRoleUnreadable
	case ErrorPlaceRegions:
		return KindRegionsUnlisted
	}
	return KindRegionUnreachable
}

// Action names the repair for a finding.
type Action string

const (
	ActionNone                   Action = "none" // reported only
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
	// Region is set for setting findings; empty for a role.
	Region string `json:"region,omitempty"`
	// Role is the role the finding is about: for a role finding the role
	// itself, for a setting finding the role the setting must name.
	Role     string `json:"role,omitempty"`
	Observed string `json:"observed"`
	Desired  string `json:"desired"`
	Action   Action `json:"action"`
	// Target is what the action works on when that is not the role itself:
	// a policy ARN, an inline policy name, a boundary ARN.
	Target string `json:"target,omitempty"`
	// Blocked, when set, says why the action must not be carried out and
	// what a person can do; the finding's outcome is then OutcomeBlocked.
	Blocked string `json:"blocked,omitempty"`
	// Manager names, in words on-call knows, who else owns what the finding
	// is about ("Quick Setup", "CloudFormation stack dhmc", ...).
	Manager string `json:"manager,omitempty"`
	// Adopt is the configuration that would adopt what is there
	// ("RoleName=... RolePath=/"), when the guard can tell.
	Adopt string `json:"adopt,omitempty"`
	// Document is a policy document the finding is about: a new default
	// version of a watched policy, or a deleted inline policy kept so that
	// nothing is lost.
	Document string `json:"document,omitempty"`
	// DocumentRef names Document as IAM returned it (size, SHA-256) and
	// says where it is kept whole when the report does not carry it.
	DocumentRef *DocumentRef `json:"documentRef,omitempty"`
	// LastModifiedUser/Date come from the setting, so an alert can say when
	// it changed even when only a sweep saw the drift.
	LastModifiedUser string `json:"lastModifiedUser,omitempty"`
	LastModifiedDate string `json:"lastModifiedDate,omitempty"`
}

// Outcome of one finding.
type Outcome string

const (
	OutcomeDone       Outcome = "done"
	OutcomeFailed     Outcome = "failed"
	OutcomeSkipped    Outcome = "skipped"     // detect mode or check
	OutcomeInProgress Outcome = "in-progress" // PendingUpdate: not fought
	// OutcomeBlocked: the repair was not attempted because what it depends
	// on was not verified in this run. Nothing was written; a person must act.
	OutcomeBlocked Outcome = "blocked"
	// OutcomeReported: nothing to repair (another manager's setup, an
	// unreachable Region, a condition the guard cannot verify); for people.
	OutcomeReported Outcome = "reported"
)

// Result is a finding with what was done about it.
type Result struct {
	Finding
	Outcome Outcome `json:"outcome"`
	Error   string  `json:"error,omitempty"`
	// Note qualifies a done outcome: "already in place" when the write
	// failed but a re-read showed its goal already held (someone else
	// fixed it between the guard's read and its write).
	Note string `json:"note,omitempty"`
}
