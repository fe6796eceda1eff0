package guard_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// cardOf is the chat card a message carries for Amazon Q Developer in chat
// applications (the https protocol), checked for the schema's fixed parts.
func cardOf(t *testing.T, m awsemu.Message) map[string]any {
	t.Helper()
	raw, ok := m.Protocols["https"]
	if !ok {
		t.Errorf("%q was published without a chat card: chat drops it", m.Subject)
		return nil
	}
	var card map[string]any
	if err := json.Unmarshal([]byte(raw), &card); err != nil {
		t.Fatalf("%q: card is not JSON: %v", m.Subject, err)
	}
	content, _ := card["content"].(map[string]any)
	if card["version"] != "1.0" || card["source"] != "custom" || content["textType"] != "client-markdown" || content["description"] == "" {
		t.Errorf("%q: card breaks the custom-notification schema: %s", m.Subject, raw)
	}
	return card
}

// TestEveryKindPublishedReachesChat: the first alert, the flap escalation,
// the digest when the window closes, and an alert re-delivered from the
// outbox all carry the card (issue 15, item 2).
func TestEveryKindPublishedReachesChat(t *testing.T) {
	h, emu := newLedgerHandler(t, ledger.Policy{})
	c := &clock{now: time.Now()}
	h.Now = c.Now
	user := userIAM(emu)
	for i := range 4 {
		detach(t, user)
		if _, err := h.Handle(t.Context(), eventAt(t, "iam-detach-role-policy.json", i, c.now)); err != nil {
			t.Fatal(err)
		}
		c.now = c.now.Add(2 * time.Minute)
	}
	for range 4 { // the window closes: the digest
		c.now = c.now.Add(30 * time.Minute)
		if _, err := h.Handle(t.Context(), event(t, "schedule.json")); err != nil {
			t.Fatal(err)
		}
	}
	// An alert that cannot be published stays in the outbox; the next run
	// re-delivers it.
	remove := emu.Inject(awsemu.Fault{Op: "sns:Publish", Kind: awsemu.FaultServerError})
	detach(t, user)
	_, _ = h.Handle(t.Context(), eventAt(t, "iam-detach-role-policy.json", 99, c.now.Add(48*time.Hour)))
	remove()
	c.now = c.now.Add(48*time.Hour + time.Minute)
	if _, err := h.Handle(t.Context(), event(t, "schedule.json")); err != nil {
		t.Fatal(err)
	}

	msgs := emu.Messages()
	kinds := map[string]bool{}
	for _, m := range msgs {
		cardOf(t, m)
		switch {
		case m.Attributes["redelivered"] == "true":
			kinds["re-delivery"] = true
		case countSubjects([]awsemu.Message{m}, "DHMC digest") == 1:
			kinds["digest"] = true
		default:
			kinds["alert"] = true
		}
	}
	for _, k := range []string{"alert", "digest", "re-delivery"} {
		if !kinds[k] {
			t.Errorf("no %s among %d messages: %q", k, len(msgs), subjectsOf(msgs))
		}
	}
}

func subjectsOf(msgs []awsemu.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Subject)
	}
	return out
}
