package guard_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/trigger"
)

// Paging through the history works across invocations ("since 24h" is a
// new instant each time), and a changed cursor is the caller's bad input.
func TestHistoryPagesAcrossInvocationsAndRefusesAChangedCursor(t *testing.T) {
	h, _ := newLedgerHandler(t, ledger.Policy{})
	c := &clock{now: time.Now()}
	h.Now = c.Now
	for i := range 3 {
		if _, err := h.Handle(t.Context(), eventAt(t, "denied-detach-role-policy.json", i, c.now)); err != nil {
			t.Fatal(err)
		}
		c.now = c.now.Add(time.Minute)
	}
	seen, cursor := 0, ""
	for page := 0; ; page++ {
		c.now = c.now.Add(time.Second) // each page is another invocation
		q := fmt.Sprintf(`{"action":"history","since":"24h","limit":2,"cursor":%q}`, cursor)
		out, err := h.Handle(t.Context(), json.RawMessage(q))
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		p := out.(ledger.HistoryPage)
		seen += len(p.Runs)
		if cursor = p.Cursor; cursor == "" || page > 3 {
			break
		}
	}
	if seen != 3 {
		t.Errorf("pages held %d runs, want 3", seen)
	}

	_, err := h.Handle(t.Context(), json.RawMessage(`{"action":"history","cursor":"bm90LWEtY3Vyc29y.AAAA"}`))
	var ierr *trigger.InputError
	if !errors.As(err, &ierr) || !errors.Is(err, ledger.ErrBadCursor) {
		t.Errorf("changed cursor: %T %v, want an InputError wrapping ErrBadCursor", err, err)
	}
}
