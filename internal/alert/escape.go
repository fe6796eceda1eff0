package alert

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// Untrusted text. Every string that comes from an event (the caller's ARN
// and session name, the user agent, the source IP, the event time), from
// IAM or SSM (policy names and documents, error messages), from the ledger
// (which any principal with PutItem on its table can write) or from another
// account is escaped once, here, for the sink it goes to; the renderers
// (body.go, chat.go, notes.go, the central summary) call nothing else:
//
//   - Subject and SubjectPart: the SNS subject, printable ASCII, one line,
//     under 100 characters, nothing a chat title could render as markup.
//   - Text: one line of the e-mail, with every character that could forge a
//     line or hide what a name reads as shown as an escape, and bounded.
//   - Lines: text of several lines (a policy document) for the e-mail.
//   - Code: a value in the chat card's markdown, as inline code that no
//     renderer turns into a link, a mention or formatting.
//   - SafeJSON: JSON text with the same characters as \u escapes, which
//     decode to the same value.

// Display bounds of one untrusted field. A field beyond its bound is cut
// with an explicit "…(N more)"; the JSON report keeps it whole (the size
// of the whole document is bounded by the sink limits, not here).
const (
	// MaxActor bounds a readable actor ("role Admin (session bob)").
	MaxActor = 256
	// MaxARN bounds an ARN: IAM allows long paths, 512 keeps every
	// realistic one whole.
	MaxARN = 512
	// MaxShort bounds what is short when honest: an event ID or time, an
	// IP address, a Region, an error code, a policy or role name.
	MaxShort = 128
	// MaxAgent bounds a user agent.
	MaxAgent = 256
	// MaxText bounds free text: an error message, a reason, an observed or
	// desired value.
	MaxText = 1024
	// MaxLong bounds an observed or desired value in the e-mail (a list of
	// policy ARNs can be long and is what on-call needs).
	MaxLong = 4096
)

// Text makes s safe for one line of plain text (the e-mail) and at most
// max characters long (0: no bound). Control characters (CR/LF that forge
// a line, NEL, an escape sequence for a terminal), format characters (a
// right-to-left override that reverses what a name reads as, zero-width
// characters), line and paragraph separators and invalid UTF-8 become
// visible escapes (\u202e, \x80), so on-call reads exactly what was sent.
// Printable text, any script, passes unchanged.
func Text(s string, max int) string { return render(s, max, nil) }

// render escapes s for one line, and the characters in extra as given,
// keeping at most max characters of the result (0: no bound).
func render(s string, max int, extra map[rune]string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unsafeRune(r) || extra[r] != "" }) &&
		utf8.ValidString(s) && (max <= 0 || utf8.RuneCountInString(s) <= max) {
		return s
	}
	var b strings.Builder
	shown := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		piece := string(r)
		switch {
		case r == utf8.RuneError && size == 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case unsafeRune(r):
			piece = runeEscape(r)
		case extra[r] != "":
			piece = extra[r]
		}
		n := utf8.RuneCountInString(piece)
		if max > 0 && shown+n > max {
			fmt.Fprintf(&b, "…(%d more)", utf8.RuneCountInString(s[i:]))
			break
		}
		b.WriteString(piece)
		shown += n
		i += size
	}
	return b.String()
}

// Lines is Text for text of several lines, each bounded by max: a policy
// document. The lines it returns are joined by the renderer.
func Lines(s string, max int) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = Text(l, max)
	}
	return lines
}

// Block is Text for text whose line breaks are already the renderer's:
// a message that did not come from a renderer in this run (an outbox item
// re-sent, which anyone who can write the ledger table could have made)
// gets the e-mail's rules at the sink. A rendered body passes unchanged.
func Block(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r != '\n' && unsafeRune(r) }) && utf8.ValidString(s) {
		return s
	}
	return strings.Join(Lines(s, 0), "\n")
}

// Code makes s one inline code span of the chat card's markdown
// ("client-markdown", rendered in Slack's or Teams' own dialect). Inside a
// code span neither dialect makes links (marked up or bare URLs and e-mail
// addresses), images, emphasis or headings; what could still escape the
// span is escaped visibly: a backtick (which would close it), a line break
// (Text), and < and > (Slack reads <!channel>, <@U123> and <http://x|y>
// before any markdown).
func Code(s string, max int) string {
	if s == "" {
		s = "-"
	}
	return "`" + render(s, max, codeEscapes) + "`"
}

var codeEscapes = map[rune]string{'`': `\u0060`, '<': `\u003c`, '>': `\u003e`}

// SubjectPart makes an untrusted part of a subject (an account ID, a
// Region, a manager's name) inert in a subject and in the chat title that
// repeats it: letters, digits, spaces and . , = + - pass; anything else is
// "?", so no URL, mention or markup can form. At most max characters.
func SubjectPart(s string, max int) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" .,=+-", r)):
			b = append(b, byte(r))
		default:
			b = append(b, '?')
		}
	}
	if max > 0 && len(b) > max {
		b = append(b[:max-3], "..."...)
	}
	return string(b)
}

// Subject keeps a subject SNS accepts: the API reference asks for text
// "with no line breaks or control characters, and less than 100 characters
// long"; older revisions asked for ASCII beginning with a letter, number
// or punctuation mark. Both hold: printable ASCII ("?" for anything else),
// no leading space, at most MaxSubject characters.
func Subject(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range strings.TrimSpace(s) {
		if r >= 0x20 && r < 0x7f {
			b = append(b, byte(r))
		} else {
			b = append(b, '?')
		}
	}
	if len(b) == 0 {
		b = append(b, "DHMC guard alert"...)
	}
	if len(b) > MaxSubject {
		b = append(b[:MaxSubject-3], "..."...)
	}
	return string(b)
}

// clampSubject is Subject, by its older name in the renderers.
func clampSubject(s string) string { return Subject(s) }

// SafeJSON rewrites the characters Text escapes as JSON \u escapes (a
// surrogate pair beyond the BMP): the JSON decodes to the same value, and
// read as text (the e-mail's report, a log viewer, a rule's input
// transformer) it holds no bidi override or line separator. Go's encoder
// already escapes C0 controls in strings, so a raw CR, LF or tab in its
// output is structure and stays; invalid UTF-8 it writes as \ufffd.
func SafeJSON(s string) string {
	if !strings.ContainsFunc(s, jsonUnsafe) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 64)
	for _, r := range s {
		if !jsonUnsafe(r) {
			b.WriteRune(r)
			continue
		}
		if r > 0xffff {
			hi, lo := utf16Pair(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
			continue
		}
		fmt.Fprintf(&b, `\u%04x`, r)
	}
	return b.String()
}

func jsonUnsafe(r rune) bool { return r != '\n' && r != '\r' && r != '\t' && unsafeRune(r) }

func utf16Pair(r rune) (hi, lo rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// unsafeRune is a character that is not plainly visible: controls (Cc, C1
// NEL included), format characters (Cf: bidi embeddings, overrides and
// isolates, LRM/RLM/ALM, zero-width characters, tags), line and paragraph
// separators, private-use, surrogate and unassigned code points, the
// replacement character (what invalid UTF-8 decodes to), and the fillers
// that are letters by category but print nothing.
func unsafeRune(r rune) bool {
	if r < 0x7f {
		return r < 0x20
	}
	return !unicode.IsGraphic(r) || r == utf8.RuneError || invisible[r]
}

var invisible = map[rune]bool{
	0x034f: true, // combining grapheme joiner
	0x115f: true, // Hangul choseong filler
	0x1160: true, // Hangul jungseong filler
	0x17b4: true, // Khmer vowel inherent aq
	0x17b5: true, // Khmer vowel inherent aa
	0x2800: true, // Braille pattern blank
	0x3164: true, // Hangul filler
	0xffa0: true, // halfwidth Hangul filler
}

func runeEscape(r rune) string {
	if r > 0xffff {
		return fmt.Sprintf(`\U%08x`, r)
	}
	return fmt.Sprintf(`\u%04x`, r)
}

// escapeCause escapes and bounds every field of a cause that came from an
// event, for the e-mail.
func escapeCause(c dhmc.Cause) dhmc.Cause {
	bounds := []struct {
		f   *string
		max int
	}{
		{&c.Trigger, MaxShort}, {&c.EventName, MaxShort}, {&c.EventSource, MaxShort}, {&c.EventID, MaxShort},
		{&c.EventTime, MaxShort}, {&c.Region, MaxShort}, {&c.Actor, MaxActor}, {&c.ActorARN, MaxARN},
		{&c.ActorType, MaxShort}, {&c.InvokedBy, MaxShort}, {&c.SourceIP, MaxShort}, {&c.UserAgent, MaxAgent},
		{&c.ErrorCode, MaxShort}, {&c.ErrorMsg, MaxText},
	}
	for _, b := range bounds {
		*b.f = Text(*b.f, b.max)
	}
	return c
}
