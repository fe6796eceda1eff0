package ddb

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// av is one DynamoDB AttributeValue. Numbers are kept in canonical form
// (DynamoDB trims leading and trailing zeros and answers numbers that way);
// binary values and binary sets hold their raw bytes as strings.
type av struct {
	t   string // S N B BOOL NULL M L SS NS BS
	s   string // S, N, B
	b   bool   // BOOL
	m   map[string]*av
	l   []*av
	set []string // SS, NS, BS
}

// codedError is a DynamoDB error found while decoding or evaluating; the
// handlers turn it into a *Fail.
type codedError struct{ code, msg string }

func (e *codedError) Error() string { return e.code + ": " + e.msg }

func validationErr(format string, args ...any) *codedError {
	return &codedError{code: "ValidationException", msg: fmt.Sprintf(format, args...)}
}

// UnmarshalJSON decodes the wire form {"S":"x"}, refusing what DynamoDB refuses.
func (v *av) UnmarshalJSON(raw []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return &codedError{code: "SerializationException", msg: "Start of structure or map found where not expected"}
	}
	switch len(m) {
	case 0:
		return validationErr("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	case 1:
	default:
		return validationErr("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
	}
	for t, body := range m {
		return v.decode(t, body)
	}
	return nil
}

func (v *av) decode(t string, body json.RawMessage) error {
	serial := &codedError{code: "SerializationException", msg: "Unexpected value type in payload"}
	v.t = t
	switch t {
	case "S":
		if json.Unmarshal(body, &v.s) != nil {
			return serial
		}
	case "N":
		var n string
		if json.Unmarshal(body, &n) != nil {
			return serial
		}
		c, err := canonicalNumber(n)
		if err != nil {
			return err
		}
		v.s = c
	case "B":
		var b []byte
		if json.Unmarshal(body, &b) != nil {
			return serial
		}
		v.s = string(b)
	case "BOOL":
		if json.Unmarshal(body, &v.b) != nil {
			return serial
		}
	case "NULL":
		if json.Unmarshal(body, &v.b) != nil {
			return serial
		}
		if !v.b {
			return validationErr("One or more parameter values were invalid: Null attribute value types must have the value of true")
		}
	case "M":
		if json.Unmarshal(body, &v.m) != nil {
			return serial
		}
		if v.m == nil {
			v.m = map[string]*av{}
		}
	case "L":
		if json.Unmarshal(body, &v.l) != nil {
			return serial
		}
	case "SS", "NS", "BS":
		return v.decodeSet(t, body, serial)
	default:
		return &codedError{code: "SerializationException", msg: "Unknown AttributeValue type " + t}
	}
	for _, e := range v.l {
		if e == nil {
			return validationErr("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
		}
	}
	for _, e := range v.m {
		if e == nil {
			return validationErr("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
		}
	}
	return nil
}

func (v *av) decodeSet(t string, body json.RawMessage, serial error) error {
	switch t {
	case "BS":
		var bs [][]byte
		if json.Unmarshal(body, &bs) != nil {
			return serial
		}
		for _, b := range bs {
			v.set = append(v.set, string(b))
		}
	default:
		if json.Unmarshal(body, &v.set) != nil {
			return serial
		}
	}
	names := map[string]string{"SS": "string", "NS": "number", "BS": "binary"}
	if len(v.set) == 0 {
		// Sic: DynamoDB's message has two spaces.
		return validationErr("One or more parameter values were invalid: An %s set  may not be empty", names[t])
	}
	if t == "NS" {
		for i, n := range v.set {
			c, err := canonicalNumber(n)
			if err != nil {
				return err
			}
			v.set[i] = c
		}
	}
	seen := map[string]bool{}
	for _, e := range v.set {
		if seen[e] {
			return validationErr("One or more parameter values were invalid: Input collection [%s] contains duplicates.", strings.Join(v.set, ", "))
		}
		seen[e] = true
	}
	v.sortSet()
	return nil
}

// sortSet keeps sets in a stable order so answers do not depend on map order.
func (v *av) sortSet() {
	if v.t == "NS" {
		sort.Slice(v.set, func(i, j int) bool { return cmpNumber(v.set[i], v.set[j]) < 0 })
		return
	}
	slices.Sort(v.set)
}

// MarshalJSON encodes the wire form.
func (v *av) MarshalJSON() ([]byte, error) {
	var inner any
	switch v.t {
	case "S", "N":
		inner = v.s
	case "B":
		inner = base64.StdEncoding.EncodeToString([]byte(v.s))
	case "BOOL", "NULL":
		inner = v.b
	case "M":
		m := v.m
		if m == nil {
			m = map[string]*av{}
		}
		inner = m
	case "L":
		l := v.l
		if l == nil {
			l = []*av{}
		}
		inner = l
	case "SS", "NS":
		inner = v.set
	case "BS":
		out := make([]string, len(v.set))
		for i, b := range v.set {
			out[i] = base64.StdEncoding.EncodeToString([]byte(b))
		}
		inner = out
	default:
		return nil, fmt.Errorf("attribute value without a type")
	}
	return json.Marshal(map[string]any{v.t: inner})
}

func (v *av) clone() *av {
	if v == nil {
		return nil
	}
	c := *v
	c.set = slices.Clone(v.set)
	if v.m != nil {
		c.m = make(map[string]*av, len(v.m))
		for k, e := range v.m {
			c.m[k] = e.clone()
		}
	}
	if v.l != nil {
		c.l = make([]*av, len(v.l))
		for i, e := range v.l {
			c.l[i] = e.clone()
		}
	}
	return &c
}

func cloneItem(it map[string]*av) map[string]*av {
	if it == nil {
		return nil
	}
	out := make(map[string]*av, len(it))
	for k, v := range it {
		out[k] = v.clone()
	}
	return out
}

func equalAV(a, b *av) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.t != b.t {
		return false
	}
	switch a.t {
	case "S", "B":
		return a.s == b.s
	case "N":
		return cmpNumber(a.s, b.s) == 0
	case "BOOL", "NULL":
		return a.b == b.b
	case "SS", "NS", "BS":
		return slices.Equal(a.set, b.set)
	case "L":
		return slices.EqualFunc(a.l, b.l, equalAV)
	case "M":
		if len(a.m) != len(b.m) {
			return false
		}
		for k, x := range a.m {
			if !equalAV(x, b.m[k]) {
				return false
			}
		}
		return true
	}
	return false
}

// compareAV orders two scalars of the same type (S, N, B); ok is false for
// anything else, where DynamoDB's ordering comparisons are simply false.
func compareAV(a, b *av) (int, bool) {
	if a == nil || b == nil || a.t != b.t {
		return 0, false
	}
	switch a.t {
	case "S", "B":
		// DynamoDB compares strings by their UTF-8 bytes.
		return bytes.Compare([]byte(a.s), []byte(b.s)), true
	case "N":
		return cmpNumber(a.s, b.s), true
	}
	return 0, false
}

// sizeOf is DynamoDB's item size: attribute name lengths plus value sizes
// (numbers count roughly one byte per two digits plus one).
func sizeOf(v *av) int {
	switch v.t {
	case "S", "B":
		return len(v.s)
	case "N":
		return len(strings.TrimLeft(strings.ReplaceAll(v.s, ".", ""), "-0"))/2 + 1
	case "BOOL", "NULL":
		return 1
	case "SS", "BS":
		n := 0
		for _, e := range v.set {
			n += len(e)
		}
		return n
	case "NS":
		n := 0
		for _, e := range v.set {
			n += len(e)/2 + 1
		}
		return n
	case "L":
		n := 3
		for _, e := range v.l {
			n += sizeOf(e) + 1
		}
		return n
	case "M":
		n := 3
		for k, e := range v.m {
			n += len(k) + sizeOf(e) + 1
		}
		return n
	}
	return 0
}

func itemSize(it map[string]*av) int {
	n := 0
	for k, v := range it {
		n += len(k) + sizeOf(v)
	}
	return n
}

// maxItemSize is DynamoDB's 400 KB item limit.
const maxItemSize = 400 * 1024
