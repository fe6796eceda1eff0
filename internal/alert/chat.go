package alert

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// Chat is an Amazon Q Developer in chat applications (formerly AWS Chatbot)
// custom notification: what a Slack or Microsoft Teams channel subscribed to
// the topic through Amazon Q renders as a card. Amazon Q drops SNS messages
// it cannot read, so a plain-text alert never reaches the channel; this is
// the message's "https" protocol value (the protocol Amazon Q subscribes
// with).
//
// Schema: the "Custom notifications" page of the Amazon Q Developer in chat
// applications administrator guide. version and source are required and
// fixed; everything else is optional.
type Chat struct {
	Version  string        `json:"version"` // ChatVersion
	Source   string        `json:"source"`  // ChatSource
	ID       string        `json:"id,omitempty"`
	Content  ChatContent   `json:"content"`
	Metadata *ChatMetadata `json:"metadata,omitempty"`
}

// ChatContent is what the card shows.
type ChatContent struct {
	// TextType: only "client-markdown" exists: the markdown is rendered in
	// the chat platform's own dialect.
	TextType    string   `json:"textType"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description"`
	NextSteps   []string `json:"nextSteps,omitempty"`
	Keywords    []string `json:"keywords,omitempty"`
}

// ChatMetadata lets Amazon Q thread and summarise notifications.
type ChatMetadata struct {
	// ThreadID groups notifications into one thread (when the channel's
	// preferences allow threads): one thread per problem here (ThreadID).
	ThreadID          string            `json:"threadId,omitempty"`
	Summary           string            `json:"summary,omitempty"`
	EventType         string            `json:"eventType,omitempty"`
	RelatedResources  []string          `json:"relatedResources,omitempty"`
	AdditionalContext map[string]string `json:"additionalContext,omitempty"`
}

// Fixed values of the schema.
const (
	ChatVersion  = "1.0"
	ChatSource   = "custom"
	ChatMarkdown = "client-markdown"
)

// Our limits on the card. The published schema gives types, not lengths;
// these keep a card readable on a phone and well inside what Slack renders
// in one section (3,000 characters), whatever the report's size.
const (
	MaxChatTitle       = 250
	MaxChatDescription = 3000
	MaxChatNextSteps   = 5
	MaxChatStep        = 300
	MaxChatKeywords    = 8
	MaxChatKeyword     = 64
	// chatFindings and chatRegions are how many findings and Regions the
	// description lists by name; the e-mail has them all.
	chatFindings = 8
	chatRegions  = 10
	// maxStepWho keeps a next step naming the actor within MaxChatStep.
	maxStepWho = 160
)

// ProtocolChat is the SNS protocol whose subscribers get the Chat card:
// Amazon Q Developer in chat applications subscribes with https.
const ProtocolChat = "https"

// Structure is the message for Publish with MessageStructure "json":
// "default" carries the plain text, which SNS sends to every protocol
// without a key of its own (email, email-json, sqs, lambda): the text is
// not repeated for "email", so the whole SNS limit stays available to it.
// ProtocolChat carries the card.
func (m Message) Structure() (string, error) {
	if m.Body == "" {
		return "", fmt.Errorf("alert %q has no body", m.Subject)
	}
	s := map[string]string{"default": Block(m.Body)}
	if m.Chat != nil {
		card, err := marshal(m.Chat)
		if err != nil {
			return "", fmt.Errorf("encoding the chat notification: %w", err)
		}
		s[ProtocolChat] = card
	}
	// Every renderer escapes what it shows (escape.go); SafeJSON holds
	// the published message to that whatever a new field forgets.
	out, err := marshal(s)
	return SafeJSON(out), err
}

// marshal encodes JSON without HTML escaping: "<" and "&" in a policy or
// a markdown link stay one byte, not six.
func marshal(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

var severityIcon = map[string]string{
	SeverityHigh:   ":rotating_light:",
	SeverityMedium: ":warning:",
	SeverityLow:    ":information_source:",
}

// chat builds the card for r and its composed message m (subject, outcome
// and severity already decided). Every value from outside (an event, IAM,
// the ledger) reaches the markdown through Code, and the plain fields
// through Text or SubjectPart (escape.go).
func chat(r *dhmc.Report, m Message) *Chat {
	title := clampRunes(strings.TrimSpace(severityIcon[m.Severity]+" "+m.Subject), MaxChatTitle)
	c := &Chat{
		Version: ChatVersion,
		Source:  ChatSource,
		ID:      Text(r.Cause.EventID, MaxShort),
		Content: ChatContent{
			TextType:    ChatMarkdown,
			Title:       title,
			Description: chatDescription(r, m),
			NextSteps:   clampList(nextSteps(r, m), MaxChatNextSteps, MaxChatStep),
			// Keywords are shown as tags: SubjectPart keeps them plain words.
			Keywords: clampList(keywords(r, m), MaxChatKeywords, MaxChatKeyword),
		},
		Metadata: &ChatMetadata{
			ThreadID:  threadOf(r), // per problem: its resolution comes to the same thread
			Summary:   m.Subject,
			EventType: "dhmc-guard-" + m.Outcome,
			AdditionalContext: map[string]string{
				AttrAccount:  attrAccount(r.AccountID),
				AttrOutcome:  m.Outcome,
				AttrSeverity: m.Severity,
			},
		},
	}
	for k, v := range map[string]string{"mode": r.Mode, "trigger": r.Cause.Trigger, "eventId": r.Cause.EventID} {
		if v != "" {
			c.Metadata.AdditionalContext[k] = Text(v, MaxShort)
		}
	}
	if r.Cause.ActorARN != "" {
		c.Metadata.RelatedResources = []string{Text(r.Cause.ActorARN, MaxARN)}
	}
	return c
}

func chatDescription(r *dhmc.Report, m Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*Account:* %s\n", Code(orUnknown(r.AccountID), MaxShort))
	outcome := m.Outcome
	if r.Mode != "" {
		outcome += " (" + SubjectPart(r.Mode, maxSubjectPart) + " mode)"
	}
	fmt.Fprintf(&b, "*Outcome:* %s, severity %s\n", outcome, m.Severity)
	fmt.Fprintf(&b, "*Trigger:* %s\n", triggerText(r.Cause))
	if who := chatWho(r); who != "" {
		fmt.Fprintf(&b, "*Who:* %s\n", Code(who, MaxActor))
	} else if hint := searchHint(r, asCode); hint != "" {
		fmt.Fprintf(&b, "*Who:* %s\n", hint)
	}
	role, regions := places(r.Results, nil)
	if _, errRegions := failedPlaces(r); len(errRegions) > 0 {
		for _, e := range errRegions {
			if !slices.Contains(regions, e) {
				regions = append(regions, e)
			}
		}
	}
	if len(regions) > 0 {
		fmt.Fprintf(&b, "*Regions (%d):* %s\n", len(regions), listSome(codes(regions, MaxShort), chatRegions))
	}
	if role {
		b.WriteString("*Role:* findings on the DHMC role\n")
	}
	if kinds := kindCounts(r); kinds != "" {
		fmt.Fprintf(&b, "*Kinds:* %s\n", kinds)
	}
	if len(r.Results) > 0 {
		fmt.Fprintf(&b, "*Findings (%d):*\n", len(r.Results))
		results := slices.Clone(r.Results)
		slices.SortStableFunc(results, func(a, c dhmc.Result) int {
			return boolRank(a.Outcome == dhmc.OutcomeFailed) - boolRank(c.Outcome == dhmc.OutcomeFailed)
		})
		for i, x := range results {
			if i == chatFindings {
				fmt.Fprintf(&b, "• … and %d more: see the e-mail or the run report\n", len(results)-chatFindings)
				break
			}
			place := x.Region
			if place == "" {
				place = "role"
			}
			what := outcomeText(x, r.Mode)
			if x.Kind == dhmc.KindRegionUnreachable {
				what = UnreachableReason(x.Observed)
			}
			fmt.Fprintf(&b, "• %s %s: %s\n", Code(place, MaxShort), SubjectPart(string(x.Kind), MaxShort), what)
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(&b, "*Errors (%d):* the state may still be wrong\n", len(r.Errors))
		for i, e := range r.Errors {
			if i == chatFindings {
				fmt.Fprintf(&b, "• … and %d more\n", len(r.Errors)-chatFindings)
				break
			}
			place := e.Region
			if place == "iam" || place == "" {
				place = "role"
			}
			fmt.Fprintf(&b, "• %s: %s\n", Code(place, MaxShort), Code(e.Error, 200))
		}
	}
	if r.Cause.ErrorCode != "" && len(r.Results) == 0 {
		fmt.Fprintf(&b, "*Result:* AWS refused the call (%s); nothing changed\n", Code(r.Cause.ErrorCode, MaxShort))
	}
	return clampMarkdown(strings.TrimRight(b.String(), "\n"), MaxChatDescription)
}

func triggerText(c dhmc.Cause) string {
	switch c.Trigger {
	case "cloudtrail":
		return joinNonEmpty(" ", "CloudTrail", Code(c.EventName, MaxShort), codeAfter("in ", c.Region), codeAfter("at ", c.EventTime))
	case "schedule":
		return "scheduled sweep"
	case "":
		return "-"
	}
	return joinNonEmpty(" ", Code(c.Trigger, MaxShort), codeAfter("", c.EventName))
}

// codeAfter is prefix and s as code, or nothing when s is empty.
func codeAfter(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + Code(s, MaxShort)
}

// codes are items each as code.
func codes(items []string, max int) []string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = Code(s, max)
	}
	return out
}

// chatWho is the caller of the CloudTrail event behind the run, or who SSM
// says changed a setting when it names a principal; never the schedule or
// rule that started a sweep. "" when no one is known (searchHint says
// where to look).
func chatWho(r *dhmc.Report) string {
	if a := eventActor(r.Cause); a != "" {
		return a
	}
	for _, x := range r.Results {
		if strings.HasPrefix(x.LastModifiedUser, "arn:") {
			return dhmc.Who(x.LastModifiedUser)
		}
	}
	return ""
}

// kindCounts says "setting-disabled ×3, managed-policy-missing" in report order.
func kindCounts(r *dhmc.Report) string {
	var order []dhmc.Kind
	n := map[dhmc.Kind]int{}
	for _, x := range r.Results {
		if n[x.Kind] == 0 {
			order = append(order, x.Kind)
		}
		n[x.Kind]++
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		if n[k] > 1 {
			parts = append(parts, fmt.Sprintf("%s ×%d", SubjectPart(string(k), MaxShort), n[k]))
		} else {
			parts = append(parts, SubjectPart(string(k), MaxShort))
		}
	}
	return strings.Join(parts, ", ")
}

func nextSteps(r *dhmc.Report, m Message) []string {
	var steps []string
	who := chatWho(r)
	switch m.Outcome {
	case OutcomeFailed:
		steps = append(steps,
			"Read the errors: the DHMC setting or role may still be wrong in the Regions named.",
			`Fix the cause, then invoke the guard with {"action":"check"} to confirm.`)
	case OutcomeRepaired:
		if who != "" {
			steps = append(steps, fmt.Sprintf("Ask %s why DHMC was changed; if it was meant, change the guard's desired state instead.", Code(who, maxStepWho)))
		} else {
			steps = append(steps, "Find who changed DHMC in CloudTrail (the events are named above); if it was meant, change the guard's desired state instead.")
		}
		steps = append(steps, "Repairs again and again by the same actor mean two tools fight over DHMC (Quick Setup, Terraform).")
	case OutcomeDetected:
		if m.Severity == SeverityHigh {
			steps = append(steps, "Every permission on the DHMC role reaches every EC2 instance: remove the extra policy or trust now.")
		}
		steps = append(steps, `Repair it: invoke the guard with {"action":"remediate"}, or deploy it with Mode=enforce.`)
	case OutcomeDenied:
		steps = append(steps, "Nothing changed. Check whether this caller should be trying to change DHMC.")
	}
	return append(steps, "The e-mail alert and the function's log hold the full report (JSON).")
}

func keywords(r *dhmc.Report, m Message) []string {
	kw := []string{"dhmc-guard", m.Severity, m.Outcome}
	if r.AccountID != "" {
		kw = append(kw, SubjectPart(r.AccountID, MaxChatKeyword))
	}
	for _, x := range r.Results {
		if k := SubjectPart(string(x.Kind), MaxChatKeyword); !slices.Contains(kw, k) {
			kw = append(kw, k)
		}
	}
	return kw
}

// listSome joins the first n items and says how many it left out.
func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

// clampRunes keeps s to at most n characters, marking the cut.
func clampRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// clampMarkdown is clampRunes for markdown: a cut never leaves a code
// span open, which would let what followed in it render as markdown.
func clampMarkdown(s string, n int) string {
	c := clampRunes(s, n)
	if c == s || strings.Count(c, "`")%2 == 0 {
		return c
	}
	return c[:strings.LastIndexByte(c, '`')] + "…"
}

func clampList(list []string, items, each int) []string {
	if len(list) > items {
		list = list[:items]
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = clampMarkdown(s, each)
	}
	return out
}
