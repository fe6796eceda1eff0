package ddb

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// This file, condition.go and update_expr.go parse DynamoDB's expression
// languages: condition (and filter), key condition, update and projection
// expressions. The parser resolves #names and :values as it goes and records
// which ones were used, because DynamoDB refuses a request that defines one
// it does not use.
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
