package dhmc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SamePolicy reports whether two IAM policy documents mean the same thing.
// It ignores what IAM ignores or what carries no meaning: statement order,
// a string versus a one-element array, the order of values in a list,
// duplicate statements, Sid, the case of action names and condition keys,
// and Version unless the document uses policy variables (the only thing
// Version changes). A document that is not a policy is an error, never
// "different": the caller must not repair what it could not read.
func SamePolicy(a, b string) (bool, error) {
	ca, err := canonicalPolicy(a)
	if err != nil {
		return false, err
	}
	cb, err := canonicalPolicy(b)
	if err != nil {
		return false, err
	}
	return ca == cb, nil
}

// CompactPolicy returns doc without insignificant white space, for reports;
// a document that is not JSON is returned as it is.
func CompactPolicy(doc string) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(doc)); err != nil {
		return doc
	}
	return buf.String()
}

type policyDoc struct {
	Version   *string         `json:"Version"`
	ID        json.RawMessage `json:"Id"`
	Statement json.RawMessage `json:"Statement"`
}

// statement keeps the elements that decide what a statement allows or denies.
type statement struct {
	Effect       string                         `json:"e"`
	Principal    map[string][]string            `json:"p,omitempty"`
	NotPrincipal map[string][]string            `json:"np,omitempty"`
	Action       []string                       `json:"a,omitempty"`
	NotAction    []string                       `json:"na,omitempty"`
	Resource     []string                       `json:"r,omitempty"`
	NotResource  []string                       `json:"nr,omitempty"`
	Condition    map[string]map[string][]string `json:"c,omitempty"`
}

// canonicalPolicy turns doc into one string that is equal for documents with
// the same meaning.
func canonicalPolicy(doc string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var p policyDoc
	if err := dec.Decode(&p); err != nil {
		return "", fmt.Errorf("parsing policy document: %w", err)
	}
	if len(p.Statement) == 0 || string(p.Statement) == "null" {
		return "", errors.New("parsing policy document: no Statement")
	}
	var raws []json.RawMessage
	if p.Statement[0] == '[' {
		if err := json.Unmarshal(p.Statement, &raws); err != nil {
			return "", fmt.Errorf("parsing policy statements: %w", err)
		}
	} else {
		raws = []json.RawMessage{p.Statement}
	}
	stmts := make([]string, 0, len(raws))
	for i, raw := range raws {
		s, err := canonicalStatement(raw)
		if err != nil {
			return "", fmt.Errorf("parsing policy statement %d: %w", i+1, err)
		}
		stmts = append(stmts, s)
	}
	slices.Sort(stmts)
	stmts = slices.Compact(stmts)

	version := ""
	if strings.Contains(doc, "${") {
		// Policy variables are literal text under 2008-10-17, the default.
		version = "2008-10-17"
		if p.Version != nil {
			version = *p.Version
		}
	}
	return version + "|" + strings.Join(stmts, "|"), nil
}

func canonicalStatement(raw json.RawMessage) (string, error) {
	s, err := readStatement(raw)
	if err != nil {
		return "", err
	}
	// Condition keys are case-insensitive; operators and values are not.
	for op, keys := range s.Condition {
		folded := make(map[string][]string, len(keys))
		for k, v := range keys {
			folded[strings.ToLower(k)] = v
		}
		s.Condition[op] = folded
	}
	out, err := json.Marshal(s) // map keys are sorted by encoding/json
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// readStatement reads the elements that decide what a statement allows or
// denies; condition keys stay as written. Anything else is an error.
func readStatement(raw json.RawMessage) (statement, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return statement{}, err
	}
	var s statement
	var err error
	for k, v := range m {
		switch k {
		case "Sid":
		case "Effect":
			if err = json.Unmarshal(v, &s.Effect); err == nil && s.Effect != "Allow" && s.Effect != "Deny" {
				err = fmt.Errorf("effect %q is neither Allow nor Deny", s.Effect)
			}
		case "Principal":
			s.Principal, err = principals(v)
		case "NotPrincipal":
			s.NotPrincipal, err = principals(v)
		case "Action":
			s.Action, err = stringSet(v, true)
		case "NotAction":
			s.NotAction, err = stringSet(v, true)
		case "Resource":
			s.Resource, err = stringSet(v, false)
		case "NotResource":
			s.NotResource, err = stringSet(v, false)
		case "Condition":
			s.Condition, err = rawConditions(v)
		default:
			err = fmt.Errorf("unknown element %q", k)
		}
		if err != nil {
			return statement{}, fmt.Errorf("%s: %w", k, err)
		}
	}
	if s.Effect == "" {
		return statement{}, errors.New("no Effect")
	}
	return s, nil
}

// stringSet reads a string or an array of strings as a sorted set.
func stringSet(v json.RawMessage, fold bool) ([]string, error) {
	var one string
	var many []string
	if err := json.Unmarshal(v, &one); err == nil {
		many = []string{one}
	} else if err := json.Unmarshal(v, &many); err != nil {
		return nil, errors.New("want a string or an array of strings")
	}
	if fold {
		for i := range many {
			many[i] = strings.ToLower(many[i])
		}
	}
	slices.Sort(many)
	return slices.Compact(many), nil
}

// principals reads "*" or {"Service": "x" | ["x", ...], ...}.
func principals(v json.RawMessage) (map[string][]string, error) {
	var star string
	if err := json.Unmarshal(v, &star); err == nil {
		if star != "*" {
			return nil, fmt.Errorf("principal %q: only \"*\" may be given as a string", star)
		}
		return map[string][]string{"AWS": {"*"}}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, errors.New(`want "*" or an object`)
	}
	out := make(map[string][]string, len(m))
	for k, raw := range m {
		set, err := stringSet(raw, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = set
	}
	return out, nil
}

// rawConditions reads {"Operator": {"key": "v" | ["v", ...]}} keeping the
// keys as written: they are case-insensitive, and a trust repair writes them
// back; canonicalStatement folds them.
func rawConditions(v json.RawMessage) (map[string]map[string][]string, error) {
	var m map[string]map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, errors.New("want an object of operators")
	}
	out := make(map[string]map[string][]string, len(m))
	for op, keys := range m {
		out[op] = make(map[string][]string, len(keys))
		for k, raw := range keys {
			vals, err := conditionValues(raw)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", op, k, err)
			}
			out[op][k] = vals
		}
	}
	return out, nil
}

// conditionValues accepts strings, numbers and booleans, alone or in an
// array, as IAM does; "true" and true mean the same.
func conditionValues(raw json.RawMessage) ([]string, error) {
	var items []json.RawMessage
	if len(raw) > 0 && raw[0] == '[' {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
	} else {
		items = []json.RawMessage{raw}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err == nil {
			out = append(out, s)
			continue
		}
		var n json.Number
		if err := json.Unmarshal(it, &n); err == nil {
			out = append(out, n.String())
			continue
		}
		var b bool
		if err := json.Unmarshal(it, &b); err == nil {
			out = append(out, fmt.Sprint(b))
			continue
		}
		return nil, errors.New("want strings, numbers or booleans")
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
