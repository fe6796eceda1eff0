package fleet

import (
	"context"
	"fmt"
	"strings"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
)

// snsLimit is the most SNS takes in one message (body and attributes).
const snsLimit = 256 * 1024

// SendWithCard publishes the digest with its chat card
// (MessageStructure=json): Amazon Q Developer in chat applications drops
// plain text, so without the card the digest never reaches a channel. The
// structure escapes the body once more (the JSON report's quotes double):
// when that would pass SNS's limit, the JSON report is left out of this
// message, as Compose does when the report alone is too large.
func SendWithCard(ctx context.Context, p Publisher, topicARN string, d Digest) error {
	m := alert.Message{Subject: d.Subject, Body: d.Body, Attributes: d.Attributes, Severity: d.Attributes["severity"], Outcome: "fleet-digest"}
	account := d.Attributes["account"]
	m.Chat = alert.PlainCard(m, account)
	if s, err := m.Structure(); err == nil && len(s)+attributesSize(d.Attributes) > snsLimit {
		text, _, _ := strings.Cut(d.Body, JSONMarker)
		text = truncateBytes(text, MaxBody*4/5) // escaped newlines grow it too
		m.Body = strings.TrimRight(text, "\n") + "\n\n(the JSON report is too large for SNS: invoke the function with {\"action\":\"report\"} to get it)\n"
		m.Chat = alert.PlainCard(m, account)
	}
	if _, err := alert.SendID(ctx, p, topicARN, m); err != nil {
		return fmt.Errorf("publishing the fleet digest: %w", err)
	}
	return nil
}

func attributesSize(attrs map[string]string) int {
	n := 0
	for k, v := range attrs {
		n += len(k) + len(v) + len("String")
	}
	return n
}
