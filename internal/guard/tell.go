package guard

import (
	"cmp"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

// told is r with only what the alert windows decided to tell now: a group
// held back as a repeat (an unreachable Region within its day, a drift
// within its window) is counted in the message's notes, not listed again as
// a finding, nor counted in its subject. The run's own record (ledger, log,
// central view) keeps the whole report.
func told(r *dhmc.Report, d ledger.Decisions) *dhmc.Report {
	type key struct{ item, kind, what string }
	send, held := map[key]bool{}, map[key]bool{}
	for _, g := range d.Groups {
		for _, s := range g.Signals {
			k := key{s.Item, s.Kind, s.What}
			if g.Send {
				send[k] = true
			} else {
				held[k] = true
			}
		}
	}
	if len(held) == 0 {
		return r
	}
	heldBack := func(k key) bool { return held[k] && !send[k] }
	out := *r
	out.Results = nil
	for _, x := range r.Results {
		if !heldBack(key{cmp.Or(x.Region, ledger.ItemRole), string(x.Kind), ledger.WhatOf(x.Finding)}) {
			out.Results = append(out.Results, x)
		}
	}
	out.Errors = nil
	for _, e := range r.Errors {
		if !heldBack(key{cmp.Or(e.Region, ledger.ItemRole), string(dhmc.ErrorKind(e)), ""}) {
			out.Errors = append(out.Errors, e)
		}
	}
	if !alert.Worth(&out) {
		// The windows sent a group this filter did not match: better the
		// whole report than a message that says nothing.
		return r
	}
	return &out
}
