package ledger

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// Deleted inline policy documents are kept one per item, before the policy
// is deleted (reconcile.Archiver):
//
//	pk                                  sk          what
//	DOC#<account>#<role>#<policy>       <sha256>    a deleted inline policy's compacted document
//
// The SHA-256 is of the document as IAM returned it, so the same document
// deleted again overwrites its item (and its expiry), and a policy name
// re-used with another document gets an item of its own. Role and policy
// names cannot hold '#' (IAM's [\w+=,.@-]+).
const prefixDoc = "DOC#"

// Attribute names of a document item; `aws dynamodb get-item` users read
// them (README "Deleted inline policies").
const (
	attrDocument     = "document"
	attrDocumentGzip = "documentGzip"
)

// maxPlainDocument is the longest document stored as text: a compacted
// document is at most 131,072 characters, but one of multi-byte characters
// can pass DynamoDB's 400 KB per item; longer ones are stored gzipped.
const maxPlainDocument = 300 * 1024

// DocumentKey is where a deleted inline policy's document is kept.
func DocumentKey(account, role, policy, sha string) (pk, sk string) {
	return prefixDoc + account + "#" + role + "#" + policy, sha
}

// ArchiveDocument keeps d whole in one item and says where. It is called
// before the policy is deleted; an error means the policy must stay.
func (s *Store) ArchiveDocument(ctx context.Context, d dhmc.KeptDocument) (dhmc.ArchiveLocation, error) {
	if d.Ref.SHA256 == "" || d.Role == "" || d.Policy == "" {
		return dhmc.ArchiveLocation{}, errors.New("archiving a document: no role, policy or SHA-256")
	}
	pk, sk := DocumentKey(d.AccountID, d.Role, d.Policy, d.Ref.SHA256)
	body := &types.AttributeValueMemberS{Value: d.Document}
	var doc types.AttributeValue = body
	name := attrDocument
	if len(d.Document) > maxPlainDocument {
		z, err := gzipped(d.Document)
		if err != nil {
			return dhmc.ArchiveLocation{}, fmt.Errorf("archiving inline policy %s: %w", d.Policy, err)
		}
		doc, name = &types.AttributeValueMemberB{Value: z}, attrDocumentGzip
	}
	now := time.Now()
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key: map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: pk}, attrSK: &types.AttributeValueMemberS{Value: sk},
		},
		UpdateExpression: aws.String("SET #doc = :doc, #role = :role, #policy = :policy, #size = :size, " +
			"#compact = :compact, #sha = :sha, #at = :at, #exp = :exp"),
		ExpressionAttributeNames: map[string]string{
			"#doc": name, "#role": "role", "#policy": "policy", "#size": "size",
			"#compact": "compactSize", "#sha": "sha256", "#at": "deletedAt", "#exp": attrExpires,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":doc":     doc,
			":role":    &types.AttributeValueMemberS{Value: d.Role},
			":policy":  &types.AttributeValueMemberS{Value: d.Policy},
			":size":    &types.AttributeValueMemberN{Value: strconv.Itoa(d.Ref.Size)},
			":compact": &types.AttributeValueMemberN{Value: strconv.Itoa(d.Ref.CompactSize)},
			":sha":     &types.AttributeValueMemberS{Value: d.Ref.SHA256},
			":at":      &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339)},
			":exp":     &types.AttributeValueMemberN{Value: strconv.FormatInt(s.expires(now), 10)},
		},
	})
	if err := s.track("archiving inline policy "+d.Policy, err); err != nil {
		return dhmc.ArchiveLocation{}, err
	}
	return dhmc.ArchiveLocation{Table: s.table, PK: pk, SK: sk}, nil
}

// ArchivedDocument reads a kept document back (a strongly consistent read).
func (s *Store) ArchivedDocument(ctx context.Context, loc dhmc.ArchiveLocation) (string, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: loc.PK}, attrSK: &types.AttributeValueMemberS{Value: loc.SK},
		},
	})
	if err := s.track("reading an archived document", err); err != nil {
		return "", err
	}
	switch v := out.Item[attrDocument].(type) {
	case *types.AttributeValueMemberS:
		return v.Value, nil
	}
	if v, ok := out.Item[attrDocumentGzip].(*types.AttributeValueMemberB); ok {
		return gunzipped(v.Value)
	}
	return "", fmt.Errorf("no archived document at %s", loc)
}

func gzipped(s string) ([]byte, error) {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := io.WriteString(w, s); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func gunzipped(b []byte) (string, error) {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("reading an archived document: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(r, 4*dhmc.MaxPolicyDocument+1))
	if err != nil {
		return "", fmt.Errorf("reading an archived document: %w", err)
	}
	return string(out), nil
}
