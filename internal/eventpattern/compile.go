package eventpattern

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

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
