package trigger

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// Manual actions.
const (
	// ManualCheck reads and reports; it never writes, whatever the mode.
	ManualCheck = "check"
	// ManualRemediate repairs, even when the deployment runs in detect mode:
	// it is how on-call approves a repair.
	ManualRemediate = "remediate"
	// ManualHistory lists the ledger's runs, newest first.
	ManualHistory = "history"
)

// manualPayload is what an operator sends with `aws lambda invoke`:
//
//	{"action":"check"}
//	{"action":"remediate","regions":["eu-west-1"]}
type manualPayload struct {
	Action  string   `json:"action"`
	Regions []string `json:"regions"`
}

// MaxManualRegions bounds the Regions a manual payload may name: more than
// any partition has.
const MaxManualRegions = 64

func parseManual(raw []byte, top map[string]json.RawMessage, cfg Config) (Request, error) {
	if err := noDuplicateKeys(raw, "manual payload"); err != nil {
		return Request{}, err
	}
	var action string
	if err := json.Unmarshal(top["action"], &action); err == nil && action == ManualHistory {
		return parseHistory(raw, top, cfg)
	}
	if err := onlyKeys(top, "manual payload", "action", "regions"); err != nil {
		return Request{}, err
	}
	var p manualPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return Request{}, decodeErr("manual payload", err)
	}
	r := Request{Action: ActionReconcile, Role: true, Manual: true,
		Cause: dhmc.Cause{Trigger: TriggerManual, EventName: p.Action}}
	switch p.Action {
	case ManualCheck:
		r.Mode = dhmc.ModeCheck
	case ManualRemediate:
		r.Mode = dhmc.ModeEnforce
	default:
		return Request{}, inputErrorf("manual payload: unknown action %q: want %q, %q or %q", truncate(p.Action, 64), ManualCheck, ManualRemediate, ManualHistory)
	}
	if len(p.Regions) > MaxManualRegions {
		return Request{}, inputErrorf("manual payload: regions names %d Regions; at most %d are allowed", len(p.Regions), MaxManualRegions)
	}
	for i, region := range p.Regions {
		switch {
		case !dhmc.ValidRegion(region):
			return Request{}, inputErrorf("manual payload: regions[%d] %q is not a Region code such as eu-west-1", i, truncate(region, 64))
		case !cfg.managed(region):
			return Request{}, inputErrorf("manual payload: regions[%d] %q is not a managed Region (managed: %s)", i, region, strings.Join(cfg.Regions, ", "))
		case !slices.Contains(r.Regions, region):
			r.Regions = append(r.Regions, region)
		}
	}
	return r, nil
}

// schedulerPayload is the input template of the EventBridge Scheduler target:
//
//	{"trigger":"schedule","scheduleArn":"<aws.scheduler.schedule-arn>",
//	 "scheduledTime":"<aws.scheduler.scheduled-time>"}
type schedulerPayload struct {
	Trigger       string `json:"trigger"`
	ScheduleARN   string `json:"scheduleArn"`
	ScheduledTime string `json:"scheduledTime"`
}

func parseScheduler(raw []byte, top map[string]json.RawMessage) (Request, error) {
	if err := noDuplicateKeys(raw, "Scheduler payload"); err != nil {
		return Request{}, err
	}
	if err := onlyKeys(top, "Scheduler payload", "trigger", "scheduleArn", "scheduledTime"); err != nil {
		return Request{}, err
	}
	var p schedulerPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return Request{}, decodeErr("Scheduler payload", err)
	}
	if p.Trigger != TriggerSchedule && p.Trigger != TriggerSummary {
		return Request{}, inputErrorf("Scheduler payload: unknown trigger %q: want %q or %q", truncate(p.Trigger, 64), TriggerSchedule, TriggerSummary)
	}
	// Unsubstituted placeholders mean the target's input was not set up as a
	// template: say so rather than sweep with a nonsense cause.
	if p.ScheduleARN != "" && !strings.HasPrefix(p.ScheduleARN, "arn:") {
		return Request{}, inputErrorf("Scheduler payload: scheduleArn %q is not an ARN (is the <aws.scheduler.schedule-arn> placeholder substituted?)", truncate(p.ScheduleARN, 64))
	}
	c := dhmc.Cause{Trigger: TriggerSchedule, EventName: "Scheduler", ActorARN: p.ScheduleARN}
	if p.ScheduledTime != "" {
		t, err := time.Parse(time.RFC3339, p.ScheduledTime)
		if err != nil {
			return Request{}, inputErrorf("Scheduler payload: scheduledTime %q is not an RFC 3339 time (is the <aws.scheduler.scheduled-time> placeholder substituted?)", truncate(p.ScheduledTime, 64))
		}
		c.EventTime = t.UTC().Format(time.RFC3339)
	}
	if p.ScheduleARN != "" {
		c.Actor = fmt.Sprintf("EventBridge Scheduler schedule %s", lastPart(p.ScheduleARN))
	}
	if p.Trigger == TriggerSummary {
		c.Trigger, c.EventName = TriggerSummary, "Daily summary"
		return Request{Action: ActionSummary, Cause: c}, nil
	}
	return Request{Action: ActionReconcile, Role: true, Cause: c}, nil
}

// noDuplicateKeys rejects a payload in which an object repeats a key.
func noDuplicateKeys(raw []byte, what string) error {
	key, path, err := duplicateKey(raw)
	switch {
	case err != nil:
		return &InputError{Msg: what + " is not valid JSON", Err: err}
	case key == "":
		return nil
	case path == "":
		return inputErrorf("%s has the key %q twice: say it once", what, truncate(key, 64))
	}
	return inputErrorf("%s has the key %q twice in %q: say it once", what, truncate(key, 64), truncate(path, 64))
}
