package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// tellSkipped reports outbox entries the ledger skipped (undecodable, or
// not written by the guard): logged every run, told through the windows
// as a low note at most once a day (ledger.KindLedgerSkipped). The other
// entries were re-sent regardless; this only says someone should look.
func (h *Handler) tellSkipped(runCtx, ctx context.Context, log *slog.Logger, box ledger.Outbox) {
	if box.Skipped == 0 || h.Ledger == nil {
		return
	}
	log.WarnContext(ctx, "outbox entries skipped", "count", box.Skipped, "entries", box.SkippedKeys)
	now := h.now()
	in := ledger.RunInput{
		Signals: []ledger.Signal{{
			Item: ledger.ItemLedger, Kind: ledger.KindLedgerSkipped, Severity: ledger.SeverityLow,
			At: now, Outcome: "reported",
		}},
		Now: now, Policy: h.Policy,
	}
	var msg alert.Message
	lctx, cancel := h.ledgerContext(runCtx)
	out, err := h.Ledger.Decide(lctx, in, func(d ledger.Decisions) *ledger.Alert {
		if !d.Send() {
			return nil
		}
		msg = skippedMessage(h.AccountID, box)
		return &ledger.Alert{Subject: msg.Subject, Body: msg.Body, Attributes: msg.Attributes, Severity: msg.Severity}
	})
	cancel()
	if err != nil && !errors.Is(err, ledger.ErrDuplicate) {
		log.WarnContext(ctx, "ledger unavailable: telling the skipped entries without the windows", "error", err)
	}
	if out.Alert == nil {
		return
	}
	msg.Attributes = out.Alert.Attributes
	pctx, cancel := h.publishContext(runCtx)
	defer cancel()
	id, err := alert.SendID(pctx, h.Publisher, h.TopicARN, msg)
	switch {
	case err != nil:
		log.WarnContext(ctx, "publishing the skipped-entries note", "error", err)
		if out.Recorded {
			_ = h.Ledger.Failed(pctx, *out.Alert, err)
		}
	case out.Recorded:
		if err := h.Ledger.Delivered(pctx, *out.Alert, id, h.now()); err != nil {
			log.WarnContext(ctx, "marking the skipped-entries note delivered", "error", err)
		}
	}
}

// skippedMessage names the skipped entries (keys and reasons are printable
// ASCII, bounded, from the ledger) and what to do about them.
func skippedMessage(account string, box ledger.Outbox) alert.Message {
	acct := account
	if acct == "" {
		acct = "unknown account"
	}
	subj := fmt.Sprintf("DHMC ledger: %d undecodable ledger item(s) skipped in %s", box.Skipped, acct)
	if len(subj) > alert.MaxSubject {
		subj = subj[:alert.MaxSubject]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\nAccount:  %s\n\n", subj, acct)
	fmt.Fprintf(&b, "%d entry(ies) of the run ledger's outbox (partition OUTBOX) could not be decoded or were not written by the guard. "+
		"They were skipped; every other re-delivery, digest and back-off went ahead. "+
		"Only the guard's role may write the table (its resource policy): an entry it did not write means a principal "+
		"that can bypass that policy wrote it, or a bug. Inspect, then delete them:\n\n", box.Skipped)
	for _, s := range box.SkippedKeys {
		fmt.Fprintf(&b, "  - sk %s: %s\n", s.Key, s.Reason)
	}
	if n := box.Skipped - len(box.SkippedKeys); n > 0 {
		fmt.Fprintf(&b, "  - and %d more\n", n)
	}
	b.WriteString("\nThis note is sent at most once a day while such entries remain.\n")
	return alert.Message{
		Subject: subj, Body: b.String(), Severity: alert.SeverityLow, Outcome: alert.OutcomeReported,
		Attributes: map[string]string{alert.AttrSeverity: alert.SeverityLow, alert.AttrOutcome: alert.OutcomeReported, alert.AttrAccount: acct},
	}
}
