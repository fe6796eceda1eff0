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
	"math/big"
	"path"
	"sort"
	"strings"
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

// Parse reads a pattern from its JSON form.
func Parse(raw []byte) (*Pattern, error) {
	v, err := decode(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing event pattern: %w", err)
	}
	return Compile(v)
}

// Compile builds a pattern from an already decoded JSON value (maps, slices,
// strings, float64 or json.Number, bools, nil), as produced from a template.
func Compile(v any) (*Pattern, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("event pattern must be a JSON object, got %s", typeName(v))
	}
	if len(obj) == 0 {
		return nil, errors.New("event pattern is empty")
	}
	n, err := compileObject(obj, "")
	if err != nil {
		return nil, err
	}
	return &Pattern{root: n}, nil
}

// MustParse is Parse for patterns known to be valid, such as test literals.
func MustParse(raw string) *Pattern {
	p, err := Parse([]byte(raw))
	if err != nil {
		panic(err)
	}
	return p
}

func compileObject(obj map[string]any, at string) (*node, error) {
	n := &node{fields: make(map[string]*node, len(obj))}
	for key, v := range obj {
		where := key
		if at != "" {
			where = at + "." + key
		}
		if strings.HasPrefix(key, "$") {
			return nil, fmt.Errorf("%s: operator %q is not supported", where, key)
		}
		switch v := v.(type) {
		case map[string]any:
			child, err := compileObject(v, where)
			if err != nil {
				return nil, err
			}
			n.fields[key] = child
		case []any:
			child, err := compileLeaf(v, where)
			if err != nil {
				return nil, err
			}
			n.fields[key] = child
		default:
			return nil, fmt.Errorf("%s: value must be an array or an object, got %s", where, typeName(v))
		}
	}
	return n, nil
}

func compileLeaf(values []any, where string) (*node, error) {
	if len(values) == 0 {
		return nil, fmt.Errorf("%s: empty array matches nothing", where)
	}
	n := &node{}
	for _, v := range values {
		m, err := compileMatcher(v, where)
		if err != nil {
			return nil, err
		}
		n.matchers = append(n.matchers, m)
	}
	return n, nil
}

func compileMatcher(v any, where string) (matcher, error) {
	switch v := v.(type) {
	case string, bool, nil:
		return matcher{kind: kindExact, value: v}, nil
	case json.Number:
		return matcher{kind: kindExact, value: v}, nil
	case float64:
		return matcher{kind: kindExact, value: json.Number(fmt.Sprint(v))}, nil
	case map[string]any:
		if len(v) != 1 {
			return matcher{}, fmt.Errorf("%s: a matcher object has exactly one operator, got %d", where, len(v))
		}
		for op, arg := range v {
			return compileOperator(op, arg, where)
		}
	}
	return matcher{}, fmt.Errorf("%s: unsupported pattern value %s", where, typeName(v))
}

func compileOperator(op string, arg any, where string) (matcher, error) {
	switch op {
	case "prefix", "suffix":
		k := kindPrefix
		if op == "suffix" {
			k = kindSuffix
		}
		if s, ok := arg.(string); ok {
			return matcher{kind: k, value: s}, nil
		}
		if inner, ok := arg.(map[string]any); ok && len(inner) == 1 {
			if s, ok := inner["equals-ignore-case"].(string); ok {
				return matcher{kind: k, value: s, ignoreCase: true}, nil
			}
		}
		return matcher{}, fmt.Errorf("%s: %s takes a string or {\"equals-ignore-case\": string}", where, op)
	case "equals-ignore-case":
		s, ok := arg.(string)
		if !ok {
			return matcher{}, fmt.Errorf("%s: equals-ignore-case takes a string", where)
		}
		return matcher{kind: kindEqualsIgnoreCase, value: s}, nil
	case "wildcard":
		s, ok := arg.(string)
		if !ok {
			return matcher{}, fmt.Errorf("%s: wildcard takes a string", where)
		}
		return matcher{kind: kindWildcard, value: s}, nil
	case "exists":
		b, ok := arg.(bool)
		if !ok {
			return matcher{}, fmt.Errorf("%s: exists takes true or false", where)
		}
		return matcher{kind: kindExists, value: b}, nil
	case "anything-but":
		var but []matcher
		switch arg := arg.(type) {
		case []any:
			if len(arg) == 0 {
				return matcher{}, fmt.Errorf("%s: anything-but with an empty list", where)
			}
			for _, a := range arg {
				switch a.(type) {
				case string, json.Number, float64:
				default:
					return matcher{}, fmt.Errorf("%s: anything-but lists hold strings or numbers, got %s", where, typeName(a))
				}
				m, err := compileMatcher(a, where)
				if err != nil {
					return matcher{}, err
				}
				but = append(but, m)
			}
		case string, json.Number, float64:
			m, err := compileMatcher(arg, where)
			if err != nil {
				return matcher{}, err
			}
			but = []matcher{m}
		case map[string]any:
			if len(arg) != 1 {
				return matcher{}, fmt.Errorf("%s: anything-but takes one operator", where)
			}
			for op, inner := range arg {
				switch op {
				case "prefix", "suffix", "equals-ignore-case", "wildcard":
				default:
					return matcher{}, fmt.Errorf("%s: anything-but with %q is not supported", where, op)
				}
				if list, ok := inner.([]any); ok && (op == "equals-ignore-case" || op == "wildcard") {
					for _, s := range list {
						m, err := compileOperator(op, s, where)
						if err != nil {
							return matcher{}, err
						}
						but = append(but, m)
					}
					continue
				}
				m, err := compileOperator(op, inner, where)
				if err != nil {
					return matcher{}, err
				}
				but = append(but, m)
			}
		default:
			return matcher{}, fmt.Errorf("%s: anything-but takes a value, a list or an operator, got %s", where, typeName(arg))
		}
		return matcher{kind: kindAnythingBut, but: but}, nil
	}
	return matcher{}, fmt.Errorf("%s: operator %q is not supported", where, op)
}

// Match reports whether the JSON event matches the pattern. An event that
// is not a JSON object is an error.
func (p *Pattern) Match(event []byte) (bool, error) {
	v, err := decode(event)
	if err != nil {
		return false, fmt.Errorf("parsing event: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return false, fmt.Errorf("event must be a JSON object, got %s", typeName(v))
	}
	return p.root.matchObject(obj), nil
}

// MatchValue is Match for an event already decoded with json.Number numbers.
func (p *Pattern) MatchValue(event map[string]any) bool {
	return p.root.matchObject(event)
}

func (n *node) matchObject(obj map[string]any) bool {
	for key, child := range n.fields {
		v, present := obj[key]
		if !child.matchField(v, present) {
			return false
		}
	}
	return true
}

func (n *node) matchField(v any, present bool) bool {
	if n.fields != nil {
		if !present {
			return n.matchAbsent()
		}
		switch v := v.(type) {
		case map[string]any:
			return n.matchObject(v)
		case []any:
			// Fields matched inside an array must come from the same element.
			found := false
			for _, e := range v {
				if obj, ok := e.(map[string]any); ok {
					found = true
					if n.matchObject(obj) {
						return true
					}
				}
			}
			return !found && n.matchAbsent()
		default:
			return n.matchAbsent()
		}
	}
	leaves := leafValues(v, present)
	if len(leaves) == 0 {
		return n.matchAbsent()
	}
	for _, leaf := range leaves {
		for _, m := range n.matchers {
			if m.match(leaf) {
				return true
			}
		}
	}
	return false
}

// matchAbsent reports whether the pattern holds for a missing field: only
// "exists": false does, and an object pattern only if all its fields do.
func (n *node) matchAbsent() bool {
	if n.fields != nil {
		for _, child := range n.fields {
			if !child.matchAbsent() {
				return false
			}
		}
		return true
	}
	for _, m := range n.matchers {
		if m.kind == kindExists && m.value == false {
			return true
		}
	}
	return false
}

// leafValues flattens an event value into the scalars a leaf pattern is
// compared with: the value itself, or the scalar elements of (nested) arrays.
// Objects are not leaves.
func leafValues(v any, present bool) []any {
	if !present {
		return nil
	}
	switch v := v.(type) {
	case map[string]any:
		return nil
	case []any:
		var out []any
		for _, e := range v {
			out = append(out, leafValues(e, true)...)
		}
		return out
	default:
		return []any{v}
	}
}

func (m matcher) match(v any) bool {
	switch m.kind {
	case kindExists:
		return m.value == true
	case kindExact:
		return equalScalar(m.value, v)
	case kindPrefix, kindSuffix, kindEqualsIgnoreCase, kindWildcard:
		s, ok := v.(string)
		if !ok {
			return false
		}
		want := m.value.(string)
		if m.ignoreCase || m.kind == kindEqualsIgnoreCase {
			s, want = strings.ToLower(s), strings.ToLower(want)
		}
		switch m.kind {
		case kindPrefix:
			return strings.HasPrefix(s, want)
		case kindSuffix:
			return strings.HasSuffix(s, want)
		case kindWildcard:
			return wildcard(want, s)
		default:
			return s == want
		}
	case kindAnythingBut:
		for _, b := range m.but {
			if b.match(v) {
				return false
			}
		}
		return true
	}
	return false
}

func equalScalar(want, got any) bool {
	switch want := want.(type) {
	case nil:
		return got == nil
	case bool:
		g, ok := got.(bool)
		return ok && g == want
	case string:
		g, ok := got.(string)
		return ok && g == want
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			return false
		}
		a, okA := new(big.Float).SetString(want.String())
		b, okB := new(big.Float).SetString(g.String())
		return okA && okB && a.Cmp(b) == 0
	}
	return false
}

// wildcard matches s against a pattern where "*" stands for any run of
// characters (EventBridge's wildcard operator; "\*" is a literal star).
func wildcard(pattern, s string) bool {
	// path.Match treats other characters specially; escape them.
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '\\' && i+1 < len(pattern) && pattern[i+1] == '*':
			b.WriteString(`\*`)
			i++
		case c == '*':
			b.WriteByte('*')
		case c == '?' || c == '[' || c == ']' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	// path.Match's "*" stops at "/"; EventBridge's does not. Match on a
	// copy with "/" replaced by a character that cannot be in the pattern.
	const sep = "\x00"
	ok, err := path.Match(strings.ReplaceAll(b.String(), "/", sep), strings.ReplaceAll(s, "/", sep))
	return err == nil && ok
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
