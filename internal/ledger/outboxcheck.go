package ledger

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// An outbox entry is read on every run, before anything else: one that
// cannot be decoded (an undecodable createdAt), or that this package did
// not write (a forged entry from a principal that may write the table), is
// skipped and counted, never allowed to block the others or to reach the
// alert topic. The table's resource policy (infra/template.yaml) keeps
// other writers out; these checks bound what one that got in can do.

// Skipped is an outbox entry the run left alone, and why.
type Skipped struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

// maxSkippedKept bounds the skipped entries an Outbox names (it counts all).
const maxSkippedKept = 10

// KindLedgerSkipped is the signal of outbox entries skipped as undecodable
// or not written by the guard; its item is ItemLedger. It is told like an
// unreachable Region: at most once per Policy.RegionInterval (a day).
const (
	KindLedgerSkipped = "ledger-entries-skipped"
	ItemLedger        = "ledger"
)

// MaxBackoff bounds a back-off as read: a forged or corrupt one far in the
// future must not stop repairs (Policy.Backoff holds one Window).
const MaxBackoff = 24 * time.Hour

// Limits of an outbox alert as the guard writes it (alert.MaxSubject,
// alert.MaxMessage, SNS's 10 message attributes).
const (
	maxSubject    = 100
	maxBody       = 256 * 1024
	maxAttributes = 10
	maxAttrValue  = 256
)

func (o *Outbox) skip(sk string, err error) {
	o.Skipped++
	if len(o.SkippedKeys) < maxSkippedKept {
		o.SkippedKeys = append(o.SkippedKeys, Skipped{Key: printable(sk, 120), Reason: printable(err.Error(), 200)})
	}
}

// addEntry decodes one outbox entry into o, or says why it cannot be used.
func (o *Outbox) addEntry(m map[string]types.AttributeValue) error {
	sk := skOf(m)
	switch {
	case strings.HasPrefix(sk, outboxAlert):
		var it alertItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return fmt.Errorf("undecodable: %w", err)
		}
		if err := it.check(sk); err != nil {
			return err
		}
		o.Alerts = append(o.Alerts, it.Alert)
	case strings.HasPrefix(sk, outboxDigest):
		var it digestItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return fmt.Errorf("undecodable: %w", err)
		}
		if sk != outboxDigest+string(it.Group) || it.Due.IsZero() || it.Count < 0 || !knownSeverity(it.Severity) {
			return fmt.Errorf("not a digest the guard wrote (key, due, count or severity)")
		}
		o.Digests = append(o.Digests, Digest{
			Group: it.Group, Item: it.Item, Kind: it.Kind, Actor: it.Actor, What: it.What, Count: it.Count,
			Since: it.Since, Seen: it.Seen, Due: it.Due, Severity: it.Severity,
		})
	case strings.HasPrefix(sk, outboxBack):
		var it backoffItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return fmt.Errorf("undecodable: %w", err)
		}
		if sk != outboxBack+it.Item+"|"+it.Kind || it.Until.IsZero() {
			return fmt.Errorf("not a back-off the guard wrote (key or until)")
		}
		o.Backoffs = append(o.Backoffs, Backoff{Item: it.Item, Kind: it.Kind, Until: it.Until})
	case strings.HasPrefix(sk, outboxOpen):
		return o.addOpen(sk, m)
	}
	// Other sort keys in the partition belong to other parts of the guard.
	return nil
}

// check holds an outbox alert to what alertOps writes: the key names its
// creation time and ID, the ID is the one its dedup key (or its content)
// gives, and subject, body and attributes are within what the alert
// package composes and SNS accepts. Without a secret the content cannot be
// authenticated; a forged entry that passes is at most a well-formed
// message, sent marked redelivered with its alert ID.
func (it alertItem) check(sk string) error {
	a := it.Alert
	want := a
	want.ID = ""
	want.fill(a.CreatedAt)
	switch {
	case it.Status != "pending":
		return fmt.Errorf("not pending (status %q)", printable(it.Status, 20))
	case a.CreatedAt.IsZero() || sk != a.outboxKey().SK:
		return fmt.Errorf("the key does not name the entry's creation time and ID")
	case want.ID != a.ID:
		return fmt.Errorf("the alert ID is not the one its dedup key or content gives")
	case !knownSeverity(a.Severity):
		return fmt.Errorf("unknown severity %q", printable(a.Severity, 20))
	case a.Subject == "" || len(a.Subject) > maxSubject || !utf8.ValidString(a.Subject) || strings.IndexFunc(a.Subject, unicode.IsControl) >= 0:
		return fmt.Errorf("the subject is not one line of at most %d bytes", maxSubject)
	case a.Body == "" || len(a.Body) > maxBody || !utf8.ValidString(a.Body):
		return fmt.Errorf("the body is empty, not UTF-8 or over %d bytes", maxBody)
	case len(a.Attributes) > maxAttributes:
		return fmt.Errorf("%d message attributes, SNS takes %d", len(a.Attributes), maxAttributes)
	case a.Attempts < 0:
		return fmt.Errorf("negative attempts")
	}
	for k, v := range a.Attributes {
		if !attrName(k) || len(v) > maxAttrValue {
			return fmt.Errorf("message attribute %q is not one the guard sets", printable(k, 40))
		}
	}
	return nil
}

func knownSeverity(s string) bool {
	return s == SeverityHigh || s == SeverityMedium || s == SeverityLow
}

// attrName accepts SNS's attribute name characters (letters, digits and
// _-.), up to 64.
func attrName(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r == '-' || r == '.' || r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}

// printable makes a key or reason safe to log and tell: printable ASCII,
// at most n bytes.
func printable(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			b.WriteString("...")
			break
		}
		if r < ' ' || r > '~' {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
