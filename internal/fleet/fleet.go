// Package fleet answers the question DHMC adopters ask first: which EC2
// instances does Default Host Management Configuration actually manage, and
// which will it never reach, and why?
//
// It reads (observe.go: EC2 instances, SSM managed nodes and the DHMC
// setting per Region in parallel; instance profiles and their policies in
// IAM once per run), decides in pure functions (Classify, Tally, Assess),
// and writes the report, an SNS digest (digest.go) and EMF metrics
// (internal/metrics). It never writes to AWS: its role is read-only.
package fleet

import "github.com/dhmc-guard/dhmc-guard/internal/dhmc"

// MinAgentVersion is the oldest SSM Agent that works with DHMC (AWS docs;
// dhmc-facts §5).
const MinAgentVersion = "3.2.582.0"

// UpdateInstanceInformation is the action whose grant on an instance
// profile makes the agent use the profile instead of DHMC (dhmc-facts §5).
const UpdateInstanceInformation = "ssm:UpdateInstanceInformation"

// Reason is why DHMC cannot manage a running instance. An instance may have
// several.
type Reason string

// The reasons, in the order reports list them.
const (
	// ReasonDHMCOff: the DHMC setting is off in the instance's Region, so
	// nothing there is DHMC-managed.
	ReasonDHMCOff Reason = "dhmc-off"
	// ReasonProfileGrantsSSM: the instance profile allows
	// ssm:UpdateInstanceInformation, so the agent uses it and not DHMC:
	// a migration candidate.
	ReasonProfileGrantsSSM Reason = "profile-grants-ssm"
	// ReasonProfileUnreadable: the instance profile or one of its policies
	// could not be read, so whether it wins over DHMC is unknown.
	ReasonProfileUnreadable Reason = "profile-unreadable"
	// ReasonOldAgent: the SSM Agent is older than MinAgentVersion.
	ReasonOldAgent Reason = "old-agent"
	// ReasonIMDSv1 is hygiene, not a reason DHMC cannot manage: IMDSv1 is
	// still allowed (HttpTokens optional), but "optional" serves IMDSv2 too,
	// which is all the agent needs. Listed under Hygiene, never Reasons.
	ReasonIMDSv1 Reason = "imdsv1-allowed"
	// ReasonIMDSDisabled: the metadata service is off (HttpEndpoint
	// disabled), so the agent cannot identify the instance at all.
	ReasonIMDSDisabled Reason = "imds-disabled"
	// ReasonNotRegistered: Systems Manager does not know the instance.
	ReasonNotRegistered Reason = "not-registered"
	// ReasonNotPinging: registered, but its PingStatus is not Online.
	ReasonNotPinging Reason = "not-pinging"
)

// Reasons lists every reason DHMC cannot manage an instance, in report
// order.
var Reasons = []Reason{
	ReasonDHMCOff, ReasonProfileGrantsSSM, ReasonProfileUnreadable, ReasonOldAgent,
	ReasonIMDSDisabled, ReasonNotRegistered, ReasonNotPinging,
}

// Hygiene lists what is worth fixing on an instance that does not keep
// DHMC out: counted for every running instance, ready or not.
var Hygiene = []Reason{ReasonIMDSv1}

// Describe says what a reason means, for people.
func (r Reason) Describe() string {
	switch r {
	case ReasonDHMCOff:
		return "DHMC setting off in the Region"
	case ReasonProfileGrantsSSM:
		return "instance profile grants " + UpdateInstanceInformation + " (migration candidate)"
	case ReasonProfileUnreadable:
		return "instance profile could not be read"
	case ReasonOldAgent:
		return "SSM Agent older than " + MinAgentVersion
	case ReasonIMDSv1:
		return "IMDSv1 still allowed (HttpTokens optional); DHMC works, but require IMDSv2"
	case ReasonIMDSDisabled:
		return "instance metadata service disabled"
	case ReasonNotRegistered:
		return "not registered with Systems Manager"
	case ReasonNotPinging:
		return "registered but not pinging (PingStatus not Online)"
	}
	return string(r)
}

// DHMC states of a Region.
const (
	DHMCOn      = "on"
	DHMCOff     = "off"
	DHMCUnknown = "unknown" // the setting could not be read
)

// DHMC is the DHMC setting of one Region.
type DHMC struct {
	State string `json:"state"`
	// Role is the setting's value (the role's path and name) when on.
	Role string `json:"role,omitempty"`
}

// DHMCFromSetting reads a setting value: "$None" and "" mean off.
func DHMCFromSetting(value string) DHMC {
	if value == "" || value == dhmc.SettingDisabled {
		return DHMC{State: DHMCOff}
	}
	return DHMC{State: DHMCOn, Role: value}
}

// Instance is what the report needs of one running EC2 instance.
type Instance struct {
	ID, Region, AccountID string
	Partition             string // default aws
	ProfileARN            string // "" when none
	HTTPTokens            string // required | optional
	HTTPEndpoint          string // enabled | disabled
}

// ARN is the instance's ARN, the resource ssm:UpdateInstanceInformation is
// evaluated on.
func (in Instance) ARN() string {
	p := in.Partition
	if p == "" {
		p = "aws"
	}
	return "arn:" + p + ":ec2:" + in.Region + ":" + in.AccountID + ":instance/" + in.ID
}

// Node is what Systems Manager reports for a managed node.
type Node struct {
	PingStatus   string
	AgentVersion string
}

// Sample counts instances and keeps the first few IDs.
type Sample struct {
	Count       int      `json:"count"`
	InstanceIDs []string `json:"instanceIds"`
	// More is how many IDs were counted but not kept.
	More int `json:"more,omitempty"`
}

func (s *Sample) add(id string, keep int) {
	s.Count++
	if len(s.InstanceIDs) < keep {
		s.InstanceIDs = append(s.InstanceIDs, id)
	} else {
		s.More++
	}
}

// RegionReport is one Region's readiness.
type RegionReport struct {
	Region string `json:"region"`
	DHMC   DHMC   `json:"dhmc"`
	// Running instances; ManagedNodes the EC2 instances Systems Manager
	// lists (any ping status; SSM leaves stopped ones out); Online the
	// running instances whose agent pings.
	Running      int `json:"running"`
	ManagedNodes int `json:"managedNodes"`
	Online       int `json:"online"`
	// Ready instances have no reason; NotReady at least one.
	Ready    int                `json:"ready"`
	NotReady int                `json:"notReady"`
	Reasons  map[Reason]*Sample `json:"reasons,omitempty"`
	// Hygiene counts running instances, ready or not, with each Hygiene
	// item.
	Hygiene map[Reason]*Sample `json:"hygiene,omitempty"`
	// Error says why the Region could not be read completely; its counts
	// are then partial.
	Error string `json:"error,omitempty"`
}

// Candidate is an instance profile that keeps instances out of DHMC: drop
// the SSM permissions it grants and DHMC takes over.
type Candidate struct {
	InstanceProfile string   `json:"instanceProfile"` // ARN
	Name            string   `json:"name"`
	Roles           []string `json:"roles"`
	// GrantedBy names the policies that allow ssm:UpdateInstanceInformation
	// ("AmazonSSMManagedInstanceCore (AWS managed)", "ssm (inline on app-role)").
	GrantedBy []string `json:"grantedBy,omitempty"`
	// Error is set for an unreadable profile instead of GrantedBy.
	Error   string   `json:"error,omitempty"`
	Regions []string `json:"regions"`
	Sample
}

// Totals add the Regions up.
type Totals struct {
	Running      int            `json:"running"`
	ManagedNodes int            `json:"managedNodes"`
	Online       int            `json:"online"`
	Ready        int            `json:"ready"`
	NotReady     int            `json:"notReady"`
	Reasons      map[Reason]int `json:"reasons"`
	Hygiene      map[Reason]int `json:"hygiene"`
}

// Cause says what started the run.
type Cause struct {
	Trigger       string `json:"trigger"` // schedule | manual
	ScheduleARN   string `json:"scheduleArn,omitempty"`
	ScheduledTime string `json:"scheduledTime,omitempty"`
}

// Report is one run's result: the invocation's answer, the end of the
// digest, and the source of the metrics.
type Report struct {
	Kind            string         `json:"kind"` // always "fleet-readiness"
	Cause           Cause          `json:"cause"`
	AccountID       string         `json:"accountId"`
	StartedAt       string         `json:"startedAt"`
	DurationMs      int64          `json:"durationMs"`
	MinAgentVersion string         `json:"minAgentVersion"`
	Regions         []RegionReport `json:"regions"`
	Totals          Totals         `json:"totals"`
	// MigrationCandidates are the granting profiles, most instances first;
	// UnreadableProfiles those whose policies could not be read.
	MigrationCandidates []Candidate    `json:"migrationCandidates"`
	UnreadableProfiles  []Candidate    `json:"unreadableProfiles,omitempty"`
	APICalls            map[string]int `json:"apiCalls"`
	Reads               int            `json:"reads"`
}

// ReportKind is Report.Kind.
const ReportKind = "fleet-readiness"

// Failed reports whether any Region could not be read completely.
func (r *Report) Failed() bool {
	for _, x := range r.Regions {
		if x.Error != "" {
			return true
		}
	}
	return false
}
