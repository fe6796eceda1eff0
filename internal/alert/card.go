package alert

import (
	"cmp"
	"strings"
)

// PlainCard is the chat card of a message composed without a report: an
// outbox re-delivery (the ledger keeps the text, not the card), a digest,
// the fleet digest. Amazon Q Developer in chat applications drops what it
// cannot read, so without a card these never reach a channel. The body
// goes in a code block: plain text as written, never read as markdown.
func PlainCard(m Message, account string) *Chat {
	acct := orUnknown(account)
	outcome := m.Outcome
	if outcome == "" {
		outcome = m.Attributes[AttrOutcome]
	}
	sev := m.Severity
	if sev == "" {
		sev = m.Attributes[AttrSeverity]
	}
	ctx := map[string]string{AttrAccount: acct}
	for k, v := range map[string]string{AttrOutcome: outcome, AttrSeverity: sev} {
		if v != "" {
			ctx[k] = v
		}
	}
	for k, v := range m.Attributes {
		if _, ok := ctx[k]; !ok && v != "" && len(ctx) < 10 {
			ctx[k] = v
		}
	}
	body := strings.ReplaceAll(m.Body, "```", "'''")
	desc := "```\n" + clampRunes(body, MaxChatDescription-len("```\n\n```")) + "\n```"
	return &Chat{
		Version: ChatVersion,
		Source:  ChatSource,
		Content: ChatContent{
			TextType:    ChatMarkdown,
			Title:       clampRunes(strings.TrimSpace(severityIcon[sev]+" "+m.Subject), MaxChatTitle),
			Description: desc,
			Keywords:    clampList(nonEmpty("dhmc-guard", outcome, sev), MaxChatKeywords, MaxChatKeyword),
		},
		Metadata: &ChatMetadata{
			ThreadID:          cmp.Or(m.Attributes[AttrThread], "dhmc-guard-"+strings.ReplaceAll(acct, " ", "-")),
			Summary:           clampRunes(m.Subject, MaxChatTitle),
			EventType:         "dhmc-guard-" + outcome,
			AdditionalContext: ctx,
		},
	}
}

func nonEmpty(xs ...string) []string {
	var out []string
	for _, x := range xs {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}
