// Package alerttest checks, for the tests and fuzz targets of the renderers
// (internal/alert, internal/central), that text from outside is inert in
// every sink: the SNS subject, the e-mail, the chat card's markdown and
// JSON. Its rules are written apart from the escaping they check
// (alert/escape.go), so a gap in one is not copied into the other.
package alerttest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Hostile are strings an attacker puts in a CloudTrail event (session name,
// user agent, source IP, event time) or an IAM policy name or document: the
// seed corpus of the fuzz targets and the values of the end-to-end test.
var Hostile = []string{
	"[click here](https://evil.example/login)",
	"![x](https://evil.example/pixel.png)",
	"<https://evil.example|AWS console>",
	"<!channel> <!here> <@U0123ABCD> @channel @here",
	"https://evil.example/a?b=c mallory@evil.example www.evil.example",
	"bob\r\nWho:      user alice\r\n",
	"line\u2028separator\u2029paragraph",
	"nel\u0085next",
	"admin\u202egnp.exe",
	"\u2066isolate\u2069\u200e\u200f\u061c\u202a\u202b\u202c\u202d",
	"zero\u200bwidth\ufeff\u2060joiner\u200d",
	"tag\U000E0041\U000E0042 chars",
	"\x1b[2J\x1b]8;;https://evil.example\x07link\x1b]8;;\x07",
	"# heading\n> quote\n| a | b |\n|---|---|\n```\nfence\n```",
	"*bold* _italic_ ~strike~ `code` **x**",
	"``` `` ` \\` \\u202e",
	"invalid \xff\xfe utf-8 \xc3",
	"\ufffd replacement",
	"\u3164hangul filler\u115f",
	strings.Repeat("A", 5000),
	strings.Repeat("\u202e", 300),
	"",
}

// Forbidden reports a character that must never reach a person unescaped:
// controls (except the line feed the renderer writes, which the caller
// allows), format characters (bidi, zero-width, tags), line and paragraph
// separators, private-use, surrogates, unassigned code points, the
// replacement character, and invisible fillers.
func Forbidden(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return true
	case r < 0x7f:
		return false
	case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs):
		return true
	case r == utf8.RuneError, r == 0x3164, r == 0x115f, r == 0x1160, r == 0xffa0, r == 0x034f, r == 0x2800:
		return true
	}
	return !unicode.IsGraphic(r)
}

// SubjectProblems checks an SNS subject: ASCII, printable, one line, at
// most 99 characters ("less than 100"), starting with a letter, number or
// punctuation mark, and nothing a chat title could render as a link,
// mention or code.
func SubjectProblems(s string) []string {
	var p []string
	if s == "" {
		return []string{"subject is empty"}
	}
	if len(s) > 99 {
		p = append(p, fmt.Sprintf("subject is %d characters, over 99", len(s)))
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			p = append(p, fmt.Sprintf("subject byte %d is %#x: not printable ASCII", i, s[i]))
			break
		}
	}
	if c := rune(s[0]); !unicode.IsLetter(c) && !unicode.IsDigit(c) && !unicode.IsPunct(c) && !unicode.IsSymbol(c) {
		p = append(p, fmt.Sprintf("subject starts with %q", c))
	}
	for _, bad := range []string{"<", ">", "[", "]", "`", "|", "@", "://", "_", "*", "~"} {
		if strings.Contains(s, bad) {
			p = append(p, fmt.Sprintf("subject holds %q", bad))
		}
	}
	return p
}

// TextProblems checks plain text (the e-mail): valid UTF-8 and no forbidden
// character but the line feed.
func TextProblems(where, s string) []string {
	if !utf8.ValidString(s) {
		return []string{where + " is not valid UTF-8"}
	}
	for i, r := range s {
		if r != '\n' && Forbidden(r) {
			return []string{fmt.Sprintf("%s holds %U at byte %d: %q", where, r, i, around(s, i))}
		}
	}
	return nil
}

// LineProblems checks text that must be one line: TextProblems and no
// line feed.
func LineProblems(where, s string) []string {
	if strings.Contains(s, "\n") {
		return []string{fmt.Sprintf("%s has a line break: %q", where, s)}
	}
	return TextProblems(where, s)
}

// autolink is what a chat client turns into a link without markup: a URL,
// a bare domain or an e-mail address.
var autolink = regexp.MustCompile(`(?i)://|www\.|[a-z0-9-]\.[a-z]{2,}|@`)

// MarkdownProblems checks the chat card's markdown: every value from
// outside sits in an inline code span that nothing can close or escape,
// and what is outside the spans (the renderer's own words) forms no link,
// image, mention, heading, quote, table or fence.
func MarkdownProblems(where, md string) []string {
	if p := TextProblems(where, md); p != nil {
		return p
	}
	var p []string
	for n, line := range strings.Split(md, "\n") {
		at := fmt.Sprintf("%s line %d %q", where, n+1, line)
		if line == "" {
			continue
		}
		if strings.ContainsAny(line[:1], "#>|-+=~` \t") || strings.HasPrefix(line, "```") {
			p = append(p, at+": starts with block markup")
		}
		parts := strings.Split(line, "`")
		if len(parts)%2 == 0 {
			p = append(p, at+": a code span is left open")
			continue
		}
		for i, part := range parts {
			if i%2 == 1 { // inside a code span
				if strings.ContainsAny(part, "<>") {
					p = append(p, at+": < or > inside code (Slack reads <!channel> and <url|text> first)")
				}
				continue
			}
			if strings.ContainsAny(part, "<>[]|_~#!\\") {
				p = append(p, fmt.Sprintf("%s: markup %q outside code", at, part))
			}
			if autolink.MatchString(part) {
				p = append(p, fmt.Sprintf("%s: a link or address outside code in %q", at, part))
			}
			if strings.Count(part, "*")%2 != 0 {
				p = append(p, fmt.Sprintf("%s: unpaired emphasis in %q", at, part))
			}
		}
	}
	return p
}

// CardProblems checks a chat card (Amazon Q custom notification) as
// published: valid JSON; version "1.0", source "custom", textType
// "client-markdown" and a description (the schema's required fields); the
// description and next steps as markdown; every other string one plain,
// inert line.
func CardProblems(card string) []string {
	if !json.Valid([]byte(card)) {
		return []string{"card is not valid JSON"}
	}
	var c struct {
		Version, Source, ID string
		Content             struct {
			TextType, Title, Description string
			NextSteps, Keywords          []string
		}
		Metadata *struct {
			ThreadID, Summary, EventType string
			RelatedResources             []string
			AdditionalContext            map[string]string
		}
	}
	if err := json.Unmarshal([]byte(card), &c); err != nil {
		return []string{"card does not decode: " + err.Error()}
	}
	var p []string
	if c.Version != "1.0" || c.Source != "custom" || c.Content.TextType != "client-markdown" || c.Content.Description == "" {
		p = append(p, fmt.Sprintf("card lacks required fields: version %q source %q textType %q description %d bytes",
			c.Version, c.Source, c.Content.TextType, len(c.Content.Description)))
	}
	p = append(p, TextProblems("card JSON", card)...)
	p = append(p, MarkdownProblems("description", c.Content.Description)...)
	for i, s := range c.Content.NextSteps {
		p = append(p, LineProblems(fmt.Sprintf("nextSteps[%d]", i), s)...)
		p = append(p, MarkdownProblems(fmt.Sprintf("nextSteps[%d]", i), s)...)
	}
	title := strings.TrimLeft(c.Content.Title, ":abcdefghijklmnopqrstuvwxyz_ ") // the icon
	p = append(p, LineProblems("title", c.Content.Title)...)
	if title != "" {
		p = append(p, SubjectProblems(title)...)
	}
	for i, s := range c.Content.Keywords {
		p = append(p, LineProblems(fmt.Sprintf("keywords[%d]", i), s)...)
		if strings.ContainsAny(s, "<>[]`|@*_~") || strings.Contains(s, "://") {
			p = append(p, fmt.Sprintf("keyword %q holds markup", s))
		}
	}
	p = append(p, LineProblems("id", c.ID)...)
	if m := c.Metadata; m != nil {
		p = append(p, LineProblems("threadId", m.ThreadID)...)
		p = append(p, LineProblems("summary", m.Summary)...)
		for _, s := range m.RelatedResources {
			p = append(p, LineProblems("relatedResources", s)...)
		}
		for k, v := range m.AdditionalContext {
			p = append(p, LineProblems("additionalContext."+k, v)...)
		}
	}
	return p
}

// StructureProblems checks an SNS message published with MessageStructure
// "json": valid JSON of strings, the default (the e-mail) as text, and the
// https one (Amazon Q's) as a card.
func StructureProblems(structure string) []string {
	var s map[string]string
	if err := json.Unmarshal([]byte(structure), &s); err != nil {
		return []string{"message structure is not a JSON object of strings: " + err.Error()}
	}
	p := TextProblems("message structure", structure)
	p = append(p, TextProblems("default message", s["default"])...)
	if card, ok := s["https"]; ok {
		p = append(p, CardProblems(card)...)
	}
	return p
}

func around(s string, i int) string {
	lo, hi := max(0, i-30), min(len(s), i+30)
	return s[lo:hi]
}
