package guard

import "strings"

// RepairError is returned when a repair or a read failed, after the alert
// was sent (or handed to the failure queue), so EventBridge's async retries
// and the on-failure destination apply. Its name is the errorType on-call
// sees in Lambda's output, whether or not the alert failed too.
type RepairError struct {
	Failed []string
	// Alert is set when the alert could not be published either.
	Alert error
}

func (e *RepairError) Error() string {
	msg := "dhmc-guard could not complete the run: " + strings.Join(e.Failed, "; ")
	if e.Alert != nil {
		msg += "; and " + e.Alert.Error()
	}
	return msg
}

func (e *RepairError) Unwrap() error { return e.Alert }

// AlertError is returned when the alert could not be published: the drift
// was handled but nobody was told, which must not pass silently. The report
// went to the failure queue, and the outbox re-sends the alert next run.
type AlertError struct{ Err error }

func (e *AlertError) Error() string { return "publishing alert: " + e.Err.Error() }
func (e *AlertError) Unwrap() error { return e.Err }

// RegionsUnlistedError is returned when the account's enabled Regions could
// not be listed (account:ListRegions denied, as by an SCP on account:*, or
// failing): the role and the last good list of Regions were still checked
// and repaired, the alert was sent (or handed to the failure queue) and the
// run recorded. Its name is the errorType on-call sees; EventBridge's
// retries and the on-failure destination apply as to any failed run.
type RegionsUnlistedError struct {
	// Why is the report's error: "Regions could not be listed: ...".
	Why string
	// Failed lists every failure of the run, this one included.
	Failed []string
	// Alert is set when the alert could not be published either.
	Alert error
}

func (e *RegionsUnlistedError) Error() string {
	msg := "dhmc-guard: " + e.Why
	if len(e.Failed) > 1 {
		msg += " (and: " + strings.Join(e.Failed, "; ") + ")"
	}
	if e.Alert != nil {
		msg += "; and " + e.Alert.Error()
	}
	return msg
}

func (e *RegionsUnlistedError) Unwrap() error { return e.Alert }
