package dhmc

import "slices"

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
	// InvokedBy is the AWS service that made the call for the actor
	// (cloudformation.amazonaws.com, ssm.amazonaws.com, ...).
	InvokedBy string `json:"invokedBy,omitempty"`
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

// IgnoredRegion is a Region a trigger asked for that the run left out.
type IgnoredRegion struct {
	Region string `json:"region"`
	Reason string `json:"reason"`
}

// SuggestedConfig is what the configuration would be to adopt the DHMC setup
// found in the account, by the template's parameter names.
type SuggestedConfig struct {
	// Parameters by template parameter name (RoleName, RolePath, ...).
	Parameters map[string]string `json:"parameters"`
	// Reason says, for people, what was found and why these values.
	Reason string `json:"reason"`
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
	// RegionsIgnored were asked for but are not enabled in the account, or
	// are excluded; RegionsExcluded are the configured exclusions.
	RegionsIgnored  []IgnoredRegion `json:"regionsIgnored,omitempty"`
	RegionsExcluded []string        `json:"regionsExcluded,omitempty"`
	// SuggestedConfig is set when DHMC is consistent across the Regions read
	// but differs from the configuration: the parameters that would adopt it.
	SuggestedConfig *SuggestedConfig `json:"suggestedConfig,omitempty"`
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

// RegionsUnlisted is why the enabled Regions could not be listed in this
// run ("" when they were, or did not need to be).
func (r *Report) RegionsUnlisted() string {
	for _, e := range r.Errors {
		if e.Region == ErrorPlaceRegions {
			return e.Error
		}
	}
	return ""
}

// Blocked reports whether a repair was held back because what it depends on
// could not be verified: a person must act.
func (r *Report) Blocked() bool {
	return slices.ContainsFunc(r.Results, func(x Result) bool { return x.Outcome == OutcomeBlocked })
}
