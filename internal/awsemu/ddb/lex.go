package ddb

import (
	"fmt"
	"strings"
)

// The tokens of DynamoDB's expression languages.

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokName  // #name
	tokValue // :value
	tokNumber
	tokOp // = <> < <= > >= + -
	tokLParen
	tokRParen
	tokLBracket
	tokRBracket
	tokComma
	tokDot
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) String() string {
	if t.kind == tokEOF {
		return "<EOF>"
	}
	return t.text
}

// lex splits an expression into tokens. An unexpected character is reported
// the way DynamoDB reports it: as an invalid token near where it was found.
func lex(src string) ([]token, *syntaxError) {
	var out []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{tokLParen, "(", i})
			i++
		case c == ')':
			out = append(out, token{tokRParen, ")", i})
			i++
		case c == '[':
			out = append(out, token{tokLBracket, "[", i})
			i++
		case c == ']':
			out = append(out, token{tokRBracket, "]", i})
			i++
		case c == ',':
			out = append(out, token{tokComma, ",", i})
			i++
		case c == '.':
			out = append(out, token{tokDot, ".", i})
			i++
		case c == '=' || c == '+' || c == '-':
			out = append(out, token{tokOp, string(c), i})
			i++
		case c == '<':
			if i+1 < len(src) && (src[i+1] == '=' || src[i+1] == '>') {
				out = append(out, token{tokOp, src[i : i+2], i})
				i += 2
			} else {
				out = append(out, token{tokOp, "<", i})
				i++
			}
		case c == '>':
			if i+1 < len(src) && src[i+1] == '=' {
				out = append(out, token{tokOp, ">=", i})
				i += 2
			} else {
				out = append(out, token{tokOp, ">", i})
				i++
			}
		case c == '#' || c == ':':
			j := i + 1
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			if j == i+1 {
				return nil, &syntaxError{tok: token{tokIdent, string(c), i}, src: src}
			}
			k := tokName
			if c == ':' {
				k = tokValue
			}
			out = append(out, token{k, src[i:j], i})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			out = append(out, token{tokNumber, src[i:j], i})
			i = j
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			out = append(out, token{tokIdent, src[i:j], i})
			i = j
		default:
			r := src[i:]
			if len(r) > 1 {
				r = r[:1]
			}
			return nil, &syntaxError{tok: token{tokIdent, r, i}, src: src}
		}
	}
	out = append(out, token{kind: tokEOF, pos: len(src)})
	return out, nil
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

type syntaxError struct {
	tok token
	src string
}

// message words a syntax error as DynamoDB does: the offending token and the
// text around it.
func (e *syntaxError) message() string {
	start := max(0, e.tok.pos-8)
	end := min(len(e.src), e.tok.pos+len(e.tok.text)+8)
	near := strings.TrimSpace(e.src[start:end])
	if e.tok.kind == tokEOF {
		return fmt.Sprintf("Syntax error; token: <EOF>, near: %q", near)
	}
	return fmt.Sprintf("Syntax error; token: %q, near: %q", e.tok.text, near)
}
