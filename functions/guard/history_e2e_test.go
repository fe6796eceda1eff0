package main_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

func historyPage(t *testing.T, payload []byte) ledger.HistoryPage {
	t.Helper()
	var p ledger.HistoryPage
	if err := json.Unmarshal(payload, &p); err != nil {
		t.Fatalf("history answered %s: %v", payload, err)
	}
	return p
}

// TestHistoryAnswersTheLedgersRunsNewestFirstPageByPage: five runs that
// found something, in quick succession (a storm), then
// {"action":"history","since":"24h","limit":2} and its cursor until the
// last page; a compliant sweep in between is not a run worth recording.
func TestHistoryAnswersTheLedgersRunsNewestFirstPageByPage(t *testing.T) {
	sb, emu := start(t)
	var order []string // event IDs, oldest first
	for i := range 5 {
		name := "denied-detach-role-policy.json"
		if i == 2 {
			detachManaged(t, sb)
			name = "iam-detach-role-policy.json"
		}
		ev := freshEvent(t, name, nil)
		var e struct {
			Detail struct {
				EventID string `json:"eventID"`
			} `json:"detail"`
		}
		_ = json.Unmarshal(ev, &e)
		order = append(order, e.Detail.EventID)
		if res, _ := invokeTimed(t, sb, ev); res.ErrorType != "" {
			t.Fatalf("run %d: %s %s", i, res.ErrorType, res.ErrorMessage)
		}
		if i == 3 {
			if res, _ := invokeTimed(t, sb, readEvent(t, "scheduler.json")); res.ErrorType != "" {
				t.Fatalf("sweep: %s", res.ErrorMessage)
			}
		}
	}
	slices.Reverse(order)

	var got []string
	cursor := ""
	pages := 0
	for {
		q := map[string]any{"action": "history", "since": "24h", "limit": 2}
		if cursor != "" {
			q["cursor"] = cursor
		}
		b, _ := json.Marshal(q)
		res, _ := invokeTimed(t, sb, b)
		if res.ErrorType != "" {
			t.Fatalf("history: %s %s", res.ErrorType, res.ErrorMessage)
		}
		p := historyPage(t, res.Payload)
		pages++
		if len(p.Runs) > 2 {
			t.Fatalf("page of %d runs, want at most 2", len(p.Runs))
		}
		for _, r := range p.Runs {
			if r.Report == nil {
				t.Errorf("run %s has no report", r.ID)
				continue
			}
			got = append(got, r.EventID)
		}
		if cursor = p.Cursor; cursor == "" {
			break
		}
		if pages > 5 {
			t.Fatal("the cursor never ends")
		}
	}
	t.Logf("history: %d runs in %d pages of 2", len(got), pages)
	if !slices.Equal(got, order) {
		t.Errorf("history = %q,\nwant newest first %q", got, order)
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3 (2, 2, 1)", pages)
	}
	if n := ledgerRuns(emu); n != 5 {
		t.Errorf("ledger holds %d runs, want 5", n)
	}
}

// TestHistoryWithATamperedCursorIsAClearInputError: a cursor changed by
// hand, or one from another query, is refused as bad input, not as a
// failure of the guard.
func TestHistoryWithATamperedCursorIsAClearInputError(t *testing.T) {
	sb, _ := start(t)
	for range 3 {
		if res, _ := invokeTimed(t, sb, freshEvent(t, "denied-detach-role-policy.json", nil)); res.ErrorType != "" {
			t.Fatal(res.ErrorMessage)
		}
	}
	res, _ := invokeTimed(t, sb, []byte(`{"action":"history","since":"24h","limit":1}`))
	p := historyPage(t, res.Payload)
	if p.Cursor == "" {
		t.Fatal("no cursor after the first of 3 runs")
	}
	tampered := map[string]string{
		"changed":       p.Cursor[:len(p.Cursor)-2] + "xy",
		"truncated":     p.Cursor[:len(p.Cursor)/2],
		"not a cursor!": "hello",
	}
	for name, c := range tampered {
		b, _ := json.Marshal(map[string]any{"action": "history", "since": "24h", "limit": 1, "cursor": c})
		res, _ := invokeTimed(t, sb, b)
		if res.ErrorType != "InputError" || !strings.Contains(res.ErrorMessage, "cursor") {
			t.Errorf("%s: %q %q, want an InputError about the cursor", name, res.ErrorType, res.ErrorMessage)
		}
	}
}

// TestHistoryWithoutTheLedgerSaysSo.
func TestHistoryWithoutTheLedgerSaysSo(t *testing.T) {
	sb, _ := start(t, "DHMC_LEDGER_TABLE=")
	res, _ := invokeTimed(t, sb, []byte(`{"action":"history"}`))
	if res.ErrorType == "" || !strings.Contains(res.ErrorMessage, "DHMC_LEDGER_TABLE") {
		t.Errorf("history without a ledger: %q %q, want an error naming DHMC_LEDGER_TABLE", res.ErrorType, res.ErrorMessage)
	}
}
