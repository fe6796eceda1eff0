package awsemu

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// ControlPrefix is where the emulator answers about itself rather than as
// AWS: plain HTTP GETs, no SigV4, from loopback clients only.
//
//	GET /_emulator/messages[?since=N]  every SNS message published (after the first N), as {"messages":[MessageRecord…]}
//	GET /_emulator/calls[?since=N]     the call log (after the first N calls), as {"calls":[CallRecord…]}
//
// No AWS API path starts with an underscore, so these cannot shadow one.
const ControlPrefix = "/_emulator/"

// MessageRecord is one published SNS message as the control endpoint and the
// standalone command's -messages-log write it.
type MessageRecord struct {
	MessageID  string            `json:"messageId"`
	TopicARN   string            `json:"topicArn"`
	Account    string            `json:"account"`
	Region     string            `json:"region"`
	Subject    string            `json:"subject,omitempty"`
	Message    string            `json:"message"`
	Attributes map[string]string `json:"messageAttributes,omitempty"`
}

// Record is m as a MessageRecord.
func (m Message) Record() MessageRecord {
	return MessageRecord{
		MessageID: m.MessageID, TopicARN: m.TopicARN, Account: m.Account, Region: m.Region,
		Subject: m.Subject, Message: m.Body, Attributes: m.Attributes,
	}
}

// CallRecord is one logged call as the control endpoint writes it: Call with
// JSON names (same fields, so a field added to Call must be added here).
type CallRecord struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Region    string `json:"region,omitempty"`
	Account   string `json:"account"`
	Caller    string `json:"caller"`
	Status    int    `json:"status"`
	ErrorCode string `json:"errorCode,omitempty"`
	Write     bool   `json:"write"`
	Attempt   int    `json:"attempt,omitempty"`
}

// serveControl answers a request under ControlPrefix and reports whether it
// did; every other request is left to the AWS handlers.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, ControlPrefix) {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	fail := func(status int, msg string) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
	}
	if !fromLoopback(r) {
		fail(http.StatusForbidden, "the emulator's control endpoints answer loopback clients only")
		return true
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		fail(http.StatusMethodNotAllowed, "only GET is supported")
		return true
	}
	since := 0
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			fail(http.StatusBadRequest, "since must be a non-negative integer")
			return true
		}
		since = n
	}
	var out any
	switch strings.TrimPrefix(r.URL.Path, ControlPrefix) {
	case "messages":
		msgs := s.Messages()
		recs := make([]MessageRecord, 0, len(msgs))
		for _, m := range msgs[min(since, len(msgs)):] {
			recs = append(recs, m.Record())
		}
		out = map[string]any{"messages": recs}
	case "calls":
		calls := s.Calls()
		recs := make([]CallRecord, 0, len(calls))
		for _, c := range calls[min(since, len(calls)):] {
			recs = append(recs, CallRecord(c))
		}
		out = map[string]any{"calls": recs}
	default:
		fail(http.StatusNotFound, "unknown control endpoint "+r.URL.Path+" (known: "+ControlPrefix+"messages, "+ControlPrefix+"calls)")
		return true
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
	return true
}

// fromLoopback reports whether the request came from this machine. The
// standalone command listens on loopback only, but the handler can be
// mounted anywhere.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
