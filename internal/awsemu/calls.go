package awsemu

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Call is one request the emulator answered, failed and faulted ones
// included. Region is "" for the global services (IAM, account).
type Call struct {
	Service, Operation, Region, Account, Caller string
	Status                                      int    // HTTP status
	ErrorCode                                   string // "" on success
	Write                                       bool   // the operation changes state
	// Attempt is the SDK's attempt number of the request (its
	// amz-sdk-request header, "attempt=N; max=M"), 0 when not sent: a
	// retry is a second request for one call the code made.
	Attempt int
}

// Calls returns the call log, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// ResetCalls empties the call log.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.spans = nil, nil
}

// TimedCall is a logged call with when it arrived and when it was answered
// (the injected latency included), so that tests and bench-check can tell
// calls made at once from calls made one after another.
type TimedCall struct {
	Call
	Start, End time.Time
}

type span struct{ start, end time.Time }

// TimedCalls returns the call log with each call's span, oldest answer first.
func (s *Server) TimedCalls() []TimedCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TimedCall, len(s.calls))
	for i, c := range s.calls {
		out[i] = TimedCall{Call: c, Start: s.spans[i].start, End: s.spans[i].end}
	}
	return out
}

// logCall records an answered call.
func (s *Server) logCall(req *request, c Call) {
	end := time.Now()
	c.Attempt = attemptOf(req.r.Header.Get("amz-sdk-request"))
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.spans = append(s.spans, span{req.start, end})
	s.mu.Unlock()
}

// CountCalls counts the logged calls for which filter returns true (nil: all).
func (s *Server) CountCalls(filter func(Call) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if filter == nil || filter(c) {
			n++
		}
	}
	return n
}

// FaultKind is what an injected fault does.
type FaultKind int

// Fault kinds. Each error answers in the shape and code the service uses:
//
//	FaultThrottle       ssm ThrottlingException 400; iam, sns, sts Throttling 400; account TooManyRequestsException 429
//	FaultServerError    ssm InternalServerError 500; iam ServiceFailure 500; sns InternalError 500; sts InternalFailure 500; account InternalServerException 500
//	FaultAccessDenied   ssm AccessDeniedException 400; iam, sts AccessDenied 403; sns AuthorizationError 403; account AccessDeniedException 403
//	FaultTooManyUpdates ssm TooManyUpdates 400; iam ConcurrentModification 409; others as FaultThrottle
//	FaultLatency        delays the call by Latency, then it proceeds
//	FaultCompetingWrite runs Race just before the call is served, then it
//	                    proceeds: another writer's change landing between a
//	                    client's read and its write (any service)
//
// DynamoDB answers FaultThrottle with ProvisionedThroughputExceededException
// (item operations) or ThrottlingException (table operations), 400;
// FaultServerError InternalServerError 500; FaultAccessDenied
// AccessDeniedException 400; FaultTooManyUpdates TransactionConflictException
// 400. FaultConditionalRace is DynamoDB's only (see raceIf in dynamodb.go).
const (
	FaultThrottle FaultKind = iota + 1
	FaultServerError
	FaultAccessDenied
	FaultTooManyUpdates
	FaultLatency
	FaultConditionalRace
	FaultCompetingWrite
)

// Fault makes matching calls fail or slow down.
type Fault struct {
	Op      string // "ssm:GetServiceSetting", "iam:*", "*"
	Region  string // "" = any Region
	Kind    FaultKind
	Times   int           // how many matching calls it hits; 0 = every call until removed
	Latency time.Duration // FaultLatency only
	// Race is the competing write of a FaultConditionalRace, run just before
	// the conditional write it hits; nil makes that write's conditions fail
	// as if another writer had got there first. FaultCompetingWrite runs it
	// before the call it hits, whatever the call.
	Race func()
	// Message, if set, replaces the failure's message; SCPDenied words an
	// explicit deny in a service control policy as AWS does.
	Message string
}

// SCPDenied is AWS's message for a call an SCP denies explicitly (the
// caller's ARN, then the action, "account:ListRegions").
func SCPDenied(caller, action string) string {
	return "User: " + caller + " is not authorized to perform: " + action + " with an explicit deny in a service control policy"
}

type faultEntry struct {
	Fault
	used int
}

// Inject arms a fault; remove disarms it.
func (s *Server) Inject(f Fault) (remove func()) {
	e := &faultEntry{Fault: f}
	s.mu.Lock()
	s.faults = append(s.faults, e)
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.faults = slices.DeleteFunc(s.faults, func(x *faultEntry) bool { return x == e })
		})
	}
}

func (f *Fault) matches(service, op, region string) bool {
	if f.Region != "" && f.Region != region {
		return false
	}
	switch {
	case f.Op == "*" || f.Op == "":
		return true
	case strings.HasSuffix(f.Op, ":*"):
		return strings.TrimSuffix(f.Op, ":*") == service
	default:
		return f.Op == service+":"+op
	}
}

// applyFaults sleeps for matching latency faults and returns the error of the
// first matching failure fault, if any.
func (s *Server) applyFaults(req *request) *apiError {
	var delay time.Duration
	var kind FaultKind
	var races []func()
	var message string
	s.mu.Lock()
	for _, f := range s.faults {
		if f.Times > 0 && f.used >= f.Times {
			continue
		}
		if !f.matches(req.service, req.op, req.region) {
			continue
		}
		if f.Kind == FaultConditionalRace {
			continue // only conditional writes take it: see raceIf
		}
		if f.Kind == FaultLatency {
			f.used++
			delay += f.Latency
			continue
		}
		if f.Kind == FaultCompetingWrite {
			f.used++
			if f.Race != nil {
				races = append(races, f.Race)
			}
			continue
		}
		if kind == 0 {
			f.used++
			kind, message = f.Kind, f.Message
		}
	}
	s.mu.Unlock()
	// Outside the lock: a competing write goes through the emulator's own
	// state methods, which take it.
	for _, race := range races {
		race()
	}
	if delay > 0 {
		sleep(req.r.Context(), delay)
	}
	if kind == 0 {
		return nil
	}
	e := faultError(req, kind)
	if message != "" {
		e.message = message
	}
	return e
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func faultError(req *request, kind FaultKind) *apiError {
	action := req.service + ":" + req.op
	denied := "User: " + req.caller + " is not authorized to perform: " + action + " because no identity-based policy allows the " + action + " action"
	switch req.service {
	case "ssm":
		switch kind {
		case FaultThrottle:
			return apiErr(400, "ThrottlingException", "Rate exceeded")
		case FaultServerError:
			return apiErr(500, "InternalServerError", "An internal error occurred")
		case FaultAccessDenied:
			return apiErr(400, "AccessDeniedException", denied)
		case FaultTooManyUpdates:
			return apiErr(400, "TooManyUpdates", "There are concurrent updates for a resource that supports one update at a time.")
		}
	case "dynamodb":
		return dynamoFault(req, kind, denied)
	case "account":
		switch kind {
		case FaultServerError:
			return apiErr(500, "InternalServerException", "An internal error occurred")
		case FaultAccessDenied:
			return apiErr(403, "AccessDeniedException", denied)
		default:
			return apiErr(429, "TooManyRequestsException", "Rate exceeded")
		}
	default: // Query services
		switch kind {
		case FaultServerError:
			switch req.service {
			case "iam":
				return apiErr(500, "ServiceFailure", "Service Failure")
			case "sns":
				return apiErr(500, "InternalError", "An internal service error occurred")
			default:
				return apiErr(500, "InternalFailure", "An internal error occurred")
			}
		case FaultAccessDenied:
			if req.service == "sns" {
				return apiErr(403, "AuthorizationError", denied)
			}
			return apiErr(403, "AccessDenied", denied)
		case FaultTooManyUpdates:
			if req.service == "iam" {
				return apiErr(409, "ConcurrentModification", "Cannot perform the operation due to a concurrent modification.")
			}
		}
		return apiErr(400, "Throttling", "Rate exceeded")
	}
	return apiErr(500, "InternalFailure", "unknown fault kind")
}

// attemptOf reads the attempt number from an amz-sdk-request header.
func attemptOf(h string) int {
	for _, part := range strings.Split(h, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "attempt="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				return n
			}
		}
	}
	return 0
}
