package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

const acct = "123456789012"

var (
	policyARN = "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"
	wantValue = "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"
)

func settingResult(region string, o dhmc.Outcome) dhmc.Result {
	return dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindSettingDisabled, Region: region, Observed: dhmc.SettingDisabled,
		Desired: wantValue, Action: dhmc.ActionUpdateSetting,
		LastModifiedUser: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice@example.com",
		LastModifiedDate: "2026-03-10T09:14:03Z"}, Outcome: o}
}

func roleResult(o dhmc.Outcome) dhmc.Result {
	return dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindManagedPolicyMissing, Observed: "", Desired: policyARN,
		Action: dhmc.ActionAttachPolicy, Target: policyARN}, Outcome: o}
}

func ctCause() dhmc.Cause {
	return dhmc.Cause{Trigger: "cloudtrail", EventName: "DetachRolePolicy", EventSource: dhmc.EventSourceIAM, EventID: "e3a9c1d2-0007", EventTime: "2026-03-10T09:14:03Z",
		Region: "us-east-1", Actor: "user alice", ActorARN: "arn:aws:iam::123456789012:user/alice", ActorType: "IAMUser",
		SourceIP: "203.0.113.10", UserAgent: "aws-cli/2.22.4"}
}

func report(mode string, results ...dhmc.Result) *dhmc.Report {
	return &dhmc.Report{Cause: dhmc.Cause{Trigger: "schedule"}, AccountID: acct, Mode: mode, StartedAt: "2026-03-10T10:00:00Z",
		DurationMs: 840, Regions: []string{"eu-west-1", "eu-central-1", "us-east-1"}, RoleChecked: true, Results: results,
		Calls: map[string]int{"ssm:GetServiceSetting": 3}, Reads: 6}
}

func TestComposeSendsNothingWhenCompliant(t *testing.T) {
	for name, r := range map[string]*dhmc.Report{
		"nil report":           nil,
		"compliant sweep":      report("enforce"),
		"compliant cloudtrail": func() *dhmc.Report { r := report("enforce"); r.Cause = ctCause(); return r }(),
	} {
		t.Run(name, func(t *testing.T) {
			if m, ok := Compose(r); ok {
				t.Errorf("Compose sent %q", m.Subject)
			}
		})
	}
}

func TestComposeSubjectAndAttributes(t *testing.T) {
	failedRead := report("enforce")
	failedRead.Errors = []dhmc.RegionError{{Region: "eu-west-1", Error: "reading service setting (eu-west-1): throttled"}}
	denied := report("enforce")
	denied.Cause = ctCause()
	denied.Cause.ErrorCode, denied.Cause.ErrorMsg = "AccessDenied", "not authorized"
	deniedSetting := report("enforce")
	deniedSetting.Cause = dhmc.Cause{Trigger: "cloudtrail", EventName: "ResetServiceSetting", EventSource: dhmc.EventSourceSSM, Region: "eu-west-1", ErrorCode: "AccessDenied"}
	roleErr := report("enforce", settingResult("eu-west-1", dhmc.OutcomeDone))
	roleErr.Errors = []dhmc.RegionError{{Region: "iam", Error: "reading role: throttled"}}

	tests := []struct {
		name                       string
		r                          *dhmc.Report
		subject, severity, outcome string
	}{
		{"repaired in three Regions", report("enforce", settingResult("eu-west-1", dhmc.OutcomeDone),
			settingResult("eu-central-1", dhmc.OutcomeDone), settingResult("us-east-1", dhmc.OutcomeDone)),
			"DHMC drift repaired in 3 Regions of 123456789012", SeverityMedium, OutcomeRepaired},
		{"repaired on the role", report("enforce", roleResult(dhmc.OutcomeDone)),
			"DHMC drift repaired on the role of 123456789012", SeverityMedium, OutcomeRepaired},
		{"repaired on the role and a Region", report("enforce", roleResult(dhmc.OutcomeDone), settingResult("eu-west-1", dhmc.OutcomeDone)),
			"DHMC drift repaired on the role and in eu-west-1 of 123456789012", SeverityMedium, OutcomeRepaired},
		{"detected in detect mode", report("detect", settingResult("eu-west-1", dhmc.OutcomeSkipped)),
			"DHMC drift detected (not repaired) in eu-west-1 of 123456789012", SeverityMedium, OutcomeDetected},
		{"privilege escalation left in detect mode", report("detect", dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindUnexpectedManagedPolicy,
			Observed: "arn:aws:iam::aws:policy/AdministratorAccess", Action: dhmc.ActionDetachPolicy}, Outcome: dhmc.OutcomeSkipped}),
			"DHMC drift detected (not repaired) on the role of 123456789012", SeverityHigh, OutcomeDetected},
		{"privilege escalation repaired", report("enforce", dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindUnexpectedInlinePolicy,
			Observed: "backdoor", Action: dhmc.ActionDeleteInlinePolicy}, Outcome: dhmc.OutcomeDone}),
			"DHMC drift repaired on the role of 123456789012", SeverityMedium, OutcomeRepaired},
		{"pending update only", report("enforce", dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindSettingPending, Region: "eu-west-1", Action: dhmc.ActionNone}, Outcome: dhmc.OutcomeInProgress}),
			"DHMC drift detected (not repaired) in eu-west-1 of 123456789012", SeverityMedium, OutcomeDetected},
		{"a failed repair among repairs", report("enforce", settingResult("eu-west-1", dhmc.OutcomeFailed),
			settingResult("eu-central-1", dhmc.OutcomeDone)),
			"DHMC repair FAILED in eu-west-1 of 123456789012; 1 repaired", SeverityHigh, OutcomeFailed},
		{"a Region that could not be read", failedRead, "DHMC check FAILED in eu-west-1 of 123456789012", SeverityHigh, OutcomeFailed},
		{"the role could not be read", roleErr, "DHMC check FAILED on the role of 123456789012; 1 repaired", SeverityHigh, OutcomeFailed},
		{"denied on the role", denied, "Denied attempt on DHMC role in 123456789012", SeverityLow, OutcomeDenied},
		{"denied on a setting", deniedSetting, "Denied attempt on DHMC setting in eu-west-1 of 123456789012", SeverityLow, OutcomeDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := Compose(tt.r)
			if !ok {
				t.Fatal("nothing to send")
			}
			if m.Subject != tt.subject {
				t.Errorf("subject %q, want %q", m.Subject, tt.subject)
			}
			want := map[string]string{AttrSeverity: tt.severity, AttrOutcome: tt.outcome, AttrAccount: acct}
			if !reflect.DeepEqual(m.Attributes, want) {
				t.Errorf("attributes %v, want %v", m.Attributes, want)
			}
			if !strings.HasPrefix(m.Body, m.Subject+"\n") {
				t.Errorf("body does not start with the subject")
			}
		})
	}
}

func TestComposeBodyTellsWhoWhatWhenAndTheResult(t *testing.T) {
	r := report("enforce",
		roleResult(dhmc.OutcomeDone),
		dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindUnexpectedInlinePolicy, Observed: "debug-s3", Desired: "(none)",
			Action: dhmc.ActionDeleteInlinePolicy, Target: "debug-s3",
			Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`}, Outcome: dhmc.OutcomeDone},
		settingResult("eu-west-1", dhmc.OutcomeFailed))
	r.Results[2].Error = "updating service setting (eu-west-1): TooManyUpdates"
	r.Cause = ctCause()
	m, ok := Compose(r)
	if !ok {
		t.Fatal("nothing to send")
	}
	for _, want := range []string{
		"Who:      user alice", "arn:aws:iam::123456789012:user/alice", "203.0.113.10", "aws-cli/2.22.4",
		"2026-03-10T09:14:03Z", "DetachRolePolicy", "e3a9c1d2-0007",
		// role findings: the CloudTrail caller changed them
		"Changed by: user alice at 2026-03-10T09:14:03Z from 203.0.113.10 using aws-cli/2.22.4",
		// setting finding: SSM says who, readable
		"Changed by: SSO user alice@example.com (permission set AdministratorAccess)",
		"Was:        $None", "Should be:  " + wantValue,
		"attach-policy " + policyARN + ": repaired",
		"TooManyUpdates",
		`"Action":"s3:*"`,
	} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Body)
		}
	}
	if first, failed := strings.Index(m.Body, "1. eu-west-1: setting-disabled [FAILED]"), strings.Index(m.Body, "role: managed-policy-missing"); first < 0 || first > failed {
		t.Errorf("the failed repair is not listed first:\n%s", m.Body)
	}
}

func TestComposeSweepFindingOnRoleSaysWhoIsUnknown(t *testing.T) {
	m, _ := Compose(report("detect", roleResult(dhmc.OutcomeSkipped)))
	if !strings.Contains(m.Body, "Changed by: unknown (IAM does not record") {
		t.Errorf("body:\n%s", m.Body)
	}
	if !strings.Contains(m.Body, "not repaired (detect mode)") {
		t.Errorf("body does not say why nothing was repaired:\n%s", m.Body)
	}
}

func TestComposeSettingEventDoesNotBlameCallerForRole(t *testing.T) {
	r := report("enforce", roleResult(dhmc.OutcomeDone))
	r.Cause = ctCause()
	r.Cause.EventName, r.Cause.EventSource, r.Cause.Region = "ResetServiceSetting", dhmc.EventSourceSSM, "eu-west-1"
	m, _ := Compose(r)
	if strings.Contains(m.Body, "Changed by: user alice") {
		t.Errorf("a setting event's caller is named as the role's changer:\n%s", m.Body)
	}
}

// reportJSON returns what follows the JSON marker.
func reportJSON(t *testing.T, body string) string {
	t.Helper()
	_, after, ok := strings.Cut(body, JSONMarker+"\n")
	if !ok {
		t.Fatalf("no JSON marker in body:\n%s", body)
	}
	return after
}

func TestComposeJSONParsesBackToTheReport(t *testing.T) {
	r := report("enforce", roleResult(dhmc.OutcomeDone), settingResult("eu-west-1", dhmc.OutcomeFailed))
	r.Cause = ctCause()
	r.Errors = []dhmc.RegionError{{Region: "eu-central-1", Error: "boom"}}
	m, _ := Compose(r)
	var back dhmc.Report
	if err := json.Unmarshal([]byte(reportJSON(t, m.Body)), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, r) {
		t.Errorf("report changed on the way:\n got %+v\nwant %+v", back, *r)
	}
}

func TestComposeKeepsHugeReportsUnderTheSNSLimit(t *testing.T) {
	var results []dhmc.Result
	for i := range 3000 {
		x := settingResult(fmt.Sprintf("eu-west-%d", i), dhmc.OutcomeFailed)
		x.Error = strings.Repeat("é", 100) // multi-byte: cuts must not split it
		results = append(results, x)
	}
	m, ok := Compose(report("enforce", results...))
	if !ok {
		t.Fatal("nothing to send")
	}
	if n := len(m.Body) + len(m.Subject); n > MaxMessage {
		t.Errorf("message is %d bytes, over %d", n, MaxMessage)
	}
	if !strings.Contains(m.Body, "[report JSON truncated:") || !strings.Contains(m.Body, "[summary truncated") {
		t.Errorf("truncation is not noted")
	}
	if !strings.HasPrefix(m.Body, "DHMC repair FAILED in 3000 Regions of 123456789012") {
		t.Errorf("body starts %q", m.Body[:80])
	}
	if !strings.Contains(strings.ToValidUTF8(m.Body, "\x00"), "é") || strings.Contains(strings.ToValidUTF8(m.Body, "\x00"), "\x00") {
		t.Errorf("body is not valid UTF-8")
	}
}

// randomReport builds a report with random findings; long Region names and
// account IDs stress the subject's length.
func randomReport(rng *rand.Rand) *dhmc.Report {
	outcomes := []dhmc.Outcome{dhmc.OutcomeDone, dhmc.OutcomeFailed, dhmc.OutcomeSkipped, dhmc.OutcomeInProgress}
	regions := []string{"eu-west-1", "ap-southeast-5", "us-gov-west-1", "cn-northwest-1", "il-central-1",
		"ap-northeast-3", strings.Repeat("x", 40) + "-central-1"}
	r := report([]string{"enforce", "detect", "check"}[rng.IntN(3)])
	r.AccountID = []string{acct, "", strings.Repeat("9", 60)}[rng.IntN(3)]
	for range rng.IntN(6) {
		if rng.IntN(3) == 0 {
			r.Results = append(r.Results, roleResult(outcomes[rng.IntN(len(outcomes))]))
		} else {
			r.Results = append(r.Results, settingResult(regions[rng.IntN(len(regions))], outcomes[rng.IntN(len(outcomes))]))
		}
	}
	if rng.IntN(4) == 0 {
		r.Errors = append(r.Errors, dhmc.RegionError{Region: regions[rng.IntN(len(regions))], Error: "x"})
	}
	if rng.IntN(3) == 0 {
		r.Cause = ctCause()
		if rng.IntN(2) == 0 {
			r.Cause.ErrorCode = "AccessDenied"
		}
		if rng.IntN(2) == 0 {
			r.Cause.EventName, r.Cause.Region = "ResetServiceSetting", regions[rng.IntN(len(regions))]
		}
	}
	return r
}

func TestComposeSubjectFitsSNSOverManyReports(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sent := 0
	for i := range 5000 {
		r := randomReport(rng)
		m, ok := Compose(r)
		wantSend := r.Drifted() || r.Failed() || r.Cause.ErrorCode != ""
		if ok != wantSend {
			t.Fatalf("report %d: send=%v, want %v: %+v", i, ok, wantSend, r)
		}
		if !ok {
			continue
		}
		sent++
		if len(m.Subject) > MaxSubject || len(m.Subject) == 0 {
			t.Fatalf("subject is %d characters: %q", len(m.Subject), m.Subject)
		}
		for _, c := range m.Subject {
			if c < 0x20 || c >= 0x7f {
				t.Fatalf("subject has %q: %q", c, m.Subject)
			}
		}
		if (m.Severity == SeverityHigh) != r.Failed() {
			t.Fatalf("severity %s for failed=%v: %q", m.Severity, r.Failed(), m.Subject)
		}
		if r.Failed() && !strings.Contains(m.Subject, "FAILED") {
			t.Fatalf("failure not in subject: %q", m.Subject)
		}
	}
	if sent < 1000 {
		t.Errorf("only %d of 5000 random reports made a message: the generator is too tame", sent)
	}
}

// recorder is an SNS stand-in that keeps what was published and can fail.
type recorder struct {
	got []*sns.PublishInput
	err error
}

func (p *recorder) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	if p.err != nil {
		return nil, p.err
	}
	p.got = append(p.got, in)
	return &sns.PublishOutput{}, nil
}

func TestSendPublishesSubjectBodyAndStringAttributes(t *testing.T) {
	p := &recorder{}
	topic := "arn:aws:sns:eu-west-1:123456789012:dhmc-guard-alerts"
	m, _ := Compose(report("enforce", settingResult("eu-west-1", dhmc.OutcomeDone)))
	m.Attributes["empty"] = ""
	if err := Send(t.Context(), p, topic, m); err != nil {
		t.Fatal(err)
	}
	if len(p.got) != 1 {
		t.Fatalf("published %d messages", len(p.got))
	}
	in := p.got[0]
	if *in.TopicArn != topic || *in.Subject != m.Subject || publishedText(t, in) != m.Body {
		t.Errorf("published %q to %q", *in.Subject, *in.TopicArn)
	}
	got := map[string]string{}
	for k, v := range in.MessageAttributes {
		if *v.DataType != "String" {
			t.Errorf("attribute %s has type %s", k, *v.DataType)
		}
		got[k] = *v.StringValue
	}
	want := map[string]string{AttrSeverity: SeverityMedium, AttrOutcome: OutcomeRepaired, AttrAccount: acct, AttrStatus: StatusFiring}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attributes %v, want %v", got, want)
	}
}

// publishedText is what e-mail subscribers receive: the message, or its
// "default" when it was published as a JSON message structure.
func publishedText(t *testing.T, in *sns.PublishInput) string {
	t.Helper()
	if in.MessageStructure == nil {
		return *in.Message
	}
	if *in.MessageStructure != "json" {
		t.Fatalf("MessageStructure = %q", *in.MessageStructure)
	}
	var s map[string]string
	if err := json.Unmarshal([]byte(*in.Message), &s); err != nil {
		t.Fatalf("message structure is not a JSON object of strings: %v", err)
	}
	return s["default"]
}

func TestSendReturnsPublishErrors(t *testing.T) {
	boom := errors.New("AuthorizationError: not allowed to publish")
	tests := []struct {
		name  string
		p     Publisher
		topic string
		is    error
	}{
		{"publish fails", &recorder{err: boom}, "arn:aws:sns:eu-west-1:123456789012:t", boom},
		{"no client", nil, "arn:aws:sns:eu-west-1:123456789012:t", nil},
		{"no topic", &recorder{}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Send(t.Context(), tt.p, tt.topic, Message{Subject: "s", Body: "b"})
			if err == nil {
				t.Fatal("no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
		})
	}
}

func TestComposeTakesWhoFromCloudTrailAndReadsSystemAsUnknown(t *testing.T) {
	sys := settingResult("eu-west-1", dhmc.OutcomeDone)
	sys.LastModifiedUser = "System"
	// A sweep: SSM's "System" is no one.
	m, _ := Compose(report("enforce", sys))
	if !strings.Contains(m.Body, "Changed by: unknown — see CloudTrail") || strings.Contains(m.Body, "AWS (System)") {
		t.Errorf("sweep body:\n%s", m.Body)
	}
	// The event: its caller, not "System".
	r := report("enforce", sys)
	r.Cause = ctCause()
	r.Cause.EventName, r.Cause.EventSource, r.Cause.Region = "ResetServiceSetting", dhmc.EventSourceSSM, "eu-west-1"
	m, _ = Compose(r)
	if !strings.Contains(m.Body, "Changed by: user alice at 2026-03-10T09:14:03Z") {
		t.Errorf("event body:\n%s", m.Body)
	}
}

func TestComposeBlockedAndReportedFindings(t *testing.T) {
	blockedSetting := settingResult("eu-west-1", dhmc.OutcomeBlocked)
	blockedSetting.Blocked = "role X exists at path /, not /service-role/"
	blockedSetting.Adopt = "RolePath=/"
	managed := func(region string) dhmc.Result {
		return dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindManagedElsewhere, Region: region, Action: dhmc.ActionNone,
			Manager: "Quick Setup", Adopt: "RoleName=AWS-QuickSetup-SSM-DefaultEC2MgmtRole-{region} RolePath=/"}, Outcome: dhmc.OutcomeReported}
	}
	unreachable := dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindRegionUnreachable, Region: "ap-east-1", Action: dhmc.ActionNone,
		Observed: "reading service setting (ap-east-1): api error AccessDeniedException: explicit deny in a service control policy"}, Outcome: dhmc.OutcomeReported}
	changed := dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindAllowedPolicyChanged, Target: "arn:aws:iam::123456789012:policy/B", Action: dhmc.ActionNone,
		Document: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}, Outcome: dhmc.OutcomeReported}
	tests := []struct {
		name                       string
		r                          *dhmc.Report
		subject, severity, outcome string
		body                       []string
	}{
		{"a blocked repair pages", report("enforce", blockedSetting),
			"DHMC repair BLOCKED in eu-west-1 of 123456789012: a person must decide", SeverityHigh, OutcomeBlocked,
			[]string{"Blocked:    role X exists", "Adopt with: RolePath=/", "BLOCKED, nothing written"}},
		{"another manager's setup is left alone, quietly", report("enforce", managed("eu-west-1"), managed("us-east-1")),
			"DHMC left alone: managed by Quick Setup in 2 Regions of 123456789012", SeverityLow, OutcomeReported,
			[]string{"Managed by: Quick Setup", "Adopt with: RoleName=AWS-QuickSetup-SSM-DefaultEC2MgmtRole-{region} RolePath=/"}},
		{"an unreachable Region", report("enforce", unreachable),
			"DHMC cannot be checked in ap-east-1 of 123456789012: access denied", SeverityLow, OutcomeReported, nil},
		{"a watched policy's new version pages with its document", report("enforce", changed),
			"DHMC findings reported on the role of 123456789012", SeverityHigh, OutcomeReported,
			[]string{"New default version's document", `"Action":"*"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := Compose(tt.r)
			if !ok {
				t.Fatal("nothing to send")
			}
			if m.Subject != tt.subject || m.Severity != tt.severity || m.Outcome != tt.outcome {
				t.Errorf("got %q %s %s, want %q %s %s", m.Subject, m.Severity, m.Outcome, tt.subject, tt.severity, tt.outcome)
			}
			for _, want := range tt.body {
				if !strings.Contains(m.Body, want) {
					t.Errorf("body lacks %q:\n%s", want, m.Body)
				}
			}
		})
	}
}

func TestComposeSaysWhatConfigurationWouldAdoptTheSetup(t *testing.T) {
	r := report("check", dhmc.Result{Finding: dhmc.Finding{Kind: dhmc.KindManagedElsewhere, Region: "eu-west-1", Action: dhmc.ActionNone, Manager: "Quick Setup"}, Outcome: dhmc.OutcomeReported})
	r.SuggestedConfig = &dhmc.SuggestedConfig{Parameters: map[string]string{"RoleName": "A-{region}", "RolePath": "/"}, Reason: "DHMC is on in all 1 Regions checked"}
	m, _ := Compose(r)
	if !strings.Contains(m.Body, "Suggested configuration (adopts what is there): RoleName=A-{region} RolePath=/") {
		t.Errorf("body:\n%s", m.Body)
	}
}

func TestComposeEscapesControlCharactersFromEvents(t *testing.T) {
	r := report("enforce", roleResult(dhmc.OutcomeDone))
	r.Cause = ctCause()
	r.Cause.Actor = "user mallory\nWho:      user alice"
	r.Cause.UserAgent = "aws-cli\x1b[2J\u202egnp.exe"
	m, _ := Compose(r)
	summary, _, _ := strings.Cut(m.Body, JSONMarker)
	if strings.Contains(summary, "\nWho:      user alice") || strings.ContainsAny(summary, "\x1b\u202e") {
		t.Errorf("control characters reached the alert text:\n%q", summary)
	}
	if !strings.Contains(summary, `user mallory\u000aWho:`) || !strings.Contains(summary, `aws-cli\u001b[2J\u202egnp.exe`) {
		t.Errorf("escaped text not shown:\n%s", summary)
	}
}
