package trigger

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// HistoryQuery is what {"action":"history"} asks the run ledger for.
type HistoryQuery struct {
	// Since is how far back, as a duration before now ("24h", "90m", "7d").
	Since time.Duration
	// Limit is the page size, 1-100 (default 20).
	Limit int
	// Cursor continues a previous page.
	Cursor string
}

// History limits.
const (
	DefaultHistorySince = 24 * time.Hour
	DefaultHistoryLimit = 20
	MaxHistoryLimit     = 100
	// MaxHistorySince is the ledger's longest retention (3650 days).
	MaxHistorySince = 3650 * 24 * time.Hour
	// DefaultHistoryRetention is the ledger's default retention, the bound
	// of "since" when Config.HistoryRetention is not set.
	DefaultHistoryRetention = 90 * 24 * time.Hour
)

type historyPayload struct {
	Action string `json:"action"`
	Since  string `json:"since"`
	Limit  *int   `json:"limit"`
	Cursor string `json:"cursor"`
}

// parseHistory reads {"action":"history","since":"24h","limit":20,"cursor":"..."}.
func parseHistory(raw []byte, top map[string]json.RawMessage, cfg Config) (Request, error) {
	if err := onlyKeys(top, "history payload", "action", "since", "limit", "cursor"); err != nil {
		return Request{}, err
	}
	var p historyPayload
	if err := json.Unmarshal(raw, &p); err != nil {
		return Request{}, decodeErr("history payload", err)
	}
	q := HistoryQuery{Since: DefaultHistorySince, Limit: DefaultHistoryLimit, Cursor: p.Cursor}
	if p.Since != "" {
		d, err := parseSince(p.Since)
		if err != nil {
			return Request{}, inputErrorf("history payload: since %q: %s", truncate(p.Since, 64), err)
		}
		keep := cfg.HistoryRetention
		if keep <= 0 {
			keep = DefaultHistoryRetention
		}
		if d > keep {
			return Request{}, inputErrorf("history payload: since %q is longer than the ledger keeps runs (%d days): ask for at most %dd",
				truncate(p.Since, 64), keep/(24*time.Hour), keep/(24*time.Hour))
		}
		q.Since = d
	}
	if p.Limit != nil {
		if *p.Limit < 1 || *p.Limit > MaxHistoryLimit {
			return Request{}, inputErrorf("history payload: limit %d must be from 1 to %d", *p.Limit, MaxHistoryLimit)
		}
		q.Limit = *p.Limit
	}
	return Request{Action: ActionHistory, Manual: true, History: &q,
		Cause: dhmc.Cause{Trigger: TriggerManual, EventName: ManualHistory}}, nil
}

type sinceError string

func (e sinceError) Error() string { return string(e) }

// parseSince reads a duration such as "24h", "90m" or "7d" (days are not a
// Go duration unit, but on-call thinks in them).
func parseSince(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, sinceError("want a duration such as 24h, 90m or 7d")
		}
		// Checked before multiplying: 213504 days overflow a Duration
		// (to 25 minutes), and would pass every later check.
		if n > int(MaxHistorySince/(24*time.Hour)) {
			return 0, sinceError("is longer than the ledger keeps anything")
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, sinceError("want a duration such as 24h, 90m or 7d")
		}
	}
	switch {
	case d <= 0:
		return 0, sinceError("must be after zero")
	case d > MaxHistorySince:
		return 0, sinceError("is longer than the ledger keeps anything")
	}
	return d, nil
}
