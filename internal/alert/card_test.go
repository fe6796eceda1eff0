package alert

import (
	"strings"
	"testing"
	"time"
)

// TestEveryPlainMessageCarriesAValidCard: the messages composed without a
// report (a digest, an outbox re-delivery, the fleet digest, the Security
// Hub notice) get a card that follows the custom-notification schema,
// whatever their text.
func TestEveryPlainMessageCarriesAValidCard(t *testing.T) {
	digest, ok := DigestMessage("111122223333", []DigestNote{{Item: "eu-west-1", Kind: "setting-disabled", Actor: "user alice", Count: 4, Since: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}}, SeverityMedium)
	if !ok {
		t.Fatal("no digest message")
	}
	kinds := map[string]Message{
		"digest": digest,
		"outbox re-delivery": {Subject: "DHMC drift repaired in 1 Region", Body: "DHMC drift repaired\n\nAccount: 111122223333\n",
			Severity: SeverityMedium, Attributes: map[string]string{AttrSeverity: SeverityMedium, AttrOutcome: OutcomeRepaired, "redelivered": "true"}},
		"fleet digest": {Subject: "DHMC fleet readiness: 3 of 40 instances not managed", Body: strings.Repeat("i-0123456789abcdef0 not managed\n", 400),
			Attributes: map[string]string{AttrSeverity: SeverityLow, AttrOutcome: "fleet-digest"}},
		"hostile text": {Subject: "x", Body: "```\n*bold* <!channel> [link](http://evil)\n```", Severity: SeverityHigh},
		"no severity":  {Subject: "plain", Body: "text"},
	}
	for name, m := range kinds {
		t.Run(name, func(t *testing.T) {
			m.Chat = PlainCard(m, "111122223333")
			text, card := structure(t, m)
			if text != m.Body {
				t.Error("default is not the plain-text body")
			}
			checkChatSchema(t, card)
			desc := card["content"].(map[string]any)["description"].(string)
			if strings.Count(desc, "```") != 2 {
				t.Errorf("the body is not one inert code block:\n%s", desc)
			}
			if card["metadata"].(map[string]any)["threadId"] != "dhmc-guard-111122223333" {
				t.Errorf("thread %v", card["metadata"])
			}
		})
	}
}
