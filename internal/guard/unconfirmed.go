package guard

import (
	"unicode/utf8"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// OutcomeUnconfirmed is the outcome attribute of a re-delivered alert that
// was recorded as its repair started and never confirmed: the run ended
// (timed out, stopped) between the record and the publish.
const OutcomeUnconfirmed = "unconfirmed"

// unconfirmedPrefix leads the subject of such a re-delivery.
const unconfirmedPrefix = "UNCONFIRMED: "

// unconfirmedNote opens its body: what is known and what is not.
const unconfirmedNote = "OUTCOME NOT CONFIRMED: this alert was recorded as the repair started, and the run ended " +
	"(timed out or stopped) before the outcome was confirmed. The repairs it names may or may not have been made. " +
	"The next sweep verifies every item named here and tells if one is not compliant.\n\n" +
	"As recorded when the repair started (the outcome expected, not the outcome seen):\n\n"

// unconfirmed is the re-delivery of outbox entry a when it carries
// ledger.Alert.Expected: its text says so in the subject, the body and the
// card, so that a run that ended between the record and the publish never
// tells a repair it did not see as done.
func unconfirmed(a ledger.Alert, attrs map[string]string) alert.Message {
	subj := unconfirmedPrefix + a.Subject
	for len(subj) > alert.MaxSubject {
		_, n := utf8.DecodeLastRuneInString(subj)
		subj = subj[:len(subj)-n]
	}
	body := a.Body
	if room := alert.MaxMessage - 8*1024 - len(unconfirmedNote); len(body) > room {
		for len(body) > room {
			_, n := utf8.DecodeLastRuneInString(body)
			body = body[:len(body)-n]
		}
		body += "\n[cut to fit the SNS message limit]\n"
	}
	attrs[alert.AttrOutcome] = OutcomeUnconfirmed
	return alert.Message{Subject: subj, Body: unconfirmedNote + body, Severity: a.Severity, Outcome: OutcomeUnconfirmed, Attributes: attrs}
}
