package guard

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/central"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/metrics"
)

// Ledger is the part of the run ledger the handler uses; *ledger.Store is one.
type Ledger interface {
	Undelivered(ctx context.Context) (ledger.Outbox, error)
	Decide(ctx context.Context, in ledger.RunInput, compose ledger.Compose) (ledger.Outcome, error)
	Delivered(ctx context.Context, a ledger.Alert, messageID string, now time.Time) error
	Failed(ctx context.Context, a ledger.Alert, cause error) error
	DigestSent(ctx context.Context, d ledger.Digest, now time.Time) error
	RecordRun(ctx context.Context, r *dhmc.Report, now time.Time) (ledger.Run, error)
	History(ctx context.Context, since time.Time, limit int, cursor string) (ledger.HistoryPage, error)
}

// Central publishes to the organisation's central view; central.Publisher is one.
type Central interface {
	PublishRun(ctx context.Context, r *dhmc.Report) error
	PublishSummary(ctx context.Context, s central.Summary) error
}

// notify tells on-call about a run through the alert windows: the ledger
// decides which of its finding groups are new, repeats to count, or
// flapping; the alert is recorded in the outbox before it is published and
// marked delivered after. A redelivered event alerts nobody twice. Without
// the ledger, or when it is unavailable, the alert is sent (fail open).
// An alert recorded as the repair started (intent, intent.go) is confirmed
// or replaced with the run's real outcome before it is published.
func (h *Handler) notify(ctx context.Context, log *slog.Logger, r *dhmc.Report, ahead *readingAhead, open []ledger.Problem, intent *intending) error {
	if h.Ledger == nil {
		m, ok := alert.Compose(r)
		if !ok {
			return nil
		}
		m.Attributes = ledger.WithAlertID(m.Attributes, ledger.AlertID(r.Cause.EventID, m.Subject, m.Body, h.now()))
		return h.deliver(ctx, log, r, m, nil)
	}
	if it, ierr := intent.wait(); it != nil || (ierr != nil && !errors.Is(ierr, ledger.ErrDuplicate)) {
		return h.notifyIntended(ctx, log, r, intent.exp, it, ierr, open)
	}
	// No intent recorded (none started, nothing to record, or refused as a
	// duplicate: nothing written): the windows are decided now.
	if !alert.Worth(r) {
		return nil
	}
	now := h.now()
	in := h.runInput(r, now)
	c := h.composer(r, now)
	lctx, cancel := h.ledgerContext(ctx)
	out, err := h.decide(lctx, in, ahead, c.compose)
	cancel()
	if redelivered := decided(ctx, log, r, err); redelivered {
		return nil
	}
	return h.tell(ctx, log, r, c, out, open)
}

// decided logs what the window decision's error means; redelivered is
// true when the event was already alerted (a Lambda retry): nothing to send.
// Any other error means the ledger is unavailable and the alert goes out
// without the windows (ledger.FailOpen).
func decided(ctx context.Context, log *slog.Logger, r *dhmc.Report, err error) (redelivered bool) {
	switch {
	case errors.Is(err, ledger.ErrDuplicate):
		log.InfoContext(ctx, "event already alerted: a redelivery, nothing sent", "eventId", r.Cause.EventID)
		return true
	case err != nil:
		log.WarnContext(ctx, "ledger unavailable: alerting without the windows", "error", err)
	}
	return false
}

// runInput is r's part in the alert windows at now.
func (h *Handler) runInput(r *dhmc.Report, now time.Time) ledger.RunInput {
	signals := ledger.SignalsOf(r, alert.ResultSeverity, now)
	return ledger.RunInput{
		Signals: signals,
		Claim:   ledger.ClaimOf(r.Cause.EventID, signals),
		Now:     now,
		Policy:  h.Policy,
	}
}

// composing composes a run's alert for the windows' decisions and keeps
// the message and the decisions it was composed for.
type composing struct {
	msg     alert.Message
	decided ledger.Decisions
	compose ledger.Compose
}

func (h *Handler) composer(r *dhmc.Report, now time.Time) *composing {
	c := &composing{}
	c.compose = func(d ledger.Decisions) *ledger.Alert {
		c.decided = d
		if !d.Send() {
			return nil
		}
		m, ok := alert.ComposeWith(told(r, d), notesOf(d, now))
		if !ok {
			return nil
		}
		c.msg = m
		return &ledger.Alert{Subject: m.Subject, Body: m.Body, Attributes: m.Attributes, Severity: m.Severity}
	}
	return c
}

// tell publishes the alert the windows decided (out), if any.
func (h *Handler) tell(ctx context.Context, log *slog.Logger, r *dhmc.Report, c *composing, out ledger.Outcome, open []ledger.Problem) error {
	if out.Alert == nil {
		log.InfoContext(ctx, "alert suppressed: repeats within the window are counted for a digest")
		h.alertMetric(ctx, log, false, "")
		return nil
	}
	// The recorded alert's ID goes on the message: re-deliveries carry it too.
	msg := c.msg
	msg.Attributes = ledger.WithAlertID(msg.Attributes, out.Alert.ID)
	var rec *ledger.Alert
	if out.Recorded {
		rec = out.Alert
	}
	err := h.deliver(ctx, log, r, msg, rec)
	if msg.Chat != nil && msg.Chat.Metadata != nil {
		h.openProblems(ctx, log, c.decided, rec, msg.Chat.Metadata.ThreadID, open) // resolved.go
	}
	return err
}

// notesOf turns the window decisions into what the message says.
func notesOf(d ledger.Decisions, now time.Time) alert.Notes {
	n := alert.Notes{LedgerUnavailable: !d.Available}
	for _, g := range d.Groups {
		if !g.Send {
			n.Suppressed++
			continue
		}
		if g.Digest != nil && g.Digest.Count > 0 {
			n.Digests = append(n.Digests, digestNote(*g.Digest))
		}
		if g.Flap != nil {
			f := alert.FlapNote{
				Item: g.Flap.Item, Kind: g.Flap.Kind, LikelyCause: g.Flap.LikelyCause,
				HeldBack: d.Backoff(g.Flap.Item, g.Flap.Kind, now),
			}
			for _, rp := range g.Flap.Repairs {
				f.Repairs = append(f.Repairs, alert.Repair{Actor: rp.Actor, At: rp.At})
			}
			n.Flaps = append(n.Flaps, f)
		}
	}
	return n
}

func digestNote(d ledger.Digest) alert.DigestNote {
	n := alert.DigestNote{Item: d.Item, Kind: d.Kind, Actor: d.Actor, What: d.What, Count: d.Count, Since: d.Since}
	for _, s := range d.Seen {
		if s.Actor != "" && !slices.Contains(n.Actors, s.Actor) {
			n.Actors = append(n.Actors, s.Actor)
		}
	}
	return n
}

// deliver publishes m with a context of its own. On success the outbox
// entry rec (if any) is marked delivered; on failure it stays for the next
// run, and the report goes to the failure queue at once.
func (h *Handler) deliver(ctx context.Context, log *slog.Logger, r *dhmc.Report, m alert.Message, rec *ledger.Alert) error {
	pctx, cancel := h.publishContext(ctx)
	defer cancel()
	id, err := alert.SendID(pctx, h.Publisher, h.TopicARN, m)
	if err == nil {
		h.alertMetric(ctx, log, true, m.Severity)
		if rec != nil {
			if derr := h.Ledger.Delivered(pctx, *rec, id, h.now()); derr != nil {
				log.WarnContext(ctx, "marking the alert delivered", "error", derr)
			}
		}
		return nil
	}
	if rec != nil {
		if ferr := h.Ledger.Failed(pctx, *rec, err); ferr != nil {
			log.WarnContext(ctx, "recording the failed publish", "error", ferr)
		}
	}
	h.toFailureQueue(ctx, log, r, m, err)
	return &AlertError{Err: err}
}

// flushOutbox re-sends what earlier runs could not deliver and the digests
// whose window has closed, before this run adds anything; its outbox says
// which items are held back. One read; nothing else when all is delivered.
func (h *Handler) flushOutbox(runCtx, ctx context.Context, log *slog.Logger) ledger.Outbox {
	box := h.readOutbox(runCtx, ctx, log)
	h.resend(runCtx, ctx, log, box)
	return box
}

// readOutbox is the outbox read of flushOutbox: empty without the ledger or
// when it is unavailable (fail open).
func (h *Handler) readOutbox(runCtx, ctx context.Context, log *slog.Logger) ledger.Outbox {
	if h.Ledger == nil {
		return ledger.Outbox{}
	}
	// The ledger fails open: a slow one may not take the run's time.
	bctx, cancel := h.ledgerContext(runCtx)
	box, err := h.Ledger.Undelivered(bctx)
	cancel()
	if err != nil {
		log.WarnContext(ctx, "ledger unavailable: not re-sending undelivered alerts this run", "error", err)
		return ledger.Outbox{}
	}
	return box
}

// MaxInFlight is the longest a run can hold an alert it recorded as its
// repair started before confirming it: Lambda's longest timeout (900 s).
const MaxInFlight = 15 * time.Minute

// resend re-sends box's undelivered alerts and due digests.
func (h *Handler) resend(runCtx, ctx context.Context, log *slog.Logger, box ledger.Outbox) {
	if h.Ledger == nil {
		return
	}
	h.tellSkipped(runCtx, ctx, log, box)
	now := h.now()
	// Re-sending is the run's work: it takes the run's time, not the
	// reserve this run's own alert needs.
	for _, a := range box.Alerts {
		if a.Expected && now.Sub(a.CreatedAt) < MaxInFlight {
			// Recorded as a repair started, perhaps by a run still
			// repairing beside this one (a storm's events run at once):
			// re-sent as UNCONFIRMED only once that run must have ended.
			continue
		}
		m := alert.Message{Subject: a.Subject, Body: a.Body, Severity: a.Severity, Attributes: redelivered(a)}
		if a.Expected {
			m = unconfirmed(a, m.Attributes) // unconfirmed.go
		}
		m.Chat = alert.PlainCard(m, h.AccountID) // the outbox keeps the text, not the card: chat drops plain text
		pctx, cancel := h.publishContext(runCtx)
		id, err := alert.SendID(pctx, h.Publisher, h.TopicARN, m)
		if err == nil {
			h.alertMetric(ctx, log, true, a.Severity)
			err = h.Ledger.Delivered(pctx, a, id, now)
		} else if ferr := h.Ledger.Failed(pctx, a, err); ferr != nil {
			log.WarnContext(ctx, "recording the failed re-send", "error", ferr)
		}
		cancel()
		if err != nil {
			log.WarnContext(ctx, "re-sending an undelivered alert", "alert", a.ID, "error", err)
		}
	}
	due := box.DueDigests(now)
	if len(due) == 0 {
		return
	}
	notes := make([]alert.DigestNote, 0, len(due))
	severity := ""
	for _, d := range due {
		notes = append(notes, digestNote(d))
		if d.Severity == alert.SeverityHigh || (d.Severity == alert.SeverityMedium && severity != alert.SeverityHigh) {
			severity = d.Severity
		}
	}
	m, ok := alert.DigestMessage(h.AccountID, notes, severity)
	if !ok {
		return
	}
	m.Attributes = ledger.WithAlertID(m.Attributes, ledger.DigestID(due))
	m.Chat = alert.PlainCard(m, h.AccountID) // chat drops plain text
	pctx, cancel := h.publishContext(runCtx)
	defer cancel()
	if _, err := alert.SendID(pctx, h.Publisher, h.TopicARN, m); err != nil {
		// The digests stay pending: the next run tries again.
		log.WarnContext(ctx, "publishing the digest", "error", err)
		return
	}
	h.alertMetric(ctx, log, true, m.Severity)
	for _, d := range due {
		if err := h.Ledger.DigestSent(pctx, d, now); err != nil {
			log.WarnContext(ctx, "marking a digest sent", "group", d.Group, "error", err)
		}
	}
}

// redelivered is the attributes of a re-sent alert: marked so, and with
// the alert's ID, the dedup key of its first publish.
func redelivered(a ledger.Alert) map[string]string {
	out := ledger.WithAlertID(a.Attributes, a.ID)
	out["redelivered"] = "true"
	return out
}

// record writes the run to the ledger when it found something or failed,
// in what is left of the invocation once the alert is out.
func (h *Handler) record(ctx context.Context, log *slog.Logger, r *dhmc.Report) {
	if h.Ledger == nil || (!r.Drifted() && !r.Failed() && r.Cause.ErrorCode == "") {
		return
	}
	rctx, cancel := h.publishContext(ctx)
	defer cancel()
	if _, err := h.Ledger.RecordRun(rctx, r, h.now()); err != nil {
		log.WarnContext(ctx, "recording the run in the ledger", "error", err)
	}
}

// toCentral sends a run that found something to the central view. Its
// failure is logged, not returned: the account's own alert went out, and a
// retry would repeat the run for the organisation's copy.
func (h *Handler) toCentral(ctx context.Context, log *slog.Logger, r *dhmc.Report) {
	if h.Central == nil || !central.Worth(r) {
		return
	}
	pctx, cancel := h.publishContext(ctx)
	defer cancel()
	if err := h.Central.PublishRun(pctx, r); err != nil {
		log.WarnContext(ctx, "publishing to the central view", "error", err)
	}
}

func (h *Handler) alertMetric(ctx context.Context, log *slog.Logger, sent bool, severity string) {
	if err := metrics.EmitAlert(h.Metrics, sent, severity, h.now()); err != nil {
		log.WarnContext(ctx, "writing metrics", "error", err)
	}
}
