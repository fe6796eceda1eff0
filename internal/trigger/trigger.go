// Package trigger turns what invoked the function (a CloudTrail event through
// EventBridge, a schedule, a manual payload) into a Request: which part of the
// DHMC state to look at, or why to do nothing. It never decides what the state
// should be: an event is a hint of where to look, the reconciler reads the
// truth.
package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// MaxPayload is the largest input Parse reads. EventBridge events and
// asynchronous Lambda payloads are at most 256 KB; anything larger is not one
// of ours and is rejected before it is decoded.
const MaxPayload = 256 * 1024

// Trigger names as they appear in dhmc.Cause.Trigger.
const (
	TriggerCloudTrail = "cloudtrail"
	TriggerSchedule   = "schedule"
	TriggerManual     = "manual"
	// TriggerSummary is the daily summary's Scheduler payload.
	TriggerSummary = "summary"
)

// Config is what Parse needs to know about the deployment.
type Config struct {
	// RoleName and RolePath name the DHMC role.
	RoleName string
	RolePath string
	// SelfRoleARN is the function's execution role: events it caused are its
	// own repairs and do no work (loop protection).
	SelfRoleARN string
	// Regions are the managed Regions; nil means every Region (any valid
	// Region code is accepted; the reconciler keeps the enabled ones).
	Regions []string
	// WatchedPolicies are the customer managed policies whose new versions
	// change what the DHMC role may do (dhmc.Desired.WatchedPolicyARNs).
	WatchedPolicies []string
	// HistoryRetention is the ledger's retention (default 90 days): a
	// history "since" further back is an InputError, not a silent clamp.
	HistoryRetention time.Duration
}

// managed reports whether region is in scope for this deployment.
func (c Config) managed(region string) bool {
	return len(c.Regions) == 0 || slices.Contains(c.Regions, region)
}

// Action is what the function should do with an input.
type Action string

const (
	// ActionReconcile reads (and, by mode, repairs) the Request's scope.
	ActionReconcile Action = "reconcile"
	// ActionIgnore does nothing: the input is not about DHMC or is the
	// function's own repair. Reason says which.
	ActionIgnore Action = "ignore"
	// ActionDenied does not reconcile: someone tried to change the DHMC role
	// or setting and AWS refused. Worth a low-severity alert.
	ActionDenied Action = "denied"
	// ActionHistory answers from the run ledger: Request.History says what.
	ActionHistory Action = "history"
	// ActionSummary sends the daily summary to the central view.
	ActionSummary Action = "summary"
)

// Request is the decoded input.
type Request struct {
	Action Action
	// Regions to check; nil means every managed Region.
	Regions []string
	// Role says whether the event was about the IAM role (the reconciler
	// reads the roles of every Region in scope whatever it says).
	Role bool
	// Policies, when set, are the watched policies whose default version
	// changed: only they are read and reported.
	Policies []string
	// Mode overrides the deployment's mode: "" keeps it, dhmc.ModeCheck for a
	// manual check, dhmc.ModeEnforce for a manual remediate.
	Mode dhmc.Mode
	// Manual is set for a manual invoke: the report is returned to the caller.
	Manual bool
	Cause  dhmc.Cause
	// Reason says, for people, why the input is ignored or denied.
	Reason string
	// History is the query of a history request.
	History *HistoryQuery
}

// InputError is an input Parse cannot accept. Its name is what Lambda shows
// as errorType, so on-call sees at once that the payload, not AWS, was wrong.
type InputError struct {
	// Msg says what was wrong, naming the field where there is one.
	Msg string
	// Err is the decoding error behind Msg, if any.
	Err error
}

func (e *InputError) Error() string {
	if e.Err != nil {
		return "invalid input: " + e.Msg + ": " + e.Err.Error()
	}
	return "invalid input: " + e.Msg
}

func (e *InputError) Unwrap() error { return e.Err }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// Parse decodes raw, routing by its shape:
//
//   - an EventBridge envelope ("detail-type"): CloudTrail API calls from
//     aws.ssm and aws.iam, or a "Scheduled Event" from aws.events;
//   - an EventBridge Scheduler payload: {"trigger":"schedule",...};
//   - a manual payload: {"action":"check"|"remediate","regions":[...]}.
//
// Anything else is an *InputError naming what was wrong. Parse never panics
// and never returns a Request for input it did not fully understand.
func Parse(raw []byte, cfg Config) (Request, error) {
	if len(raw) > MaxPayload {
		return Request{}, inputErrorf("payload is %d bytes, more than the %d an EventBridge event or asynchronous invoke can carry", len(raw), MaxPayload)
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return Request{}, inputErrorf("payload is empty: want an EventBridge event, a Scheduler payload or a manual payload such as {\"action\":\"check\"}")
	}
	if trimmed[0] != '{' {
		return Request{}, inputErrorf("payload must be a JSON object, got %s", jsonKind(trimmed))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return Request{}, &InputError{Msg: "payload is not valid JSON", Err: err}
	}
	switch {
	case len(top) == 0:
		return Request{}, inputErrorf("payload is an empty object: want an EventBridge event, a Scheduler payload or a manual payload such as {\"action\":\"check\"}")
	case has(top, "detail-type"):
		return parseEventBridge(trimmed, cfg)
	case has(top, "action"):
		return parseManual(trimmed, top, cfg)
	case has(top, "trigger"):
		return parseScheduler(trimmed, top)
	}
	return Request{}, inputErrorf("payload has none of \"detail-type\" (EventBridge), \"trigger\" (Scheduler) or \"action\" (manual); its keys are %s", keyList(top))
}

func has(m map[string]json.RawMessage, key string) bool {
	_, ok := m[key]
	return ok
}

// onlyKeys rejects keys outside allowed. encoding/json matches field names
// without regard to case, so "Action" or "REGIONS" would otherwise be taken
// silently for the real fields; the exact names are checked here instead.
func onlyKeys(m map[string]json.RawMessage, what string, allowed ...string) error {
	var unknown []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return inputErrorf("%s has unknown field(s) %s; allowed: %s", what, quoteAll(unknown), quoteAll(allowed))
}

func keyList(m map[string]json.RawMessage) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	const most = 10
	if len(keys) > most {
		return quoteAll(keys[:most]) + fmt.Sprintf(" and %d more", len(keys)-most)
	}
	return quoteAll(keys)
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", truncate(s, 64))
	}
	return strings.Join(q, ", ")
}

// truncate shortens s for an error message; input is untrusted and may be large.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}

// jsonKind names the JSON value that starts b, for error messages.
func jsonKind(b []byte) string {
	switch b[0] {
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return "something that is not JSON"
}

// decodeErr turns a json error into an InputError naming what was decoded.
func decodeErr(what string, err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return &InputError{Msg: fmt.Sprintf("%s: field %q: got JSON %s where %s was expected", what, typeErr.Field, typeErr.Value, typeName(typeErr.Type.String()))}
	}
	return &InputError{Msg: what + " could not be decoded", Err: err}
}

func typeName(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "[]string":
		return "an array of strings"
	case "bool":
		return "true or false"
	case "time.Time":
		return "an RFC 3339 time"
	}
	if strings.HasPrefix(goType, "map[") || strings.Contains(goType, ".") {
		return "an object"
	}
	return goType
}
