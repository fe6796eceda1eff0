package ddb

import (
	"errors"
	"slices"
)

// Applying update expressions: SET, REMOVE, ADD and DELETE on a copy of the
// item, every right-hand side evaluated against the item as it was.

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
			return nil, asCoded(serr)
		}
		return &av{t: "N", s: sum}, nil
	}
	return nil, errBadDataType
}

// asCoded keeps a codedError as it is and words any other error as a
// validation error.
func asCoded(err error) *codedError {
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
			return asCoded(err)
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
