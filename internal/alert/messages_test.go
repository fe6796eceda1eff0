package alert

import (
	"strings"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// sweepCause is a scheduled sweep as the trigger package decodes it: the
// schedule is named, as what started the run.
func sweepCause() dhmc.Cause {
	return dhmc.Cause{Trigger: "schedule", EventName: "Scheduler", EventTime: "2026-03-10T10:00:00Z",
		Actor:    "EventBridge Scheduler schedule dhmc-guard-sweep",
		ActorARN: "arn:aws:scheduler:eu-west-1:123456789012:schedule/default/dhmc-guard-sweep"}
}

// systemSetting is a setting SSM says "System" changed: who is unknown.
func systemSetting(region string, o dhmc.Outcome) dhmc.Result {
	x := settingResult(region, o)
	x.LastModifiedUser, x.LastModifiedDate = dhmc.LastModifiedBySystem, ""
	return x
}

func unreachableIn(region, observed string) dhmc.Result {
	return dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindRegionUnreachable, Region: region, Action: dhmc.ActionNone,
		Observed: observed, Desired: "readable by the guard"}, Outcome: dhmc.OutcomeReported}
}

func elsewhereIn(region string) dhmc.Result {
	return dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindManagedElsewhere, Region: region, Action: dhmc.ActionNone,
		Manager: "Quick Setup (its association AWS-QuickSetup-SSM-DefaultEC2MgmtRole)"}, Outcome: dhmc.OutcomeReported}
}

const (
	notEnabled = "reading service setting (me-south-1): operation error SSM: GetServiceSetting, https response error StatusCode: 400, api error UnrecognizedClientException: The security token included in the request is invalid."
	denied     = "reading service setting (ap-east-1): api error AccessDeniedException: with an explicit deny in a service control policy"
)

// TestEveryMessageKind holds, for each kind of message, its subject, its
// headline (the body's first line and the card's title), what its body
// says and what its card says, together: a wording change shows in one
// place for every sink.
func TestEveryMessageKind(t *testing.T) {
	withCause := func(r *dhmc.Report, c dhmc.Cause) *dhmc.Report { r.Cause = c; return r }
	compose := func(r *dhmc.Report, n Notes) func() (Message, bool) {
		return func() (Message, bool) { return ComposeWith(r, n) }
	}
	failedRun := report("enforce", settingResult("eu-west-1", dhmc.OutcomeFailed), settingResult("eu-central-1", dhmc.OutcomeDone))
	failedRun.Results[0].Error = "UpdateServiceSetting: throttled"
	blockedRun := report("enforce", settingResult("eu-west-1", dhmc.OutcomeBlocked), unreachableIn("me-south-1", notEnabled))
	blockedRun.Results[0].Blocked = "role X exists at path /, not /service-role/"
	everything := report("enforce", settingResult("eu-west-1", dhmc.OutcomeFailed), settingResult("eu-central-1", dhmc.OutcomeBlocked),
		settingResult("us-east-1", dhmc.OutcomeDone), settingResult("us-west-2", dhmc.OutcomeSkipped),
		unreachableIn("me-south-1", notEnabled), elsewhereIn("ap-south-1"),
		dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindAllowedPolicyChanged, Target: policyARN, Action: dhmc.ActionNone}, Outcome: dhmc.OutcomeReported})
	since := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

	tests := []struct {
		name            string
		msg             func() (Message, bool)
		ownCard         bool // a card of its own (else the guard adds PlainCard)
		subject         string
		severity        string
		body, notBody   []string
		inCard, notCard []string
	}{
		{name: "alert: a change seen in CloudTrail, repaired", ownCard: true,
			msg:     compose(withCause(report("enforce", roleResult(dhmc.OutcomeDone)), ctCause()), Notes{}),
			subject: "DHMC drift repaired on the role of 123456789012", severity: SeverityMedium,
			body:   []string{"Who:      user alice", "Changed by: user alice at 2026-03-10T09:14:03Z", "message composed 840 ms in"},
			inCard: []string{"*Who:* `user alice`", "Ask `user alice` why DHMC was changed"}},
		{name: "sweep: the schedule is the trigger, never the actor", ownCard: true,
			msg:     compose(withCause(report("enforce", systemSetting("eu-west-1", dhmc.OutcomeDone)), sweepCause()), Notes{}),
			subject: "DHMC drift repaired in eu-west-1 of 123456789012", severity: SeverityMedium,
			body: []string{"Trigger:  schedule Scheduler (EventBridge Scheduler schedule dhmc-guard-sweep)",
				"Who:      unknown — search CloudTrail for UpdateServiceSetting, ResetServiceSetting on " + dhmc.SettingID + " in eu-west-1",
				"Changed by: " + dhmc.UnknownActor + "; search CloudTrail for UpdateServiceSetting, ResetServiceSetting in eu-west-1"},
			notBody: []string{"By:       EventBridge"},
			inCard:  []string{"*Trigger:* scheduled sweep", "*Who:* unknown — search CloudTrail for UpdateServiceSetting, ResetServiceSetting on /ssm/managed-instance/default-ec2-instance-management-role in `eu-west-1`", "Find who changed DHMC in CloudTrail"},
			notCard: []string{"Who:* `EventBridge", "Ask `EventBridge", "Ask EventBridge"}},
		{name: "sweep: SSM names a principal", ownCard: true,
			msg:     compose(withCause(report("enforce", settingResult("eu-west-1", dhmc.OutcomeDone)), sweepCause()), Notes{}),
			subject: "DHMC drift repaired in eu-west-1 of 123456789012", severity: SeverityMedium,
			inCard:  []string{"*Who:* `SSO user alice@example.com", "Ask `SSO user alice@example.com"},
			notCard: []string{"EventBridge Scheduler schedule dhmc-guard-sweep`"}},
		{name: "detected", ownCard: true,
			msg:     compose(report("detect", settingResult("eu-west-1", dhmc.OutcomeSkipped), elsewhereIn("ap-south-1")), Notes{}),
			subject: "DHMC drift detected (not repaired) in eu-west-1 of 123456789012; 1 managed elsewhere", severity: SeverityMedium,
			body: []string{"[not repaired (detect mode)]"}},
		{name: "blocked", ownCard: true, msg: compose(blockedRun, Notes{}),
			subject: "DHMC repair BLOCKED in eu-west-1 of 123456789012: a person must decide; 1 Region not enabled", severity: SeverityHigh,
			body:   []string{"Blocked:    role X exists at path /", "Why:        Region not enabled"},
			inCard: []string{"`me-south-1` region-unreachable: Region not enabled"}},
		{name: "failed", ownCard: true, msg: compose(failedRun, Notes{}),
			subject: "DHMC repair FAILED in eu-west-1 of 123456789012; 1 repaired", severity: SeverityHigh,
			body:   []string{"Error:      UpdateServiceSetting: throttled", "[FAILED]"},
			inCard: []string{"Read the errors"}},
		{name: "managed elsewhere", ownCard: true,
			msg:     compose(report("enforce", elsewhereIn("eu-west-1"), elsewhereIn("us-east-1")), Notes{}),
			subject: "DHMC left alone: managed by Quick Setup in 2 Regions of 123456789012", severity: SeverityLow,
			body: []string{"Managed by: Quick Setup (its association"}, notBody: []string{"Changed by"}, notCard: []string{"*Who:*"}},
		{name: "unreachable: a Region not enabled is not an access denial", ownCard: true,
			msg:     compose(report("enforce", unreachableIn("me-south-1", notEnabled)), Notes{}),
			subject: "DHMC cannot be checked in me-south-1 of 123456789012: Region not enabled", severity: SeverityLow,
			body:    []string{"Why:        Region not enabled: the Region is not enabled in this account"},
			notBody: []string{"access denied", "denied to", "Changed by"}, inCard: []string{"`me-south-1` region-unreachable: Region not enabled"}},
		{name: "unreachable: denied by a policy", ownCard: true,
			msg:     compose(report("enforce", unreachableIn("ap-east-1", denied)), Notes{}),
			subject: "DHMC cannot be checked in ap-east-1 of 123456789012: access denied", severity: SeverityLow,
			body: []string{"Why:        access denied: the guard's role is denied there"}, notBody: []string{"not enabled"}},
		{name: "unreachable: no endpoint", ownCard: true,
			msg:     compose(report("enforce", unreachableIn("il-central-1", "dial tcp: lookup ssm.il-central-1.amazonaws.com: no such host")), Notes{}),
			subject: "DHMC cannot be checked in il-central-1 of 123456789012: endpoint not reachable", severity: SeverityLow},
		{name: "mixed: each outcome counted on its own", ownCard: true,
			msg: compose(report("enforce", settingResult("eu-west-1", dhmc.OutcomeDone), unreachableIn("me-south-1", notEnabled),
				elsewhereIn("eu-central-1")), Notes{}),
			subject: "DHMC drift repaired in eu-west-1 of 123456789012; 1 Region not enabled; 1 managed elsewhere", severity: SeverityMedium,
			inCard: []string{"`me-south-1` region-unreachable: Region not enabled", "`eu-central-1` managed-elsewhere: reported, nothing to repair", "`eu-west-1` setting-disabled: repaired"}},
		{name: "mixed: too many outcomes for a subject says so, never cut mid-word", ownCard: true, msg: compose(everything, Notes{}),
			subject:  "DHMC repair FAILED in eu-west-1 of 123456789012; 1 BLOCKED; 1 repaired; more in the message",
			severity: SeverityHigh},
		{name: "flap escalation", ownCard: true,
			msg: compose(report("enforce", settingResult("eu-west-1", dhmc.OutcomeDone)), Notes{Flaps: []FlapNote{{Item: "eu-west-1", Kind: "setting-disabled",
				Repairs: []Repair{{Actor: "role Terraform", At: since}, {Actor: "role Terraform", At: since.Add(time.Hour)}, {Actor: "role Terraform", At: since.Add(2 * time.Hour)}}}}}),
			subject: "FLAPPING: DHMC drift repaired in eu-west-1 of 123456789012", severity: SeverityHigh,
			body: []string{"FLAPPING: eu-west-1 setting-disabled was repaired 3 times in 24 h", "by role Terraform"}},
		{name: "window notes: repeats held back are counts", ownCard: true,
			msg: compose(report("enforce", settingResult("eu-west-1", dhmc.OutcomeDone)), Notes{Suppressed: 1,
				Digests: []DigestNote{{Item: "eu-west-1", Kind: "setting-disabled", Count: 2, Since: since}}}),
			subject: "DHMC drift repaired in eu-west-1 of 123456789012", severity: SeverityMedium,
			body: []string{"eu-west-1 setting-disabled: 2 more since 2026-03-10T09:00:00Z", "1 repeat(s) of findings already reported within the alert window are counted, not sent."}},
		{name: "digest",
			msg: func() (Message, bool) {
				return DigestMessage(acct, []DigestNote{{Item: "me-south-1", Kind: "region-unreachable", Count: 3, Since: since}}, SeverityLow)
			},
			subject: "DHMC digest: 3 repeat(s) in 1 group(s) of 123456789012", severity: SeverityLow,
			body: []string{"me-south-1 region-unreachable: 3 more since"}, inCard: []string{"me-south-1 region-unreachable: 3 more since"}},
		{name: "denied attempt", ownCard: true,
			msg:     compose(withCause(report("enforce"), func() dhmc.Cause { c := ctCause(); c.ErrorCode = "AccessDenied"; return c }()), Notes{}),
			subject: "Denied attempt on DHMC role in 123456789012", severity: SeverityLow,
			body: []string{"Result:   the call FAILED with AccessDenied"}, inCard: []string{"AWS refused the call (`AccessDenied`)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := tt.msg()
			if !ok {
				t.Fatal("nothing to send")
			}
			if m.Subject != tt.subject || m.Severity != tt.severity {
				t.Errorf("subject %q (%s), want %q (%s)", m.Subject, m.Severity, tt.subject, tt.severity)
			}
			if len(m.Subject) > MaxSubject || Subject(m.Subject) != m.Subject {
				t.Errorf("subject %q is not a valid SNS subject", m.Subject)
			}
			if headline, _, _ := strings.Cut(m.Body, "\n"); headline != m.Subject {
				t.Errorf("headline %q is not the subject %q", headline, m.Subject)
			}
			if (m.Chat != nil) != tt.ownCard {
				t.Fatalf("card: %v, want %v", m.Chat != nil, tt.ownCard)
			}
			card := m.Chat
			if card == nil {
				card = PlainCard(m, acct)
			}
			if !strings.HasSuffix(card.Content.Title, m.Subject) {
				t.Errorf("card title %q does not say the subject %q", card.Content.Title, m.Subject)
			}
			text := card.Content.Description + "\n" + strings.Join(card.Content.NextSteps, "\n")
			check(t, "body", m.Body, tt.body, tt.notBody)
			check(t, "card", text, tt.inCard, tt.notCard)
		})
	}
}

func check(t *testing.T, what, got string, want, not []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
	for _, w := range not {
		if strings.Contains(got, w) {
			t.Errorf("%s has %q:\n%s", what, w, got)
		}
	}
}
