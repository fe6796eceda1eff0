package awsemu

import (
	"encoding/json"
	"regexp"
)

// Event is one entry EventBridge PutEvents accepted, as a test reads it.
type Event struct {
	// Bus is the EventBusName as given (a name or an ARN).
	Bus, Source, DetailType, Detail string
	Resources                       []string
	Region, Account                 string // the caller's
	ID                              string
}

var eventsOps = map[string]handler{
	"PutEvents": {write: true, fn: (*Server).eventsPutEvents},
}

var busNameRE = regexp.MustCompile(`^([\w.\-/]{1,256}|arn:aws[\w-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[\w.\-/]{1,256})$`)

// maxEntrySize is EventBridge's limit for one entry (and a whole request).
const maxEntrySize = 256 * 1024

type putEventsEntry struct {
	EventBusName *string  `json:"EventBusName"`
	Source       *string  `json:"Source"`
	DetailType   *string  `json:"DetailType"`
	Detail       *string  `json:"Detail"`
	Resources    []string `json:"Resources"`
}

// eventsPutEvents answers as EventBridge does: 1 to 10 entries; each entry
// that lacks a part or carries invalid JSON fails on its own (HTTP 200, a
// per-entry ErrorCode, FailedEntryCount), the others are accepted. Rules,
// targets and bus policies are not emulated: Events() shows what arrived.
func (s *Server) eventsPutEvents(req *request) (any, *apiError) {
	var in struct {
		Entries []putEventsEntry `json:"Entries"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, apiErr(400, "SerializationException", "Start of structure or map found where not expected")
	}
	if n := len(in.Entries); n < 1 || n > 10 {
		return nil, apiErrf(400, "ValidationException", "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1")
	}
	if len(req.body) > maxEntrySize {
		return nil, apiErr(400, "ValidationException", "Total size of the entries in the request is over the limit.")
	}
	type result struct {
		EventID      string `json:"EventId,omitempty"`
		ErrorCode    string `json:"ErrorCode,omitempty"`
		ErrorMessage string `json:"ErrorMessage,omitempty"`
	}
	out := struct {
		Entries          []result `json:"Entries"`
		FailedEntryCount int      `json:"FailedEntryCount"`
	}{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range in.Entries {
		bus := "default"
		if e.EventBusName != nil {
			bus = *e.EventBusName
		}
		var bad string
		switch {
		case e.Source == nil || *e.Source == "":
			bad = "Parameter Source is not valid. Reason: Source is a required argument."
		case e.DetailType == nil || *e.DetailType == "":
			bad = "Parameter DetailType is not valid. Reason: DetailType is a required argument."
		case e.Detail == nil || !json.Valid([]byte(*e.Detail)):
			bad = "Parameter Detail is not valid. Reason: Detail must be a valid JSON object."
		case !busNameRE.MatchString(bus):
			bad = "Parameter EventBusName is not valid."
		}
		if bad != "" {
			out.Entries = append(out.Entries, result{ErrorCode: "InvalidArgument", ErrorMessage: bad})
			out.FailedEntryCount++
			continue
		}
		id := newRequestID()
		s.events = append(s.events, Event{
			Bus: bus, Source: *e.Source, DetailType: *e.DetailType, Detail: *e.Detail,
			Resources: e.Resources, Region: req.region, Account: req.account, ID: id,
		})
		out.Entries = append(out.Entries, result{EventID: id})
	}
	return out, nil
}

// Events returns every entry PutEvents accepted, oldest first.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	copy(out, s.events)
	return out
}
