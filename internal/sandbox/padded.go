package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/rie"
)

// Padded is the DHMC role holding many valid inline policies, each padded
// with white space to IAM's 131,072 characters: IAM leaves white space out
// of the role's 10,240-character aggregate and returns each document as
// written, so the role can hold tens of megabytes (issue 14).
type Padded struct {
	// Docs are the documents as written, by policy name.
	Docs map[string]string
}

// PaddedDocument is a valid policy allowing action, padded between its
// tokens to exactly size characters.
func PaddedDocument(action string, size int) string {
	head := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]`
	return head + strings.Repeat(" ", max(size-len(head)-1, 0)) + "}"
}

// SeedPadded puts n padded inline policies of size characters on the DHMC
// role through the emulator's seeding API (no IAM call): megabytes of
// policies in one step.
func SeedPadded(emu *awsemu.Server, n, size int) (Padded, error) {
	d := Desired()
	r, ok := emu.Role(Account, d.RoleName)
	if !ok {
		return Padded{}, errors.New("no DHMC role to pad")
	}
	p := Padded{Docs: map[string]string{}}
	for i := range n {
		name := fmt.Sprintf("padded-%03d", i)
		p.Docs[name] = PaddedDocument(fmt.Sprintf("s3:GetObjectTagging%03d", i), size)
	}
	r.InlinePolicies = maps.Clone(p.Docs)
	emu.PutRole(Account, r)
	return p, nil
}

// PaddedResult is what one enforce sweep of a padded role delivered.
type PaddedResult struct {
	ResponseBytes int
	AlertBytes    int
	Alerts        int
	Deleted       int
	Archived      int
}

// Check holds a sweep of the padded role to issue 14's goal: every policy
// deleted, the response under 1 MB, exactly one alert that names every
// policy with its size and SHA-256, and every document retrievable from the
// ledger archive, equal to what was written. It returns the figures and
// every way the sweep fell short.
func (p Padded) Check(ctx context.Context, sb *Sandbox, res rie.Result) (PaddedResult, []string) {
	var out PaddedResult
	var bad []string
	out.ResponseBytes = len(res.Payload)
	if err := res.Err(); err != nil {
		return out, []string{fmt.Sprintf("the sweep failed: %v", err)}
	}
	if out.ResponseBytes >= 1<<20 {
		bad = append(bad, fmt.Sprintf("response is %d bytes, not under 1 MB", out.ResponseBytes))
	}
	_, rep, err := ReportOf(res.Payload)
	if err != nil || rep == nil {
		return out, append(bad, fmt.Sprintf("no report in the response: %v", err))
	}
	if r, ok := sb.Emu.Role(Account, Desired().RoleName); !ok || len(r.InlinePolicies) != 0 {
		bad = append(bad, fmt.Sprintf("%d inline policies left on the role", len(r.InlinePolicies)))
	}
	msgs := sb.Emu.Messages()
	out.Alerts = len(msgs)
	alert := ""
	if len(msgs) != 1 {
		bad = append(bad, fmt.Sprintf("%d alerts delivered, want 1", len(msgs)))
	}
	if len(msgs) > 0 {
		// What SNS counts: the subject, and the message (every protocol's
		// variant of a MessageStructure=json publish, default included).
		alert = msgs[0].Body
		out.AlertBytes = len(msgs[0].Subject)
		for _, v := range msgs[0].Protocols {
			out.AlertBytes += len(v)
		}
		if len(msgs[0].Protocols) == 0 {
			out.AlertBytes += len(alert)
		}
	}
	store, err := ledger.New(dynamodb.NewFromConfig(sb.UserConfig(HomeRegion)), LedgerTable, ledger.Options{})
	if err != nil {
		return out, append(bad, err.Error())
	}
	byName := map[string]dhmc.Result{}
	for _, x := range rep.Results {
		if x.Kind == dhmc.KindUnexpectedInlinePolicy {
			byName[x.Target] = x
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Docs)) {
		doc := p.Docs[name]
		sum := sha256.Sum256([]byte(doc))
		sha := hex.EncodeToString(sum[:])
		x, ok := byName[name]
		if !ok || x.Outcome != dhmc.OutcomeDone {
			bad = append(bad, fmt.Sprintf("policy %s: not deleted (%s %s)", name, x.Outcome, x.Blocked))
			continue
		}
		out.Deleted++
		if want := fmt.Sprintf("%s: %d bytes", name, len(doc)); !strings.Contains(alert, want) || !strings.Contains(alert, sha) {
			bad = append(bad, fmt.Sprintf("the alert does not name policy %s with its size and SHA-256", name))
		}
		ref := x.DocumentRef
		if ref == nil || ref.SHA256 != sha || ref.Size != len(doc) || ref.Archive == nil {
			bad = append(bad, fmt.Sprintf("policy %s: report names %+v, want size %d, SHA-256 %s and an archive", name, ref, len(doc), sha))
			continue
		}
		kept, err := store.ArchivedDocument(ctx, *ref.Archive)
		if err != nil {
			bad = append(bad, fmt.Sprintf("policy %s: %v", name, err))
			continue
		}
		if same, err := dhmc.SamePolicy(kept, doc); err != nil || !same || len(kept) != ref.CompactSize {
			bad = append(bad, fmt.Sprintf("policy %s: the archive holds %d bytes that are not the document written", name, len(kept)))
			continue
		}
		out.Archived++
	}
	return out, bad
}
