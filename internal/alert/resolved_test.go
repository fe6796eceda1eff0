package alert_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/alert/alerttest"
)

// TestTheResolvedMessage holds subject, body, attributes and card of a
// RESOLVED message together: status resolved, the first message's dedup
// key, its thread, how long it lasted; the card valid and re-sent from the
// outbox to the same thread.
func TestTheResolvedMessage(t *testing.T) {
	since := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	thread := alert.ThreadID("111122223333", "iam", "unexpected-managed-policy")
	m := alert.ResolvedMessage(alert.Resolution{
		Account: "111122223333", Item: "iam", Kind: "unexpected-managed-policy", DedupKey: "0a1b2c3d4e5f60718293a4b5",
		Thread: thread, Severity: alert.SeverityHigh, Since: since, At: since.Add(26*time.Hour + 5*time.Minute), Trigger: "schedule",
	})
	if want := "RESOLVED: DHMC unexpected-managed-policy (role) in 111122223333 after 1d 2h 5m"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if thread != "dhmc-guard-111122223333-iam-unexpected-managed-policy" {
		t.Errorf("thread %q", thread)
	}
	want := map[string]string{"status": "resolved", "dedupKey": "0a1b2c3d4e5f60718293a4b5", "severity": "high", "outcome": "resolved", "account": "111122223333", "threadId": thread}
	for k, v := range want {
		if m.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, m.Attributes[k], v)
		}
	}
	for _, s := range []string{"firing since 2026-03-01T10:00:00Z", "Lasted:    1d 2h 5m", "0a1b2c3d4e5f60718293a4b5", "by a schedule run"} {
		if !strings.Contains(m.Body, s) {
			t.Errorf("body lacks %q:\n%s", s, m.Body)
		}
	}
	s, err := m.Structure()
	if err != nil {
		t.Fatal(err)
	}
	if p := alerttest.StructureProblems(s); len(p) != 0 {
		t.Errorf("structure: %v", p)
	}
	t.Logf("figure: RESOLVED as published:\nsubject: %s\nattributes: %v\nstructure: %s", m.Subject, m.Attributes, s)
	if m.Chat == nil || m.Chat.Metadata.ThreadID != thread || !strings.HasPrefix(m.Chat.Content.Title, ":white_check_mark: RESOLVED") {
		t.Errorf("card %+v", m.Chat)
	}
	// Re-sent from the outbox (text and attributes only): the same thread.
	if c := alert.PlainCard(alert.Message{Subject: m.Subject, Body: m.Body, Attributes: m.Attributes}, "111122223333"); c.Metadata.ThreadID != thread {
		t.Errorf("re-delivery thread %q, want %q", c.Metadata.ThreadID, thread)
	}
	// Hostile text stays inert.
	bad := alert.ResolvedMessage(alert.Resolution{Account: "1", Item: "eu-west-1\n*x*`", Kind: "k<@here>", DedupKey: "d", Since: since, At: since})
	if p := alerttest.SubjectProblems(bad.Subject); len(p) != 0 {
		t.Errorf("subject %q: %v", bad.Subject, p)
	}
	bs, _ := bad.Structure()
	if p := alerttest.StructureProblems(bs); len(p) != 0 {
		t.Errorf("hostile structure: %v", p)
	}
}

func TestLasted(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "under a minute", 59 * time.Second: "under a minute", 12 * time.Minute: "12m",
		2 * time.Hour: "2h 0m", 49*time.Hour + time.Minute: "2d 1h 1m",
	} {
		if got := alert.Lasted(d); got != want {
			t.Errorf("Lasted(%v) = %q, want %q", d, got, want)
		}
	}
}
