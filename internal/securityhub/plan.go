package securityhub

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// Refresh is how often an unchanged finding is imported again: its
// UpdatedAt then says the guard still watches the item (Security Hub
// deletes findings not updated for 90 days).
const Refresh = 24 * time.Hour

// MaxBatch is the most findings one BatchImportFindings or
// BatchUpdateFindings call takes.
const MaxBatch = 100

// Sent is what was last sent for one item.
type Sent struct {
	Status string   `json:"status"`
	Kinds  []string `json:"kinds,omitempty"`
	// CreatedAt is the finding's first import: re-imports keep it.
	CreatedAt time.Time `json:"createdAt"`
	SentAt    time.Time `json:"sentAt"`
	// Resolved: Workflow.Status RESOLVED was set (BatchUpdateFindings).
	// Security Hub resets it to NEW when the status leaves PASSED.
	Resolved bool `json:"resolved,omitempty"`
}

// Memory is what the guard remembers between runs: the last sent state of
// each item, and when it last told on-call that Security Hub is not
// enabled. It is kept in the run ledger as one JSON document.
type Memory struct {
	Items map[string]Sent `json:"items"`
	// NotEnabledAt is when Security Hub last refused the import with
	// InvalidAccessException; NotEnabledToldAt when on-call was told.
	NotEnabledAt     time.Time `json:"notEnabledAt,omitzero"`
	NotEnabledToldAt time.Time `json:"notEnabledToldAt,omitzero"`
}

// DecodeMemory reads a Memory; empty input is an empty Memory.
func DecodeMemory(b []byte) (Memory, error) {
	m := Memory{Items: map[string]Sent{}}
	if len(b) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return Memory{Items: map[string]Sent{}}, fmt.Errorf("decoding the Security Hub memory: %w", err)
	}
	if m.Items == nil {
		m.Items = map[string]Sent{}
	}
	return m, nil
}

// Encode writes m for the ledger.
func (m Memory) Encode() []byte {
	b, _ := json.Marshal(m) // plain data: cannot fail
	return b
}

// Plan is what to send for one run.
type Plan struct {
	// Import are the findings to create or update, at most MaxBatch per call.
	Import []types.AwsSecurityFinding
	// Resolve are the findings whose Workflow.Status is to be set RESOLVED
	// (BatchImportFindings cannot change Workflow once a finding exists).
	Resolve []types.AwsSecurityFindingIdentifier
	// items are the item keys of Import, in order; resolveItems of Resolve.
	items, resolveItems []string
	next                Memory
}

// Empty reports whether there is nothing to send.
func (p Plan) Empty() bool { return len(p.Import) == 0 && len(p.Resolve) == 0 }

// Retry is how long a refused import (Security Hub not enabled) keeps the
// guard from trying again: once an hour, so enabling Security Hub shows up
// soon without a failed call on every sweep.
const Retry = time.Hour

// Decide plans a run: an item is imported when its status (or, when not
// passing, its kinds) changed since it was last sent, or when it was last
// sent a day ago or more; never because another sweep saw it unchanged. A
// passing item whose finding is not yet RESOLVED is resolved.
func Decide(obs []Observation, mem Memory, t Target, now time.Time) Plan {
	now = now.UTC()
	p := Plan{next: Memory{Items: map[string]Sent{}, NotEnabledAt: mem.NotEnabledAt, NotEnabledToldAt: mem.NotEnabledToldAt}}
	for k, v := range mem.Items {
		p.next.Items[k] = v
	}
	if !mem.NotEnabledAt.IsZero() && now.Sub(mem.NotEnabledAt) < Retry {
		return p
	}
	for _, o := range obs {
		prev, seen := mem.Items[o.Item]
		changed := !seen || prev.Status != o.Status || (o.Status != StatusPassed && !slices.Equal(prev.Kinds, o.Kinds))
		due := seen && now.Sub(prev.SentAt) >= Refresh
		created := prev.CreatedAt
		if !seen {
			created = now
		}
		s := Sent{Status: o.Status, Kinds: o.Kinds, CreatedAt: created, SentAt: prev.SentAt, Resolved: prev.Resolved}
		if changed || due {
			p.Import = append(p.Import, Finding(o, t, created, now))
			p.items = append(p.items, o.Item)
			s.SentAt = now
			if prev.Status == StatusPassed && o.Status != StatusPassed {
				s.Resolved = false // Security Hub resets Workflow to NEW
			}
		}
		p.next.Items[o.Item] = s
		if o.Status == StatusPassed && !s.Resolved {
			p.Resolve = append(p.Resolve, types.AwsSecurityFindingIdentifier{
				Id: aws.String(t.FindingID(o.Item)), ProductArn: aws.String(t.ProductARN()),
			})
			p.resolveItems = append(p.resolveItems, o.Item)
		}
	}
	return p
}

// Result says what Security Hub accepted, by finding Id.
type Result struct {
	// FailedImports and FailedResolves are the Ids Security Hub refused;
	// those items are tried again at the next run.
	FailedImports, FailedResolves []string
	// Imported and Resolved: whether the calls were made at all (a call
	// that failed as a whole leaves every item as it was).
	Imported, Resolved bool
	// NotEnabled: Security Hub refused with InvalidAccessException.
	NotEnabled bool
}

// Next is the Memory after the plan was carried out as res says: what
// failed keeps its previous state, so the next run sends it again.
func (p Plan) Next(prev Memory, t Target, res Result, now time.Time) Memory {
	next := Memory{Items: map[string]Sent{}, NotEnabledAt: p.next.NotEnabledAt, NotEnabledToldAt: p.next.NotEnabledToldAt}
	for k, v := range p.next.Items {
		next.Items[k] = v
	}
	if res.NotEnabled {
		next.NotEnabledAt = now.UTC()
	} else if res.Imported || res.Resolved {
		next.NotEnabledAt = time.Time{}
	}
	restore := func(item string) {
		if v, ok := prev.Items[item]; ok {
			next.Items[item] = v
		} else {
			delete(next.Items, item)
		}
	}
	for _, item := range p.items {
		if !res.Imported || slices.Contains(res.FailedImports, t.FindingID(item)) {
			restore(item)
		}
	}
	for _, item := range p.resolveItems {
		failed := !res.Resolved || slices.Contains(res.FailedResolves, t.FindingID(item))
		// A finding that was not imported does not exist yet: it cannot
		// be resolved either, and stays as restored above.
		if s, ok := next.Items[item]; ok && s.Status == StatusPassed {
			s.Resolved = !failed
			next.Items[item] = s
		}
	}
	return next
}

// TellNotEnabled reports whether on-call is to be told, now, that Security
// Hub is not enabled: at most once a day.
func TellNotEnabled(m Memory, now time.Time) bool {
	return m.NotEnabledToldAt.IsZero() || now.Sub(m.NotEnabledToldAt) >= 24*time.Hour
}

// Batches splits n items into calls of at most MaxBatch.
func Batches[T any](xs []T) [][]T {
	var out [][]T
	for len(xs) > 0 {
		n := min(len(xs), MaxBatch)
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	return out
}
