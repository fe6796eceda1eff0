package alert

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// escape makes text from events and AWS answers safe to show in the alert:
// control characters (a newline that forges a line of the alert, an escape
// sequence for a terminal) and invisible format characters (a right-to-left
// override that reverses what a name reads as) become \uXXXX, so on-call
// reads exactly what was sent. Printable text, any script, passes unchanged.
func escape(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafeRune(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' || r == unicode.ReplacementChar
}

// escapeCause escapes every field of a cause that came from an event.
func escapeCause(c dhmc.Cause) dhmc.Cause {
	for _, f := range []*string{&c.Trigger, &c.EventName, &c.EventSource, &c.EventID, &c.EventTime, &c.Region,
		&c.Actor, &c.ActorARN, &c.ActorType, &c.InvokedBy, &c.SourceIP, &c.UserAgent, &c.ErrorCode, &c.ErrorMsg} {
		*f = escape(*f)
	}
	return c
}
