// Package alert turns a run's report into one SNS message for on-call: a
// subject readable on a phone, a body that says what was wrong, who changed
// it, what was done and whether it worked, and the full report as JSON; and,
// for chat channels, the same facts as an Amazon Q Developer card (chat.go).
package alert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// Severity values, for subscription filters on the "severity" attribute.
// Only high should wake someone.
const (
	// SeverityHigh: a repair or a read failed, so the state may still be
	// wrong; a repair was blocked because what it depends on could not be
	// verified, so a person must act; or privileges on a DHMC role were left
	// in place (detect mode, a check, another manager's role, a watched
	// policy's new version), and the role reaches every instance.
	SeverityHigh = "high"
	// SeverityMedium: drift was found and repaired, or left in place
	// without widening what the role may do.
	SeverityMedium = "medium"
	// SeverityLow: someone tried to change DHMC and AWS refused; or only
	// facts for people (another manager's setup left alone, an unreachable
	// Region).
	SeverityLow = "low"
)

// Outcome values, for subscription filters on the "outcome" attribute.
const (
	OutcomeRepaired = "repaired" // every repair worked
	OutcomeDetected = "detected" // drift left in place (detect mode, check, pending update)
	OutcomeFailed   = "failed"   // a repair or a read failed
	OutcomeBlocked  = "blocked"  // a repair was held back: nothing written, a person must act
	OutcomeReported = "reported" // nothing to repair: another manager's setup, an unreachable Region
	OutcomeDenied   = "denied"   // a failed attempt on the role or setting, nothing drifted
	OutcomeDigest   = "digest"   // repeats counted within the alert window
)

// Attribute names on the SNS message.
const (
	AttrSeverity = "severity"
	AttrOutcome  = "outcome"
	AttrAccount  = "account"
)

const (
	// MaxSubject is SNS's limit: subjects must be under 100 characters.
	MaxSubject = 99
	// MaxMessage is SNS's 256 KB limit on the message with its attributes;
	// the body is kept below it with room for the attributes.
	MaxMessage = 256 * 1024
	bodyBudget = MaxMessage - 4*1024
)

// Message is one alert, ready to publish.
type Message struct {
	Subject string
	Body    string
	// Attributes become SNS MessageAttributes of type String.
	Attributes map[string]string
	Severity   string
	Outcome    string
	// Chat is the card for chat channels (Amazon Q Developer in chat
	// applications); nil sends the plain text only.
	Chat *Chat
}

// Compose builds the alert for r. It returns false when there is nothing to
// say: no findings, no errors and no denied attempt. Whatever the number of
// Regions, a run gives at most one message.
func Compose(r *dhmc.Report) (Message, bool) { return compose(r, Notes{}) }

// Worth reports whether r has anything to tell: findings, errors or a
// denied attempt (what Compose would send a message for).
func Worth(r *dhmc.Report) bool {
	if r == nil {
		return false
	}
	outcome, _ := classify(r)
	return outcome != ""
}

func compose(r *dhmc.Report, n Notes) (Message, bool) {
	if r == nil {
		return Message{}, false
	}
	outcome, severity := classify(r)
	if outcome == "" {
		return Message{}, false
	}
	subj := subject(r, outcome)
	if len(n.Flaps) > 0 {
		// An escalation is a change of severity with a reason, sent once.
		severity = SeverityHigh
		subj = clampSubject("FLAPPING: " + subj)
	}
	m := Message{
		Subject:  subj,
		Outcome:  outcome,
		Severity: severity,
		Attributes: map[string]string{
			AttrSeverity: severity,
			AttrOutcome:  outcome,
			AttrAccount:  attrAccount(r.AccountID),
		},
	}
	m.Chat = chat(r, m)
	m.Body = fitMessage(r, m, n)
	return m, true
}

// fitMessage returns the body, shortened until the whole published message
// (the JSON structure with the card, the subject and the attributes) is
// within SNS's limit: the body's JSON escaping and the card both take room.
func fitMessage(r *dhmc.Report, m Message, n Notes) string {
	budget := bodyBudget
	for {
		m.Body = body(r, m.Subject, n, budget)
		s, err := m.Structure()
		if err != nil {
			return m.Body
		}
		over := len(s) + len(m.Subject) + attributesSize(m.Attributes) - MaxMessage
		if over <= 0 || budget < 16*1024 {
			return m.Body
		}
		budget -= over + 1024
	}
}

// attributesSize is what SNS counts for attributes: name, type and value.
func attributesSize(attrs map[string]string) int {
	n := 0
	for k, v := range attrs {
		n += len(k) + len("String") + len(v)
	}
	return n
}

// classify decides the message's outcome and severity; "" means no message.
func classify(r *dhmc.Report) (outcome, severity string) {
	escalated := slices.ContainsFunc(r.Results, escalationLeft)
	high := func(otherwise string) string {
		if escalated {
			return SeverityHigh
		}
		return otherwise
	}
	switch {
	case r.Failed():
		return OutcomeFailed, SeverityHigh
	case r.Blocked():
		return OutcomeBlocked, SeverityHigh
	case slices.ContainsFunc(r.Results, func(x dhmc.Result) bool { return x.Outcome == dhmc.OutcomeDone }):
		return OutcomeRepaired, high(SeverityMedium)
	case slices.ContainsFunc(r.Results, func(x dhmc.Result) bool { return x.Outcome != dhmc.OutcomeReported }):
		return OutcomeDetected, high(SeverityMedium)
	case slices.ContainsFunc(r.Results, func(x dhmc.Result) bool { return x.Kind == dhmc.KindTrustPolicyUnrecognised }):
		return OutcomeReported, high(SeverityMedium)
	case len(r.Results) > 0:
		return OutcomeReported, high(SeverityLow)
	case r.Cause.ErrorCode != "":
		return OutcomeDenied, SeverityLow
	}
	return "", ""
}

// escalationLeft reports a finding that widens what a DHMC role (and so
// every instance in the account) may do, or who may assume it, and that was
// not repaired: a privilege escalation in progress, worth paging for.
func escalationLeft(x dhmc.Result) bool {
	return x.Outcome != dhmc.OutcomeDone && dhmc.Escalates(x.Finding)
}

// places are the distinct Regions of results (in report order), with
// role (an empty Region) first.
func places(results []dhmc.Result, keep func(dhmc.Result) bool) (role bool, regions []string) {
	for _, x := range results {
		if keep != nil && !keep(x) {
			continue
		}
		if x.Region == "" {
			role = true
		} else if !slices.Contains(regions, x.Region) {
			regions = append(regions, x.Region)
		}
	}
	return role, regions
}

// failedPlaces are where repairs failed, plus Regions that could not be read
// ("iam" in Errors is the role).
func failedPlaces(r *dhmc.Report) (role bool, regions []string) {
	role, regions = places(r.Results, func(x dhmc.Result) bool { return x.Outcome == dhmc.OutcomeFailed })
	for _, e := range r.Errors {
		switch {
		case e.Region == dhmc.ErrorPlaceRegions:
			// The account's Region list: no one place.
		case e.Region == dhmc.ErrorPlaceRole || e.Region == "":
			role = true
		case !slices.Contains(regions, e.Region):
			regions = append(regions, e.Region)
		}
	}
	return role, regions
}

// where says "in eu-west-1", "in 3 Regions", "on the role", or "on the role
// and in 2 Regions".
func where(role bool, regions []string) string {
	var rg string
	switch len(regions) {
	case 0:
	case 1:
		rg = "in " + SubjectPart(regions[0], maxSubjectPart)
	default:
		rg = fmt.Sprintf("in %d Regions", len(regions))
	}
	switch {
	case role && rg != "":
		return "on the role and " + rg
	case role:
		return "on the role"
	case rg != "":
		return rg
	}
	return "in the account"
}

// maxSubjectPart bounds one untrusted part of a subject: a subject has
// room for about two.
const maxSubjectPart = 40

// subjectAccount is the account as a subject names it.
func subjectAccount(id string) string { return SubjectPart(orUnknown(id), maxSubjectPart) }

// attrAccount is the account as the message attribute and the card's
// context carry it: a subscription filter matches it, so it stays one
// bounded line of printable text.
func attrAccount(id string) string { return Text(orUnknown(id), MaxShort) }

func orUnknown(s string) string {
	if s == "" {
		return "unknown account"
	}
	return s
}

// Publisher is the one SNS call Send needs.
type Publisher interface {
	Publish(ctx context.Context, params *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Send publishes m to topicARN: with a Chat card, as a JSON message
// structure (plain text by default, the card for https subscribers). Errors
// are returned, never swallowed: a lost alert must fail the invocation.
func Send(ctx context.Context, p Publisher, topicARN string, m Message) error {
	_, err := SendID(ctx, p, topicARN, m)
	return err
}

// SendID is Send returning SNS's message ID, which the outbox records.
func SendID(ctx context.Context, p Publisher, topicARN string, m Message) (string, error) {
	if p == nil {
		return "", errors.New("publishing alert: no SNS client")
	}
	if topicARN == "" {
		return "", errors.New("publishing alert: no topic ARN")
	}
	// The renderers escaped what they show (escape.go); Subject, Block and
	// Text again here hold a message that no renderer made (an outbox item
	// re-sent) to the same rules, and leave a rendered one unchanged.
	attrs := make(map[string]snstypes.MessageAttributeValue, len(m.Attributes))
	for k, v := range withStatus(m.Attributes) { // status firing | resolved (resolved.go)
		if v == "" { // SNS rejects empty attribute values
			continue
		}
		attrs[k] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(Text(v, MaxText))}
	}
	in := &sns.PublishInput{
		TopicArn:          aws.String(topicARN),
		Subject:           aws.String(Subject(m.Subject)),
		Message:           aws.String(Block(m.Body)),
		MessageAttributes: attrs,
	}
	if m.Chat != nil {
		s, err := m.Structure()
		if err != nil {
			return "", fmt.Errorf("publishing alert %q: %w", m.Subject, err)
		}
		in.Message, in.MessageStructure = aws.String(s), aws.String("json")
	}
	out, err := p.Publish(ctx, in)
	if err != nil {
		return "", fmt.Errorf("publishing alert %q to %s: %w", m.Subject, topicARN, err)
	}
	return aws.ToString(out.MessageId), nil
}

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), sep)
}
