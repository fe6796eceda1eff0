package guard_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/guard"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// TestAnUnreachableRegionIsResolvedOnlyByARunThatReadsIt: a Region that
// cannot be read is told and stays open; an event run of another Region
// does not read it and resolves nothing; the next sweep reads it and sends
// one RESOLVED naming how long it lasted, with the first message's dedup
// key and in its thread.
func TestAnUnreachableRegionIsResolvedOnlyByARunThatReadsIt(t *testing.T) {
	h, emu := newLedgerHandler(t, ledger.Policy{})
	c := &clock{now: time.Now()}
	h.Now = c.Now
	far := ""
	for _, r := range sandbox.Regions {
		if r != "eu-west-1" && r != sandbox.HomeRegion {
			far = r
		}
	}
	if far == "" {
		t.Fatal("the sandbox has no third Region")
	}
	remove := emu.Inject(awsemu.Fault{Op: "ssm:GetServiceSetting", Region: far, Kind: awsemu.FaultServerError})
	if _, err := h.Handle(t.Context(), event(t, "schedule.json")); err == nil {
		t.Fatal("a sweep with an unreadable Region succeeded")
	}
	msgs := emu.Messages()
	if len(msgs) != 1 || msgs[0].Attributes["status"] != "firing" {
		t.Fatalf("messages %q, want one firing", subjectsOf(msgs))
	}
	first := msgs[0]
	remove()

	c.now = c.now.Add(time.Hour)
	res, err := h.Handle(t.Context(), eventAt(t, "ssm-reset-service-setting.json", 1, c.now))
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := res.(guard.Response); !ok || r.Status != guard.StatusReconciled || r.Report == nil || len(r.Report.Regions) != 1 || r.Report.Regions[0] != "eu-west-1" {
		t.Fatalf("event run %+v, want eu-west-1 reconciled alone", res)
	}
	if got := emu.Messages(); len(got) != 1 {
		t.Fatalf("an event run of eu-west-1 sent %q: it did not read %s", subjectsOf(got[1:]), far)
	}

	c.now = c.now.Add(time.Hour)
	if _, err := h.Handle(t.Context(), event(t, "schedule.json")); err != nil {
		t.Fatal(err)
	}
	msgs = emu.Messages()
	if len(msgs) != 2 {
		t.Fatalf("messages %q, want the first and one RESOLVED", subjectsOf(msgs))
	}
	r := msgs[1]
	if want := "RESOLVED: DHMC region-unreachable (" + far + ")"; !strings.HasPrefix(r.Subject, want) || !strings.HasSuffix(r.Subject, "after 2h 0m") {
		t.Errorf("subject %q, want %q ... after 2h 0m", r.Subject, want)
	}
	if r.Attributes["status"] != "resolved" || r.Attributes["dedupKey"] != first.Attributes["alertId"] || r.Attributes["severity"] != "high" {
		t.Errorf("RESOLVED attributes %v, want status resolved, severity high, dedupKey %q", r.Attributes, first.Attributes["alertId"])
	}
	if !strings.Contains(r.For("https"), `"threadId":"dhmc-guard-`) || !strings.Contains(first.For("https"), r.Attributes["threadId"]) {
		t.Errorf("RESOLVED thread %q is not the first message's:\n%s", r.Attributes["threadId"], first.For("https"))
	}
	if meta, _ := cardOf(t, r)["metadata"].(map[string]any); meta["threadId"] != r.Attributes["threadId"] {
		t.Errorf("card thread %v, attribute %q", meta["threadId"], r.Attributes["threadId"])
	}
	c.now = c.now.Add(time.Hour)
	if _, err := h.Handle(t.Context(), event(t, "schedule.json")); err != nil {
		t.Fatal(err)
	}
	if got := emu.Messages(); len(got) != 2 {
		t.Errorf("a further sweep sent %q", subjectsOf(got[2:]))
	}
}
