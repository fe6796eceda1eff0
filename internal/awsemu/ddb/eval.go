package ddb

import (
	"errors"
	"slices"
	"strconv"
	"strings"
)

// lookup returns the value at path in item, or nil when any step is missing
// or of the wrong kind.
func lookup(item map[string]*av, path docPath) *av {
	if len(path) == 0 || path[0].isIdx {
		return nil
	}
	cur := item[path[0].name]
	for _, e := range path[1:] {
		if cur == nil {
			return nil
		}
		switch {
		case e.isIdx && cur.t == "L":
			if e.index >= len(cur.l) {
				return nil
			}
			cur = cur.l[e.index]
		case !e.isIdx && cur.t == "M":
			cur = cur.m[e.name]
		default:
			return nil
		}
	}
	return cur
}

// value evaluates a condition operand; nil means "no value" (a missing
// attribute, or size of something that has none).
func (o *operand) eval(item map[string]*av) *av {
	switch o.kind {
	case opdValue:
		return o.value
	case opdPath:
		return lookup(item, o.path)
	case opdSize:
		v := lookup(item, o.path)
		if v == nil {
			return nil
		}
		var n int
		switch v.t {
		case "S", "B":
			n = len(v.s)
		case "SS", "NS", "BS":
			n = len(v.set)
		case "L":
			n = len(v.l)
		case "M":
			n = len(v.m)
		default:
			return nil
		}
		return &av{t: "N", s: strconv.Itoa(n)}
	}
	return nil
}

// holds evaluates a condition against an item (nil: no item).
func (n *condNode) holds(item map[string]*av) bool {
	switch n.op {
	case "and":
		return n.kids[0].holds(item) && n.kids[1].holds(item)
	case "or":
		return n.kids[0].holds(item) || n.kids[1].holds(item)
	case "not":
		return !n.kids[0].holds(item)
	case "cmp":
		a, b := n.operands[0].eval(item), n.operands[1].eval(item)
		switch n.cmp {
		case "=":
			return a != nil && b != nil && equalAV(a, b)
		case "<>":
			// A missing attribute is "not equal" to any value.
			return a == nil || b == nil || !equalAV(a, b)
		}
		c, ok := compareAV(a, b)
		if !ok {
			return false
		}
		switch n.cmp {
		case "<":
			return c < 0
		case "<=":
			return c <= 0
		case ">":
			return c > 0
		case ">=":
			return c >= 0
		}
	case "between":
		v, lo, hi := n.operands[0].eval(item), n.operands[1].eval(item), n.operands[2].eval(item)
		c1, ok1 := compareAV(lo, v)
		c2, ok2 := compareAV(v, hi)
		return ok1 && ok2 && c1 <= 0 && c2 <= 0
	case "in":
		v := n.operands[0].eval(item)
		if v == nil {
			return false
		}
		for _, o := range n.operands[1:] {
			if w := o.eval(item); w != nil && equalAV(v, w) {
				return true
			}
		}
		return false
	case "func":
		return n.fnHolds(item)
	}
	return false
}

func (n *condNode) fnHolds(item map[string]*av) bool {
	v := n.operands[0].eval(item)
	switch n.fn {
	case "attribute_exists":
		return v != nil
	case "attribute_not_exists":
		return v == nil
	case "attribute_type":
		return v != nil && v.t == n.operands[1].eval(item).s
	case "begins_with":
		prefix := n.operands[1].eval(item)
		if v == nil || prefix == nil || v.t != prefix.t || (v.t != "S" && v.t != "B") {
			return false
		}
		return strings.HasPrefix(v.s, prefix.s)
	case "contains":
		w := n.operands[1].eval(item)
		if v == nil || w == nil {
			return false
		}
		switch v.t {
		case "S", "B":
			return w.t == v.t && strings.Contains(v.s, w.s)
		case "SS":
			return w.t == "S" && slices.Contains(v.set, w.s)
		case "BS":
			return w.t == "B" && slices.Contains(v.set, w.s)
		case "NS":
			return w.t == "N" && slices.ContainsFunc(v.set, func(x string) bool { return cmpNumber(x, w.s) == 0 })
		case "L":
			return slices.ContainsFunc(v.l, func(x *av) bool { return equalAV(x, w) })
		}
	}
	return false
}

var (
	errNoSuchAttribute = validationErr("The provided expression refers to an attribute that does not exist in the item")
	errBadDataType     = validationErr("An operand in the update expression has an incorrect data type")
	errBadUpdatePath   = validationErr("The document path provided in the update expression is invalid for update")
)

// setValueOf evaluates the right-hand side of a SET action against the item
// as it was before the update.
func setValueOf(o *operand, item map[string]*av) (*av, *codedError) {
	switch o.kind {
	case opdValue:
		return o.value, nil
	case opdPath:
		v := lookup(item, o.path)
		if v == nil {
			return nil, errNoSuchAttribute
		}
		return v, nil
	case opdIfNotExists:
		if v := lookup(item, o.path); v != nil {
			return v, nil
		}
		return setValueOf(o.args[0], item)
	case opdListAppend:
		a, err := setValueOf(o.args[0], item)
		if err != nil {
			return nil, err
		}
		b, err := setValueOf(o.args[1], item)
		if err != nil {
			return nil, err
		}
		for _, x := range []*av{a, b} {
			if x.t != "L" {
				return nil, validationErr("Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: %s", typeWord(x.t))
			}
		}
		out := &av{t: "L", l: append(slices.Clone(a.l), b.l...)}
		return out.clone(), nil
	case opdPlus, opdMinus:
		a, err := setValueOf(o.args[0], item)
		if err != nil {
			return nil, err
		}
		b, err := setValueOf(o.args[1], item)
		if err != nil {
			return nil, err
		}
		if a.t != "N" || b.t != "N" {
			return nil, errBadDataType
		}
		sum, serr := addNumbers(a.s, b.s, o.kind == opdMinus)
		if serr != nil {
			return nil, asDDB(serr)
		}
		return &av{t: "N", s: sum}, nil
	}
	return nil, errBadDataType
}

func asDDB(err error) *codedError {
	var e *codedError
	if errors.As(err, &e) {
		return e
	}
	return validationErr("%s", err.Error())
}

// applyUpdate returns a new item: old (nil for a new item, holding only the
// key) with the actions applied. Every right-hand side is evaluated against
// the old item first, as DynamoDB does.
func applyUpdate(old map[string]*av, actions []updateAction, keyNames []string) (map[string]*av, *codedError) {
	for _, a := range actions {
		if len(a.path) == 1 && slices.Contains(keyNames, a.path[0].name) {
			return nil, validationErr("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", a.path[0].name)
		}
	}
	values := make([]*av, len(actions))
	for i, a := range actions {
		if a.verb == "SET" {
			v, err := setValueOf(a.value, old)
			if err != nil {
				return nil, err
			}
			values[i] = v.clone()
		}
	}
	item := cloneItem(old)
	// REMOVE of list elements shifts later ones: remove highest indexes first.
	order := make([]int, len(actions))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		ax, ay := actions[x], actions[y]
		if ax.verb == "REMOVE" && ay.verb == "REMOVE" {
			return compareIdx(ay.path, ax.path)
		}
		return 0
	})
	for _, i := range order {
		a := actions[i]
		var err *codedError
		switch a.verb {
		case "SET":
			err = setPath(item, a.path, values[i])
		case "REMOVE":
			removePath(item, a.path)
		case "ADD":
			err = addPath(item, a.path, a.value.value)
		case "DELETE":
			err = deleteFromSet(item, a.path, a.value.value)
		}
		if err != nil {
			return nil, err
		}
	}
	return item, nil
}

func compareIdx(a, b docPath) int {
	if len(a) == 0 || len(b) == 0 || !a[len(a)-1].isIdx || !b[len(b)-1].isIdx {
		return 0
	}
	return a[len(a)-1].index - b[len(b)-1].index
}

// parentOf returns the container holding the last element of path.
func parentOf(item map[string]*av, path docPath) (*av, bool) {
	if len(path) == 1 {
		return &av{t: "M", m: item}, true
	}
	p := lookup(item, path[:len(path)-1])
	if p == nil {
		return nil, false
	}
	last := path[len(path)-1]
	if last.isIdx && p.t != "L" || !last.isIdx && p.t != "M" {
		return nil, false
	}
	return p, true
}

func setPath(item map[string]*av, path docPath, v *av) *codedError {
	p, ok := parentOf(item, path)
	if !ok {
		return errBadUpdatePath
	}
	last := path[len(path)-1]
	if !last.isIdx {
		p.m[last.name] = v
		return nil
	}
	if last.index >= len(p.l) {
		p.l = append(p.l, v)
	} else {
		p.l[last.index] = v
	}
	return nil
}

func removePath(item map[string]*av, path docPath) {
	p, ok := parentOf(item, path)
	if !ok {
		return
	}
	last := path[len(path)-1]
	if !last.isIdx {
		delete(p.m, last.name)
		return
	}
	if last.index < len(p.l) {
		p.l = slices.Delete(p.l, last.index, last.index+1)
	}
}

func addPath(item map[string]*av, path docPath, v *av) *codedError {
	cur := lookup(item, path)
	if cur == nil {
		return setPath(item, path, v.clone())
	}
	switch {
	case v.t == "N" && cur.t == "N":
		sum, err := addNumbers(cur.s, v.s, false)
		if err != nil {
			return asDDB(err)
		}
		cur.s = sum
	case isSet(v) && cur.t == v.t:
		for _, e := range v.set {
			if !slices.Contains(cur.set, e) {
				cur.set = append(cur.set, e)
			}
		}
		cur.sortSet()
	default:
		return errBadDataType
	}
	return nil
}

func deleteFromSet(item map[string]*av, path docPath, v *av) *codedError {
	cur := lookup(item, path)
	if cur == nil {
		return nil
	}
	if cur.t != v.t {
		return errBadDataType
	}
	cur.set = slices.DeleteFunc(cur.set, func(e string) bool { return slices.Contains(v.set, e) })
	if len(cur.set) == 0 {
		removePath(item, path)
	}
	return nil
}

// project keeps only the given paths of an item, nesting preserved.
func project(item map[string]*av, paths []docPath) map[string]*av {
	if item == nil || paths == nil {
		return item
	}
	out := map[string]*av{}
	for _, p := range paths {
		v := lookup(item, p)
		if v == nil {
			continue
		}
		if len(p) == 1 {
			out[p[0].name] = v.clone()
			continue
		}
		// Rebuild the containers along the path; list elements projected
		// from one list are packed in order, as DynamoDB does.
		root, ok := out[p[0].name]
		src := item[p[0].name]
		if !ok {
			root = &av{t: src.t, m: map[string]*av{}}
			out[p[0].name] = root
		}
		cur, from := root, src
		for i, e := range p[1:] {
			lastStep := i == len(p)-2
			var next *av
			if e.isIdx {
				next = from.l[e.index]
			} else {
				next = from.m[e.name]
			}
			if lastStep {
				if cur.t == "L" {
					cur.l = append(cur.l, next.clone())
				} else {
					cur.m[e.name] = next.clone()
				}
				break
			}
			var child *av
			if cur.t == "M" {
				child = cur.m[e.name]
			}
			if child == nil {
				child = &av{t: next.t, m: map[string]*av{}}
				if cur.t == "L" {
					cur.l = append(cur.l, child)
				} else {
					cur.m[e.name] = child
				}
			}
			cur, from = child, next
		}
	}
	return out
}
