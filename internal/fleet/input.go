package fleet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// MaxPayload is the largest input ParseInput reads (an asynchronous Lambda
// payload is at most 256 KB).
const MaxPayload = 256 * 1024

// MaxRegions bounds an on-demand request's Regions (no partition has more).
const MaxRegions = 64

// Triggers as they appear in Cause.Trigger.
const (
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
)

// ActionReport is the one on-demand action.
const ActionReport = "report"

// Request is a decoded input: which Regions (nil: the configured ones) and
// why.
type Request struct {
	Regions []string
	Cause   Cause
}

// InputError is an input the function cannot accept. Its name is what
// Lambda shows as errorType.
type InputError struct {
	Msg string
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

// ParseInput decodes one of:
//
//	{"trigger":"schedule","scheduleArn":"…","scheduledTime":"…"}   (EventBridge Scheduler)
//	{"action":"report"}  or  {"action":"report","regions":["eu-west-1",…]}
//
// Unknown fields, repeated keys, Regions that are not Region codes, more
// than MaxRegions or a repeated Region are an *InputError naming what was
// wrong.
func ParseInput(raw []byte) (Request, error) {
	if len(raw) > MaxPayload {
		return Request{}, inputErrorf("payload is %d bytes, more than %d", len(raw), MaxPayload)
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Request{}, inputErrorf(`payload must be a JSON object such as {"action":"report"}`)
	}
	if err := noDuplicateKeys(trimmed); err != nil {
		return Request{}, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return Request{}, &InputError{Msg: "payload is not valid JSON", Err: err}
	}
	switch {
	case top["action"] != nil:
		return parseReport(trimmed)
	case top["trigger"] != nil:
		return parseSchedule(trimmed)
	}
	return Request{}, inputErrorf(`payload has neither "action" nor "trigger": want {"action":"report"} or the Scheduler payload {"trigger":"schedule",…}`)
}

func strictDecode(raw []byte, what string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return inputErrorf("%s: field %q has the wrong type (JSON %s)", what, typeErr.Field, typeErr.Value)
		}
		return &InputError{Msg: what + " could not be decoded", Err: err}
	}
	return nil
}

func parseReport(raw []byte) (Request, error) {
	var p struct {
		Action  string   `json:"action"`
		Regions []string `json:"regions"`
	}
	if err := strictDecode(raw, "report request", &p); err != nil {
		return Request{}, err
	}
	if p.Action != ActionReport {
		return Request{}, inputErrorf("unknown action %q: want %q", truncate(p.Action, 64), ActionReport)
	}
	if len(p.Regions) > MaxRegions {
		return Request{}, inputErrorf("regions lists %d Regions, at most %d are allowed", len(p.Regions), MaxRegions)
	}
	for i, r := range p.Regions {
		if !dhmc.ValidRegion(r) {
			return Request{}, inputErrorf("regions[%d] %q is not a Region code such as eu-west-1", i, truncate(r, 64))
		}
		if slices.Contains(p.Regions[:i], r) {
			return Request{}, inputErrorf("regions[%d] repeats %s", i, r)
		}
	}
	return Request{Regions: p.Regions, Cause: Cause{Trigger: TriggerManual}}, nil
}

func parseSchedule(raw []byte) (Request, error) {
	var p struct {
		Trigger       string `json:"trigger"`
		ScheduleARN   string `json:"scheduleArn"`
		ScheduledTime string `json:"scheduledTime"`
	}
	if err := strictDecode(raw, "Scheduler payload", &p); err != nil {
		return Request{}, err
	}
	if p.Trigger != TriggerSchedule {
		return Request{}, inputErrorf("unknown trigger %q: want %q", truncate(p.Trigger, 64), TriggerSchedule)
	}
	// Unsubstituted placeholders mean the target's input is not a template.
	if p.ScheduleARN != "" && !strings.HasPrefix(p.ScheduleARN, "arn:") {
		return Request{}, inputErrorf("scheduleArn %q is not an ARN (is the <aws.scheduler.schedule-arn> placeholder substituted?)", truncate(p.ScheduleARN, 64))
	}
	c := Cause{Trigger: TriggerSchedule, ScheduleARN: p.ScheduleARN}
	if p.ScheduledTime != "" {
		t, err := time.Parse(time.RFC3339, p.ScheduledTime)
		if err != nil {
			return Request{}, inputErrorf("scheduledTime %q is not an RFC 3339 time (is the <aws.scheduler.scheduled-time> placeholder substituted?)", truncate(p.ScheduledTime, 64))
		}
		c.ScheduledTime = t.UTC().Format(time.RFC3339)
	}
	return Request{Cause: c}, nil
}

// noDuplicateKeys walks the JSON and refuses an object that repeats a key:
// encoding/json would silently keep the last one.
func noDuplicateKeys(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return &InputError{Msg: "payload is not valid JSON", Err: err}
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return &InputError{Msg: "payload is not valid JSON", Err: err}
				}
				key, _ := kt.(string)
				if seen[key] {
					return inputErrorf("key %q appears more than once in %s", truncate(key, 64), path)
				}
				seen[key] = true
				if err := walk(path + "." + key); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		}
		if err != nil {
			return &InputError{Msg: "payload is not valid JSON", Err: err}
		}
		return nil
	}
	if err := walk("payload"); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return inputErrorf("payload has data after its JSON object")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}
