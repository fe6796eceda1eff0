// Package eventpattern matches JSON events against Amazon EventBridge event
// patterns, for the subset of the pattern language dhmc-guard's rules use:
// exact values (string, number, boolean, null), prefix, suffix,
// anything-but, exists, equals-ignore-case, wildcard and nested objects, with
// EventBridge's semantics for arrays in the event (a field whose value is an
// array matches when any element does).
//
// It exists so the template tests can prove, without AWS, that the sample
// events reach the function and the ignorable ones do not. Operators outside
// the subset (numeric, cidr, $or, ...) are rejected when the pattern is
// parsed, never silently treated as "no match". The conformance tests check
// that this matcher agrees with an independent implementation (moto).
package eventpattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Pattern is a parsed event pattern, safe for concurrent use.
type Pattern struct {
	root *node
}

// node is either an object pattern (fields) or a leaf (matchers, OR'ed).
type node struct {
	fields   map[string]*node
	matchers []matcher
}

type kind int

const (
	kindExact kind = iota
	kindPrefix
	kindSuffix
	kindEqualsIgnoreCase
	kindAnythingBut
	kindExists
	kindWildcard
)

type matcher struct {
	kind kind
	// value is the operand: a string, json.Number, bool or nil for exact
	// matches; a string for prefix, suffix, equals-ignore-case and wildcard;
	// a bool for exists.
	value any
	// ignoreCase applies to prefix and suffix ({"prefix":{"equals-ignore-case":"x"}}).
	ignoreCase bool
	// but holds anything-but's operands: any of them matching means no match.
	but []matcher
}

func decode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// Fields lists the dotted paths of the pattern's leaves, sorted; handy in
// test failure messages.
func (p *Pattern) Fields() []string {
	var out []string
	var walk func(n *node, at string)
	walk = func(n *node, at string) {
		for k, c := range n.fields {
			where := k
			if at != "" {
				where = at + "." + k
			}
			if c.fields != nil {
				walk(c, where)
			} else {
				out = append(out, where)
			}
		}
	}
	walk(p.root, "")
	sort.Strings(out)
	return out
}
