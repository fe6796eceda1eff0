package main_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// Messages exactly true (issue 15 item 1), end to end: what on-call and
// the chat channel receive from the deployed handler.

// optInRegions is the sandbox's Regions plus me-south-1, an opt-in Region
// the account has not enabled: SSM answers UnrecognizedClientException.
const optInRegions = "DHMC_REGIONS=eu-central-1,eu-west-1,us-east-1,me-south-1"

// card is the chat card of m (the "https" protocol's message).
func card(t *testing.T, m awsemu.Message) alert.Chat {
	t.Helper()
	var c alert.Chat
	if err := json.Unmarshal([]byte(m.Protocols[alert.ProtocolChat]), &c); err != nil {
		t.Fatalf("message %q has no chat card: %v", m.Subject, err)
	}
	return c
}

// summary is the body's text for people: up to the run line, without the
// report's JSON (which lists every Region the run checked).
func summary(body string) string {
	s, _, _ := strings.Cut(body, "Run: started")
	return s
}

// quickSetupIn makes Quick Setup the manager of region's setting.
func quickSetupIn(emu *awsemu.Server, region string) {
	d := sandbox.Desired()
	emu.PutRole(acct, awsemu.Role{Name: sandbox.QuickSetupRole(region), Path: "/", TrustPolicy: d.TrustPolicy(),
		AttachedPolicies: []string{d.ManagedPolicyARN()}})
	emu.SetSetting(acct, region, sandbox.QuickSetupRole(region))
}

// TestMixedRunCountsEachOutcomeOnItsOwn: a sweep repairs eu-west-1, finds
// me-south-1 not enabled and eu-central-1 managed by Quick Setup. The one
// message counts each outcome on its own (never "repaired in 3 Regions"),
// words me-south-1 as not enabled (not an access denial), and its card
// names no schedule as the actor.
func TestMixedRunCountsEachOutcomeOnItsOwn(t *testing.T) {
	sb, emu := start(t, optInRegions)
	resetIn(t, sb, "eu-west-1")
	quickSetupIn(emu, "eu-central-1")
	emu.ResetCalls()

	sweep(t, sb)
	m := oneMessage(t, emu)
	want := "DHMC drift repaired in eu-west-1 of " + acct + "; 1 Region not enabled; 1 managed elsewhere"
	if m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	body := summary(m.Body)
	if !strings.HasPrefix(body, want+"\n") {
		t.Errorf("headline is not the subject:\n%s", body)
	}
	for _, w := range []string{"Why:        Region not enabled", "Managed by: Quick Setup", "me-south-1: region-unreachable [reported, nothing to repair]"} {
		if !strings.Contains(body, w) {
			t.Errorf("body lacks %q:\n%s", w, body)
		}
	}
	if strings.Contains(strings.ToLower(body), "access denied") {
		t.Errorf("a Region not enabled is worded as an access denial:\n%s", body)
	}
	c := card(t, m)
	if !strings.HasSuffix(c.Content.Title, want) {
		t.Errorf("card title %q, want the subject", c.Content.Title)
	}
	if !strings.Contains(c.Content.Description, "`me-south-1` region-unreachable: Region not enabled") {
		t.Errorf("card does not say me-south-1 is not enabled:\n%s", c.Content.Description)
	}
	noScheduleActor(t, c)
}

// noScheduleActor fails when the card names the schedule that started a
// sweep as the one who changed DHMC.
func noScheduleActor(t *testing.T, c alert.Chat) {
	t.Helper()
	text := c.Content.Description + "\n" + strings.Join(c.Content.NextSteps, "\n")
	for _, bad := range []string{"*Who:* `EventBridge", "Ask `EventBridge", "Ask EventBridge"} {
		if strings.Contains(text, bad) {
			t.Errorf("the card names the schedule as the actor (%q):\n%s", bad, text)
		}
	}
	if !strings.Contains(text, "*Who:* unknown — search CloudTrail for UpdateServiceSetting, ResetServiceSetting on ") {
		t.Errorf("the card does not say who is unknown and where to look:\n%s", text)
	}
}

// TestASweepsCardNamesNoScheduleAsActor: a sweep started by EventBridge
// Scheduler or by an EventBridge rule repairs a setting SSM says "System"
// changed: the schedule is the trigger; who is unknown, with the CloudTrail
// events to search for.
func TestASweepsCardNamesNoScheduleAsActor(t *testing.T) {
	for _, event := range []string{"scheduler.json", "schedule.json"} {
		t.Run(event, func(t *testing.T) {
			sb, emu := start(t)
			resetIn(t, sb, "us-east-1")
			emu.ResetCalls()
			run(t, sb, readEvent(t, event))
			m := oneMessage(t, emu)
			if want := "DHMC drift repaired in us-east-1 of " + acct; m.Subject != want {
				t.Errorf("subject %q, want %q", m.Subject, want)
			}
			c := card(t, m)
			noScheduleActor(t, c)
			if !strings.Contains(c.Content.Description, "*Trigger:* scheduled sweep") {
				t.Errorf("the card does not name the sweep as the trigger:\n%s", c.Content.Description)
			}
			if body := summary(m.Body); strings.Contains(body, "By:       EventBridge") || !strings.Contains(body, "Who:      unknown — search CloudTrail") {
				t.Errorf("the e-mail names the schedule as the actor:\n%s", body)
			}
		})
	}
}

// TestASuppressedRepeatIsCountedNotListed: me-south-1 (not enabled) is told
// by the first sweep; a second sweep within its day repairs a new drift in
// us-east-1. Its message counts the unreachable Region as held back and
// lists, counts and cards only us-east-1.
func TestASuppressedRepeatIsCountedNotListed(t *testing.T) {
	sb, emu := start(t, optInRegions)
	resetIn(t, sb, "eu-west-1")
	emu.ResetCalls()
	sweep(t, sb)
	first := oneMessage(t, emu)
	if want := "DHMC drift repaired in eu-west-1 of " + acct + "; 1 Region not enabled"; first.Subject != want {
		t.Fatalf("first subject %q, want %q", first.Subject, want)
	}

	resetIn(t, sb, "us-east-1")
	emu.ResetCalls()
	sweep(t, sb)
	msgs := emu.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages %q, want 2", len(msgs), subjects(msgs))
	}
	second := msgs[1]
	if want := "DHMC drift repaired in us-east-1 of " + acct; second.Subject != want {
		t.Errorf("second subject %q, want %q: the held-back Region is not news", second.Subject, want)
	}
	body := summary(second.Body)
	if !strings.Contains(body, "1 repeat(s) of findings already reported within the alert window are counted, not sent.") {
		t.Errorf("the held-back repeat is not counted:\n%s", body)
	}
	if !strings.Contains(body, "Findings (1):") || strings.Contains(body, "me-south-1") || strings.Contains(body, "region-unreachable") {
		t.Errorf("the held-back repeat is listed:\n%s", body)
	}
	if c := card(t, second); strings.Contains(c.Content.Description, "me-south-1") {
		t.Errorf("the card lists the held-back repeat:\n%s", c.Content.Description)
	}
}
