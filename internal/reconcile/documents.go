package reconcile

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// Archiver keeps a deleted inline policy's document whole, somewhere
// durable, before the policy is deleted; the run ledger is one
// (ledger.Store.ArchiveDocument).
type Archiver interface {
	ArchiveDocument(ctx context.Context, d dhmc.KeptDocument) (dhmc.ArchiveLocation, error)
}

// DefaultDocumentBudget is how many bytes of compacted policy documents one
// report carries. Every sink (the log line, the response, the alert, the
// failure queue, the ledger's run item) then stays far below its limit
// whatever the role holds: beyond the budget a document is named by its size
// and SHA-256 and kept only in the archive.
const DefaultDocumentBudget = 48 * 1024

// readDocument decodes a policy document as IAM returned it and compacts it
// at once: nothing past this point holds IAM's raw, possibly padded, text.
func readDocument(encoded string) (string, dhmc.DocumentRef, error) {
	raw, err := decodePolicy(encoded)
	if err != nil {
		return "", dhmc.DocumentRef{}, err
	}
	doc, ref := dhmc.ReadDocument(raw)
	return doc, ref, nil
}

// archiveTimeout bounds one archive write: a throttled or failing ledger
// must not spend the run's time, one retrying write per policy.
const archiveTimeout = 5 * time.Second

// docBudget counts the document bytes a run's report carries, and
// remembers an archive that failed: the run then archives nothing more
// (and deletes nothing more) rather than wait on it once per policy.
type docBudget struct {
	mu     sync.Mutex
	used   int
	failed error
}

func (b *docBudget) archiveFailed() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.failed
}

func (b *docBudget) setArchiveFailed(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failed = err
}

// take reserves n bytes if they fit within limit.
func (b *docBudget) take(n, limit int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > limit {
		return false
	}
	b.used += n
	return true
}

// keep makes sure a document is kept whole before its policy is deleted,
// and decides whether the report carries it. With an archive, the document
// is archived (an error means: do not delete) and the report carries it
// only within the budget. Without one, the report is the only copy (the
// function's log line and the alert), so a document the report cannot carry
// whole is not deleted: the error says why, and a later run, its budget
// free again, deletes it.
func (rn *run) keep(ctx context.Context, role, policy, doc string, ref *dhmc.DocumentRef) (inReport bool, err error) {
	budget := rn.r.opts.DocumentBudget
	arch := rn.r.clients.Archive
	if arch == nil {
		if !rn.docs.take(len(doc), budget) {
			return false, fmt.Errorf("not deleted: no archive is configured (no ledger table) and this run's report cannot carry its document (%d bytes compacted, %d as written, SHA-256 %s) whole; configure the ledger, or a later run deletes it", ref.CompactSize, ref.Size, ref.SHA256)
		}
		return true, nil
	}
	err = rn.docs.archiveFailed()
	var loc dhmc.ArchiveLocation
	if err == nil {
		actx, cancel := context.WithTimeout(ctx, archiveTimeout)
		loc, err = arch.ArchiveDocument(actx, dhmc.KeptDocument{
			AccountID: rn.r.desired.AccountID, Role: role, Policy: policy, Document: doc, Ref: *ref,
		})
		cancel()
		if err != nil {
			rn.docs.setArchiveFailed(err)
		}
	}
	if err != nil {
		return false, fmt.Errorf("not deleted: its document (%d bytes as written, SHA-256 %s) could not be archived first: %w", ref.Size, ref.SHA256, err)
	}
	ref.Archive = &loc
	if !rn.docs.take(len(doc), budget) {
		ref.Omitted = true
		return false, nil
	}
	return true, nil
}
