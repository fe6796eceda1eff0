package dhmc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// MaxPolicyDocument is the longest policy document IAM accepts
// (PutRolePolicy, CreatePolicyVersion, UpdateAssumeRolePolicy: 131,072
// characters). IAM does not count white space toward a role's aggregate
// quota and returns a document as it was written, so a role may hold many
// documents of this length.
const MaxPolicyDocument = 131072

// DocumentRef names a policy document as IAM returned it, so that any sink
// that cannot carry the document whole can still say which one it was.
type DocumentRef struct {
	// Size is the length in bytes of the document as IAM returned it
	// (URL-decoded), white space included.
	Size int `json:"size"`
	// SHA256 is the hex SHA-256 of that text.
	SHA256 string `json:"sha256"`
	// CompactSize is the length of the compacted document: what the guard
	// keeps and archives.
	CompactSize int `json:"compactSize"`
	// Archive is where the compacted document is kept whole, when it is.
	Archive *ArchiveLocation `json:"archive,omitempty"`
	// Omitted says this copy of the report does not carry the document: it
	// is in Archive, or else in the run's log lines and alert.
	Omitted bool `json:"omitted,omitempty"`
}

// ArchiveLocation is a DynamoDB item that holds a kept document.
type ArchiveLocation struct {
	Table string `json:"table"`
	PK    string `json:"pk"`
	SK    string `json:"sk"`
}

// String is the location as one line for people and logs.
func (l ArchiveLocation) String() string {
	return fmt.Sprintf("DynamoDB table %s, pk %q, sk %q", l.Table, l.PK, l.SK)
}

// KeptDocument is an inline policy document to keep before it is deleted.
type KeptDocument struct {
	AccountID string
	Role      string
	Policy    string
	// Document is the compacted document.
	Document string
	Ref      DocumentRef
}

// ReadDocument turns a policy document as IAM returned it (URL-decoded)
// into what the guard keeps: the document without insignificant white space
// (statement and key order kept), with the size and SHA-256 of the text
// IAM returned. Callers drop the raw text at once, so a role padded with
// megabytes of white space costs only its meaning. A document that is not
// JSON is kept as it is; IAM never returns one.
func ReadDocument(raw string) (string, DocumentRef) {
	sum := sha256.Sum256([]byte(raw))
	ref := DocumentRef{Size: len(raw), SHA256: hex.EncodeToString(sum[:])}
	var buf bytes.Buffer
	buf.Grow(min(len(raw), 4096))
	doc := raw
	if err := json.Compact(&buf, []byte(raw)); err == nil {
		doc = buf.String()
	}
	ref.CompactSize = len(doc)
	return doc, ref
}
