package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

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
	attrDocument = "document"
	attrParts    = "parts"
)

// maxPart is the longest text one document item holds: a compacted
// document is at most 131,072 characters, but one of multi-byte characters
// can pass DynamoDB's 400 KB per item; such a document is kept in parts
// (sk <sha256>#1, #2, ...), the first item saying how many. Parts rather
// than gzip: the compressor alone costs the release binary 128 KB, for a
// case only a hostile document reaches.
const maxPart = 300 * 1024

// DocumentKey is where a deleted inline policy's document is kept.
func DocumentKey(account, role, policy, sha string) (pk, sk string) {
	return prefixDoc + account + "#" + role + "#" + policy, sha
}

// ArchiveDocument keeps d whole and says where. It is called before the
// policy is deleted; an error means the policy must stay. The continuation
// parts of a long document are written before its first item, so a first
// item that exists always has every part behind it.
func (s *Store) ArchiveDocument(ctx context.Context, d dhmc.KeptDocument) (dhmc.ArchiveLocation, error) {
	if d.Ref.SHA256 == "" || d.Role == "" || d.Policy == "" {
		return dhmc.ArchiveLocation{}, errors.New("archiving a document: no role, policy or SHA-256")
	}
	pk, sk := DocumentKey(d.AccountID, d.Role, d.Policy, d.Ref.SHA256)
	parts := splitText(d.Document, maxPart)
	now := time.Now()
	for i := len(parts) - 1; i >= 1; i-- {
		err := s.putDocumentItem(ctx, pk, partKey(sk, i), now, map[string]types.AttributeValue{
			attrDocument: &types.AttributeValueMemberS{Value: parts[i]},
		})
		if err := s.track("archiving inline policy "+d.Policy, err); err != nil {
			return dhmc.ArchiveLocation{}, err
		}
	}
	attrs := map[string]types.AttributeValue{
		attrDocument:  &types.AttributeValueMemberS{Value: parts[0]},
		"role":        &types.AttributeValueMemberS{Value: d.Role},
		"policy":      &types.AttributeValueMemberS{Value: d.Policy},
		"size":        &types.AttributeValueMemberN{Value: strconv.Itoa(d.Ref.Size)},
		"compactSize": &types.AttributeValueMemberN{Value: strconv.Itoa(d.Ref.CompactSize)},
		"sha256":      &types.AttributeValueMemberS{Value: d.Ref.SHA256},
		"deletedAt":   &types.AttributeValueMemberS{Value: now.UTC().Format(time.RFC3339)},
	}
	if len(parts) > 1 {
		attrs[attrParts] = &types.AttributeValueMemberN{Value: strconv.Itoa(len(parts))}
	}
	err := s.putDocumentItem(ctx, pk, sk, now, attrs)
	if err := s.track("archiving inline policy "+d.Policy, err); err != nil {
		return dhmc.ArchiveLocation{}, err
	}
	return dhmc.ArchiveLocation{Table: s.table, PK: pk, SK: sk}, nil
}

// putDocumentItem sets attrs (and the expiry) on the item pk/sk.
func (s *Store) putDocumentItem(ctx context.Context, pk, sk string, now time.Time, attrs map[string]types.AttributeValue) error {
	names := map[string]string{"#exp": attrExpires}
	values := map[string]types.AttributeValue{":exp": &types.AttributeValueMemberN{Value: strconv.FormatInt(s.expires(now), 10)}}
	expr := "SET #exp = :exp"
	i := 0
	for name, v := range attrs {
		i++
		n, val := "#a"+strconv.Itoa(i), ":a"+strconv.Itoa(i)
		names[n], values[val] = name, v
		expr += ", " + n + " = " + val
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key: map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: pk}, attrSK: &types.AttributeValueMemberS{Value: sk},
		},
		UpdateExpression:          aws.String(expr),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	return err
}

// ArchivedDocument reads a kept document back (strongly consistent reads).
func (s *Store) ArchivedDocument(ctx context.Context, loc dhmc.ArchiveLocation) (string, error) {
	first, n, err := s.documentPart(ctx, loc.PK, loc.SK)
	if err != nil {
		return "", err
	}
	// Bounded whatever the item says: a document is at most 131,072
	// characters of at most 4 bytes.
	if n < 1 || n > 4*dhmc.MaxPolicyDocument/maxPart+1 {
		return "", fmt.Errorf("archived document at %s claims %d parts", loc, n)
	}
	text := first
	for i := 1; i < n; i++ {
		part, _, err := s.documentPart(ctx, loc.PK, partKey(loc.SK, i))
		if err != nil {
			return "", err
		}
		text += part
	}
	return text, nil
}

// documentPart is one document item's text and how many parts the
// document has (1 unless the item says otherwise).
func (s *Store) documentPart(ctx context.Context, pk, sk string) (string, int, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: pk}, attrSK: &types.AttributeValueMemberS{Value: sk},
		},
	})
	if err := s.track("reading an archived document", err); err != nil {
		return "", 0, err
	}
	v, ok := out.Item[attrDocument].(*types.AttributeValueMemberS)
	if !ok {
		return "", 0, fmt.Errorf("no archived document at pk %s sk %s", pk, sk)
	}
	n := 1
	if p, ok := out.Item[attrParts].(*types.AttributeValueMemberN); ok {
		if n, err = strconv.Atoi(p.Value); err != nil {
			return "", 0, fmt.Errorf("archived document at pk %s sk %s: parts %q", pk, sk, p.Value)
		}
	}
	return v.Value, n, nil
}

func partKey(sk string, i int) string { return sk + "#" + strconv.Itoa(i) }

// splitText cuts s into pieces of at most max bytes, on character
// boundaries; an empty s is one empty piece.
func splitText(s string, max int) []string {
	var out []string
	for len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return append(out, s)
}
