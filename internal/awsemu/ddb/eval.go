package ddb

import (
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
