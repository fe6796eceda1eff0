package eventpattern

import (
	"encoding/json"
	"fmt"
	"math/big"
	"path"
	"strings"
)

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
