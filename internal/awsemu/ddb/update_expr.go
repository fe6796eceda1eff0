package ddb

import (
	"strings"
)

// updateAction is one action of an update expression.
type updateAction struct {
	verb  string // SET REMOVE ADD DELETE
	path  docPath
	value *operand // SET: the value; ADD, DELETE: a :value
}

// parseUpdate parses SET / REMOVE / ADD / DELETE clauses, each at most once.
func parseUpdate(src string, env *exprEnv) ([]updateAction, *codedError) {
	p, err := newParser(src, "UpdateExpression", env)
	if err != nil {
		return nil, err
	}
	var out []updateAction
	seen := map[string]bool{}
	for p.peek().kind != tokEOF {
		t := p.next()
		verb := strings.ToUpper(t.text)
		if t.kind != tokIdent || (verb != "SET" && verb != "REMOVE" && verb != "ADD" && verb != "DELETE") {
			p.i--
			return nil, p.syntax()
		}
		if seen[verb] {
			return nil, p.exprErr("The %q section can only be used once in an update expression;", verb)
		}
		seen[verb] = true
		for {
			a, err := p.updateAction(verb)
			if err != nil {
				return nil, err
			}
			for _, prev := range out {
				if overlaps(prev.path, a.path) {
					return nil, p.exprErr("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", pathList(prev.path), pathList(a.path))
				}
			}
			out = append(out, a)
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
	}
	return out, nil
}

func (p *parser) updateAction(verb string) (updateAction, *codedError) {
	path, err := p.path()
	if err != nil {
		return updateAction{}, err
	}
	a := updateAction{verb: verb, path: path}
	switch verb {
	case "SET":
		if t := p.next(); t.kind != tokOp || t.text != "=" {
			p.i--
			return a, p.syntax()
		}
		v, err := p.setValue(0)
		if err != nil {
			return a, err
		}
		a.value = v
	case "ADD", "DELETE":
		if p.peek().kind != tokValue {
			return a, p.syntax()
		}
		v, err := p.operand()
		if err != nil {
			return a, err
		}
		if verb == "ADD" && v.value.t != "N" && !isSet(v.value) {
			return a, p.exprErr("Incorrect operand type for operator or function; operator or function: ADD, operand type: %s", typeWord(v.value.t))
		}
		if verb == "DELETE" && !isSet(v.value) {
			return a, p.exprErr("Incorrect operand type for operator or function; operator or function: DELETE, operand type: %s", typeWord(v.value.t))
		}
		a.value = v
	}
	return a, nil
}

func isSet(v *av) bool { return v.t == "SS" || v.t == "NS" || v.t == "BS" }

// typeWord is how DynamoDB names a type in operand errors.
func typeWord(t string) string {
	switch t {
	case "S":
		return "STRING"
	case "N":
		return "NUMBER"
	case "B":
		return "BINARY"
	case "BOOL":
		return "BOOLEAN"
	case "L":
		return "LIST"
	case "M":
		return "MAP"
	}
	return t
}

// setValue is operand [+|- operand], where an operand may be a function.
func (p *parser) setValue(depth int) (*operand, *codedError) {
	if depth > maxDepth {
		return nil, p.exprErr("The expression has too many nested levels")
	}
	left, err := p.setOperand(depth)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tokOp && (t.text == "+" || t.text == "-") {
		p.next()
		right, err := p.setOperand(depth)
		if err != nil {
			return nil, err
		}
		k := opdPlus
		if t.text == "-" {
			k = opdMinus
		}
		return &operand{kind: k, args: []*operand{left, right}}, nil
	}
	return left, nil
}

func (p *parser) setOperand(depth int) (*operand, *codedError) {
	t := p.peek()
	if t.kind == tokIdent && p.toks[p.i+1].kind == tokLParen {
		switch t.text {
		case "if_not_exists":
			p.next()
			p.next()
			path, err := p.path()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tokComma); err != nil {
				return nil, err
			}
			def, err := p.setValue(depth + 1)
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tokRParen); err != nil {
				return nil, err
			}
			return &operand{kind: opdIfNotExists, path: path, args: []*operand{def}}, nil
		case "list_append":
			p.next()
			p.next()
			a, err := p.setValue(depth + 1)
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tokComma); err != nil {
				return nil, err
			}
			b, err := p.setValue(depth + 1)
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tokRParen); err != nil {
				return nil, err
			}
			return &operand{kind: opdListAppend, args: []*operand{a, b}}, nil
		default:
			return nil, p.exprErr("Invalid function name; function: %s", t.text)
		}
	}
	o, err := p.operand()
	if err != nil {
		return nil, err
	}
	if o.kind == opdSize {
		return nil, p.exprErr("Invalid function name; function: size")
	}
	return o, nil
}
