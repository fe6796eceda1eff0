package ledger

import (
	"maps"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// TestAnUnreadableRoleIsItsOwnKindInTheNormalWindow: a role error is told
// as role-unreadable and the Region list's as regions-unlisted, both high
// and in the group window, so told again every window (with the digest of
// the repeats), not once a day; a Region's error stays region-unreachable,
// once a day.
func TestAnUnreadableRoleIsItsOwnKindInTheNormalWindow(t *testing.T) {
	rep := &dhmc.Report{StartedAt: t0.Format(time.RFC3339), Errors: []dhmc.RegionError{
		{Region: dhmc.ErrorPlaceRole, Error: "reading role X: AccessDenied"},
		{Region: dhmc.ErrorPlaceRegions, Error: "Regions could not be listed: AccessDeniedException"},
		{Region: "eu-west-1", Error: "InternalServerError"},
	}}
	kinds := map[string]string{}
	for _, sg := range SignalsOf(rep, nil, t0) {
		kinds[sg.Item] = sg.Kind
		if sg.Severity != SeverityHigh {
			t.Errorf("%s %s severity %q, want high", sg.Item, sg.Kind, sg.Severity)
		}
	}
	want := map[string]string{"iam": "role-unreadable", "regions": "regions-unlisted", "eu-west-1": KindRegionUnreachable}
	if !maps.Equal(kinds, want) {
		t.Errorf("kinds %v, want %v", kinds, want)
	}
	// Sweeps every 30 minutes for 5 hours, one error each.
	for item, wantMsgs := range map[string]int{"iam": 5, "regions": 5, "eu-west-1": 1} {
		s := newSim(t, DefaultPolicy())
		for i := range 10 {
			at := t0.Add(time.Duration(i) * 30 * time.Minute)
			for _, sg := range SignalsOf(rep, nil, at) {
				if sg.Item == item {
					sg.At = at
					s.run(at, sg)
				}
			}
		}
		s.sweep(t0.Add(5 * time.Hour))
		if len(s.messages) < wantMsgs || (wantMsgs == 1 && len(s.messages) != 1) {
			t.Errorf("%s (%s) over 5 hours: %d messages %v, want %d", item, kinds[item], len(s.messages), s.messages, wantMsgs)
		}
	}
}
