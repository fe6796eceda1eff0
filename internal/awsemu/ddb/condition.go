package ddb

import (
	"slices"
)

// Condition expressions (also filters and key conditions): the grammar
// DynamoDB documents, parsed into condNode trees that eval.go evaluates.

// parseCondition parses a condition, filter or key condition expression.
func parseCondition(src, what string, env *exprEnv) (*condNode, *codedError) {
	p, err := newParser(src, what, env)
	if err != nil {
		return nil, err
	}
	n, err := p.orExpr(0)
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tokEOF {
		return nil, p.syntax()
	}
	return n, nil
}

// maxDepth bounds nesting so a hostile expression cannot exhaust the stack.
const maxDepth = 100

func (p *parser) orExpr(depth int) (*condNode, *codedError) {
	if depth > maxDepth {
		return nil, p.exprErr("The expression has too many nested levels")
	}
	left, err := p.andExpr(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword(p.peek(), "OR") {
		p.next()
		right, err := p.andExpr(depth)
		if err != nil {
			return nil, err
		}
		left = &condNode{op: "or", kids: []*condNode{left, right}}
	}
	return left, nil
}

func (p *parser) andExpr(depth int) (*condNode, *codedError) {
	left, err := p.notExpr(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword(p.peek(), "AND") {
		p.next()
		right, err := p.notExpr(depth)
		if err != nil {
			return nil, err
		}
		left = &condNode{op: "and", kids: []*condNode{left, right}}
	}
	return left, nil
}

func (p *parser) notExpr(depth int) (*condNode, *codedError) {
	if p.keyword(p.peek(), "NOT") {
		p.next()
		if depth > maxDepth {
			return nil, p.exprErr("The expression has too many nested levels")
		}
		kid, err := p.notExpr(depth + 1)
		if err != nil {
			return nil, err
		}
		return &condNode{op: "not", kids: []*condNode{kid}}, nil
	}
	return p.primary(depth)
}

var condFuncs = map[string]int{ // name -> number of arguments
	"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2,
	"begins_with": 2, "contains": 2,
}

func (p *parser) primary(depth int) (*condNode, *codedError) {
	t := p.peek()
	if t.kind == tokLParen {
		p.next()
		n, err := p.orExpr(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		return n, nil
	}
	if t.kind == tokIdent && p.toks[p.i+1].kind == tokLParen {
		if argc, ok := condFuncs[t.text]; ok {
			return p.condFunc(t.text, argc)
		}
		if t.text != "size" {
			return nil, p.exprErr("Invalid function name; function: %s", t.text)
		}
	}
	left, err := p.operand()
	if err != nil {
		return nil, err
	}
	t = p.peek()
	switch {
	case t.kind == tokOp && t.text != "+" && t.text != "-":
		p.next()
		right, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &condNode{op: "cmp", cmp: t.text, operands: []*operand{left, right}}, nil
	case p.keyword(t, "BETWEEN"):
		p.next()
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		if !p.keyword(p.peek(), "AND") {
			return nil, p.syntax()
		}
		p.next()
		hi, err := p.operand()
		if err != nil {
			return nil, err
		}
		return &condNode{op: "between", operands: []*operand{left, lo, hi}}, nil
	case p.keyword(t, "IN"):
		p.next()
		if _, err := p.expect(tokLParen); err != nil {
			return nil, err
		}
		ops := []*operand{left}
		for {
			o, err := p.operand()
			if err != nil {
				return nil, err
			}
			ops = append(ops, o)
			if p.peek().kind == tokComma {
				p.next()
				continue
			}
			break
		}
		if _, err := p.expect(tokRParen); err != nil {
			return nil, err
		}
		if len(ops) > 101 {
			return nil, p.exprErr("The IN operator is provided with too many operands; number of operands: %d", len(ops)-1)
		}
		return &condNode{op: "in", operands: ops}, nil
	}
	return nil, p.syntax()
}

func (p *parser) condFunc(name string, argc int) (*condNode, *codedError) {
	p.next() // name
	p.next() // (
	var args []*operand
	for {
		o, err := p.operand()
		if err != nil {
			return nil, err
		}
		args = append(args, o)
		if p.peek().kind != tokComma {
			break
		}
		p.next()
	}
	if _, err := p.expect(tokRParen); err != nil {
		return nil, err
	}
	if len(args) != argc {
		return nil, p.exprErr("Incorrect number of operands for operator or function; operator or function: %s, number of operands: %d", name, len(args))
	}
	if args[0].kind != opdPath {
		return nil, p.exprErr("Operator or function requires a document path; operator or function: %s", name)
	}
	if name == "attribute_type" {
		v := args[1]
		valid := []string{"B", "NULL", "SS", "BOOL", "L", "BS", "N", "NS", "S", "M"}
		if v.kind != opdValue || v.value.t != "S" {
			return nil, p.exprErr("Incorrect operand type for operator or function; operator or function: attribute_type, operand type: %s", operandType(v))
		}
		if !slices.Contains(valid, v.value.s) {
			return nil, p.exprErr("Invalid attribute type name found in type: %s, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}", v.value.s)
		}
	}
	if name == "begins_with" && args[1].kind == opdValue && args[1].value.t != "S" && args[1].value.t != "B" {
		return nil, p.exprErr("Incorrect operand type for operator or function; operator or function: begins_with, operand type: %s", args[1].value.t)
	}
	return &condNode{op: "func", fn: name, operands: args}, nil
}

func operandType(o *operand) string {
	if o.kind == opdValue {
		return o.value.t
	}
	return "path"
}
