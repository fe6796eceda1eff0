package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/securityhub"
)

// FindingsStore keeps what was last sent to Security Hub; *ledger.Store is
// one.
type FindingsStore interface {
	LoadFindings(ctx context.Context) (ledger.FindingsMemory, error)
	SaveFindings(ctx context.Context, doc []byte, read int64, now time.Time) error
}

// SecurityHub sends one finding per item to the account's Security Hub.
// Without a Store (no ledger), what was sent is remembered for the life of
// the execution environment only: a new one sends every item once more.
type SecurityHub struct {
	API    securityhub.API
	Target securityhub.Target
	Store  FindingsStore

	mu  sync.Mutex
	mem []byte // without a Store, or when it cannot be read
}

// toSecurityHub upserts the run's items, after the windows decided what
// on-call is told: only what changed since it was last sent, and once a
// day the rest. Its failures are logged, never returned: the alert went
// out, and Lambda's retry would repeat the run for Security Hub's copy.
func (h *Handler) toSecurityHub(ctx context.Context, log *slog.Logger, r *dhmc.Report) {
	sh := h.SecurityHub
	if sh == nil || sh.API == nil {
		return
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := h.now()
	pctx, cancel := h.publishContext(ctx)
	defer cancel()

	doc, version, fromStore := sh.mem, int64(0), false
	if sh.Store != nil {
		lctx, lcancel := h.ledgerContext(pctx)
		m, err := sh.Store.LoadFindings(lctx)
		lcancel()
		if err != nil {
			log.WarnContext(ctx, "ledger unavailable: Security Hub findings compared with this environment's memory", "error", err)
		} else {
			doc, version, fromStore = m.Doc, m.Version, true
		}
	}
	mem, err := securityhub.DecodeMemory(doc)
	if err != nil {
		log.WarnContext(ctx, "Security Hub memory unreadable: every item is sent again", "error", err)
	}
	plan := securityhub.Decide(securityhub.Observe(r, alert.ResultSeverity), mem, sh.Target, now)
	if plan.Empty() {
		return
	}
	res, err := securityhub.Send(pctx, sh.API, plan)
	if err != nil {
		log.WarnContext(ctx, "sending Security Hub findings", "error", err, "imports", len(plan.Import), "resolves", len(plan.Resolve))
	} else {
		log.InfoContext(ctx, "Security Hub findings sent", "imports", len(plan.Import), "resolves", len(plan.Resolve))
	}
	next := plan.Next(mem, sh.Target, res, now)
	if res.NotEnabled && securityhub.TellNotEnabled(mem, now) {
		if h.tellNotEnabled(pctx, log, sh.Target) {
			next.NotEnabledToldAt = now.UTC()
		}
	}
	out := next.Encode()
	sh.mem = out
	if sh.Store == nil || !fromStore {
		return
	}
	if err := sh.Store.SaveFindings(pctx, out, version, now); errors.Is(err, ledger.ErrStale) {
		log.InfoContext(ctx, "Security Hub memory changed by another run: the next run sends what this one left unrecorded")
	} else if err != nil {
		log.WarnContext(ctx, "recording what was sent to Security Hub", "error", err)
	}
}

// tellNotEnabled publishes the one low message (a day) that Security Hub
// is not enabled where the findings go. It reports whether it was sent.
func (h *Handler) tellNotEnabled(ctx context.Context, log *slog.Logger, t securityhub.Target) bool {
	m := notEnabledMessage(t)
	if _, err := alert.SendID(ctx, h.Publisher, h.TopicARN, m); err != nil {
		log.WarnContext(ctx, "publishing that Security Hub is not enabled", "error", err)
		return false
	}
	h.alertMetric(ctx, log, true, m.Severity)
	return true
}

// OutcomeSecurityHubOff is the outcome attribute of that message.
const OutcomeSecurityHubOff = "securityhub-not-enabled"

func notEnabledMessage(t securityhub.Target) alert.Message {
	subj := fmt.Sprintf("DHMC guard: Security Hub is not enabled in %s (%s)", t.AccountID, t.Region)
	body := subj + "\n\n" +
		fmt.Sprintf("Account:  %s\nRegion:   %s\n\n", t.AccountID, t.Region) +
		"SecurityHubFindings is true, but Security Hub refused the findings (InvalidAccessException): it is not enabled in this account and Region.\n" +
		"Nothing else is affected: DHMC is still checked and repaired, and alerts still go out.\n\n" +
		"Either enable Security Hub in " + t.Region + " (or let the organisation's delegated administrator enable it), " +
		"or deploy with SecurityHubFindings=false. The guard tries again within the hour and says this at most once a day.\n"
	attrs := map[string]string{alert.AttrSeverity: alert.SeverityLow, alert.AttrOutcome: OutcomeSecurityHubOff, alert.AttrAccount: t.AccountID}
	return alert.Message{
		Subject: subj, Body: body, Severity: alert.SeverityLow, Outcome: OutcomeSecurityHubOff, Attributes: attrs,
		Chat: &alert.Chat{
			Version: alert.ChatVersion, Source: alert.ChatSource,
			Content: alert.ChatContent{
				TextType:    alert.ChatMarkdown,
				Title:       ":information_source: " + subj,
				Description: fmt.Sprintf("*Account:* `%s`  *Region:* `%s`\nSecurity Hub refused the DHMC findings: it is not enabled here. DHMC itself is still checked and repaired.", t.AccountID, t.Region),
				NextSteps: []string{
					"Enable Security Hub in " + t.Region + ", or deploy with SecurityHubFindings=false",
				},
				Keywords: []string{"dhmc-guard", "securityhub"},
			},
			Metadata: &alert.ChatMetadata{
				ThreadID: "dhmc-guard-" + t.AccountID, Summary: subj, EventType: "dhmc-guard-" + OutcomeSecurityHubOff,
				AdditionalContext: attrs,
			},
		},
	}
}
