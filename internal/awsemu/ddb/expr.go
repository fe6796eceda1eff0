package ddb

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// This file parses DynamoDB's expression languages: condition (and filter),
// key condition, update and projection expressions. The parser resolves
// #names and :values as it goes and records which ones were used, because
// DynamoDB refuses a request that defines one it does not use.
//
// Not emulated: DynamoDB's list of ~570 reserved words (an attribute name such
// as "name" or "status" written without a #placeholder is refused by AWS and
// accepted here). The SDK's expression builder always uses placeholders.

// exprEnv resolves placeholders for one request and remembers which were used.
type exprEnv struct {
	names      map[string]string
	values     map[string]*av
	usedNames  map[string]bool
	usedValues map[string]bool
}

func newExprEnv(names map[string]string, values map[string]*av) *exprEnv {
	return &exprEnv{names: names, values: values, usedNames: map[string]bool{}, usedValues: map[string]bool{}}
}

// unused reports a placeholder defined but used by no expression, as
// DynamoDB does once every expression of the request is parsed.
func (e *exprEnv) unused() *codedError {
	for _, k := range slices.Sorted(maps.Keys(e.names)) {
		if !e.usedNames[k] {
			return validationErr("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(e.values)) {
		if !e.usedValues[k] {
			return validationErr("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", k)
		}
	}
	return nil
}

// pathElem is one step of a document path: a map key or a list index.
type pathElem struct {
	name  string
	index int
	isIdx bool
}

type docPath []pathElem

func (p docPath) String() string {
	var b strings.Builder
	for i, e := range p {
		switch {
		case e.isIdx:
			fmt.Fprintf(&b, "[%d]", e.index)
		case i > 0:
			b.WriteString("." + e.name)
		default:
			b.WriteString(e.name)
		}
	}
	return b.String()
}

// operand kinds.
const (
	opdPath = iota
	opdValue
	opdSize
	opdIfNotExists
	opdListAppend
	opdPlus
	opdMinus
)

type operand struct {
	kind  int
	path  docPath
	value *av
	args  []*operand
}

// condNode is a node of a condition: and/or/not, a comparison, between, in,
// or a function call.
type condNode struct {
	op       string // and or not cmp between in func
	cmp      string // for cmp
	fn       string // for func
	kids     []*condNode
	operands []*operand
}

type parser struct {
	toks []token
	i    int
	src  string
	what string // ConditionExpression, UpdateExpression, ...
	env  *exprEnv
}

// exprErr is an invalid-expression validation error, worded as DynamoDB.
func (p *parser) exprErr(format string, args ...any) *codedError {
	return validationErr("Invalid %s: %s", p.what, fmt.Sprintf(format, args...))
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) syntax() *codedError {
	se := &syntaxError{tok: p.peek(), src: p.src}
	return p.exprErr("%s", se.message())
}

func (p *parser) keyword(t token, kw string) bool {
	return t.kind == tokIdent && strings.EqualFold(t.text, kw)
}

func (p *parser) expect(k tokKind) (token, *codedError) {
	if p.peek().kind != k {
		return token{}, p.syntax()
	}
	return p.next(), nil
}

func newParser(src, what string, env *exprEnv) (*parser, *codedError) {
	if strings.TrimSpace(src) == "" {
		return nil, validationErr("Invalid %s: The expression can not be empty;", what)
	}
	toks, se := lex(src)
	if se != nil {
		return nil, validationErr("Invalid %s: %s", what, se.message())
	}
	return &parser{toks: toks, src: src, what: what, env: env}, nil
}

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

// operand is a document path, a :value, or size(path).
func (p *parser) operand() (*operand, *codedError) {
	t := p.peek()
	switch t.kind {
	case tokValue:
		p.next()
		v, ok := p.env.values[t.text]
		if !ok {
			return nil, p.exprErr("An expression attribute value used in expression is not defined; attribute value: %s", t.text)
		}
		p.env.usedValues[t.text] = true
		return &operand{kind: opdValue, value: v}, nil
	case tokIdent:
		if t.text == "size" && p.toks[p.i+1].kind == tokLParen {
			p.next()
			p.next()
			path, err := p.path()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tokRParen); err != nil {
				return nil, err
			}
			return &operand{kind: opdSize, path: path}, nil
		}
		if reservedExprWord(t.text) {
			return nil, p.syntax()
		}
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		return &operand{kind: opdPath, path: path}, nil
	case tokName:
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		return &operand{kind: opdPath, path: path}, nil
	}
	return nil, p.syntax()
}

// reservedExprWord are the words of the expression grammar itself, which can
// never be attribute names.
func reservedExprWord(s string) bool {
	switch strings.ToUpper(s) {
	case "AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE":
		return true
	}
	return false
}

// path parses name(.name | [index])*.
func (p *parser) path() (docPath, *codedError) {
	var out docPath
	for {
		t := p.peek()
		switch {
		case t.kind == tokName:
			p.next()
			n, ok := p.env.names[t.text]
			if !ok {
				return nil, p.exprErr("An expression attribute name used in the document path is not defined; attribute name: %s", t.text)
			}
			p.env.usedNames[t.text] = true
			out = append(out, pathElem{name: n})
		case t.kind == tokIdent && !reservedExprWord(t.text) && !(t.text[0] >= '0' && t.text[0] <= '9'):
			p.next()
			out = append(out, pathElem{name: t.text})
		default:
			return nil, p.syntax()
		}
		for p.peek().kind == tokLBracket {
			p.next()
			n, err := p.expect(tokNumber)
			if err != nil {
				return nil, err
			}
			idx, perr := strconv.Atoi(n.text)
			if perr != nil {
				return nil, p.exprErr("List index is too large")
			}
			if _, err := p.expect(tokRBracket); err != nil {
				return nil, err
			}
			out = append(out, pathElem{index: idx, isIdx: true})
		}
		if p.peek().kind != tokDot {
			return out, nil
		}
		p.next()
	}
}

// parseProjection parses a comma-separated list of document paths.
func parseProjection(src string, env *exprEnv) ([]docPath, *codedError) {
	p, err := newParser(src, "ProjectionExpression", env)
	if err != nil {
		return nil, err
	}
	var out []docPath
	for {
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		for _, prev := range out {
			if overlaps(prev, path) {
				return nil, validationErr("Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: %s, path two: %s", pathList(prev), pathList(path))
			}
		}
		out = append(out, path)
		if p.peek().kind == tokEOF {
			return out, nil
		}
		if _, err := p.expect(tokComma); err != nil {
			return nil, err
		}
	}
}

func pathList(p docPath) string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.isIdx {
			parts[i] = "[" + strconv.Itoa(e.index) + "]"
		} else {
			parts[i] = e.name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// overlaps reports whether one path is a prefix of the other.
func overlaps(a, b docPath) bool {
	n := min(len(a), len(b))
	return slices.Equal(a[:n], b[:n])
}
