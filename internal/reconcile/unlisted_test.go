package reconcile_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

// memory is a RegionsMemory in a map, as the ledger keeps it in an item.
type memory struct {
	mu      sync.Mutex
	regions []string
	keeps   int
	err     error
}

func (m *memory) LastRegions(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.regions), m.err
}

func (m *memory) KeepRegions(_ context.Context, regions []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keeps++
	if m.err != nil {
		return m.err
	}
	m.regions = slices.Clone(regions)
	return nil
}

// unlistedError is the report's error for the Region list, "" if none.
func unlistedError(rep *dhmc.Report) string { return rep.RegionsUnlisted() }

// TestFailedRegionListingStillChecksAndRepairsTheRole: ManagedRegions=all,
// account:ListRegions denied (an SCP on account:*) or failing, and the DHMC
// role has AdministratorAccess attached. The run does not stop: the role is
// read and repaired, the Region an event named is read and repaired, and
// the report's errors say the Regions could not be listed and why.
func TestFailedRegionListingStillChecksAndRepairsTheRole(t *testing.T) {
	for _, tc := range []struct {
		kind awsemu.FaultKind
		code string
	}{{awsemu.FaultAccessDenied, "AccessDeniedException"}, {awsemu.FaultServerError, "InternalServerException"}} {
		t.Run(tc.code, func(t *testing.T) {
			e := newEnv(t) // ManagedRegions=all
			e.seedCompliant(awsemu.DefaultRegions...)
			e.editRole(func(r *awsemu.Role) { r.AttachedPolicies = append(r.AttachedPolicies, adminARN) })
			e.srv.SetSetting(acct, "eu-west-1", "$None")
			e.srv.Inject(awsemu.Fault{Op: "account:ListRegions", Kind: tc.kind})

			rep, err := e.reconciler(reconcile.Options{}).Run(t.Context(), reconcile.Scope{Regions: []string{"eu-west-1"}})
			if err != nil {
				t.Fatalf("Run: %v: a failed listing must not stop the run", err)
			}
			why := unlistedError(rep)
			if !strings.HasPrefix(why, "Regions could not be listed: ") || !strings.Contains(why, tc.code) {
				t.Errorf("report errors %+v, want one saying the Regions could not be listed, with %s", rep.Errors, tc.code)
			}
			if !rep.Failed() || !rep.RoleChecked {
				t.Errorf("failed %v, role checked %v: want a failed run that checked the role", rep.Failed(), rep.RoleChecked)
			}
			if !slices.Equal(rep.Regions, []string{"eu-west-1"}) {
				t.Errorf("regions checked %v, want the event's eu-west-1", rep.Regions)
			}
			got := kinds(rep)
			for _, want := range []string{"unexpected-managed-policy done", "setting-disabled eu-west-1 done"} {
				if !slices.Contains(got, want) {
					t.Errorf("findings %q, want %q", got, want)
				}
			}
			e.assertDesired("eu-west-1")
		})
	}
}

// TestFailedRegionListingFallsBackToTheLastGoodList: the warm environment's
// list however old, else the one the memory kept, else none; the memory is
// written once per environment, and again only when the list changes.
func TestFailedRegionListingFallsBackToTheLastGoodList(t *testing.T) {
	e := newEnv(t)
	e.seedCompliant(awsemu.DefaultRegions...)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	mem := &memory{}
	warm := e.reconciler(reconcile.Options{Now: func() time.Time { return now }})
	scope := reconcile.Scope{Memory: mem}
	for range 3 {
		if _, err := warm.Run(t.Context(), scope); err != nil {
			t.Fatal(err)
		}
		now = now.Add(10 * time.Minute) // past the TTL: listed again
	}
	if mem.keeps != 1 || !slices.Equal(mem.regions, sorted(awsemu.DefaultRegions)) {
		t.Errorf("memory written %d times with %v, want once with the %d default Regions", mem.keeps, mem.regions, len(awsemu.DefaultRegions))
	}
	e.srv.SetEnabledRegions(acct, append(slices.Clone(awsemu.DefaultRegions), "af-south-1"))
	e.srv.SetSetting(acct, "af-south-1", e.desired.SettingValue())
	if _, err := warm.Run(t.Context(), scope); err != nil {
		t.Fatal(err)
	}
	if mem.keeps != 2 || !slices.Contains(mem.regions, "af-south-1") {
		t.Errorf("memory written %d times with %v, want again with af-south-1", mem.keeps, mem.regions)
	}

	e.srv.Inject(awsemu.Fault{Op: "account:ListRegions", Kind: awsemu.FaultAccessDenied})
	e.srv.SetSetting(acct, "af-south-1", "$None")
	now = now.Add(time.Hour)
	cases := []struct {
		name string
		r    *reconcile.Reconciler
		mem  reconcile.RegionsMemory
		want int
		from string
	}{
		{"warm environment", warm, nil, len(awsemu.DefaultRegions) + 1, "listed at"},
		{"cold, the kept list", e.reconciler(reconcile.Options{}), mem, len(awsemu.DefaultRegions) + 1, "from the ledger"},
		{"cold, no memory", e.reconciler(reconcile.Options{}), nil, 0, "no last good list"},
		{"cold, memory failing", e.reconciler(reconcile.Options{}), &memory{err: errors.New("ledger down")}, 0, "ledger down"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := tc.r.Run(t.Context(), reconcile.Scope{Memory: tc.mem, Mode: dhmc.ModeCheck})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Regions) != tc.want || !strings.Contains(unlistedError(rep), tc.from) {
				t.Errorf("%d Regions checked, error %q; want %d and %q", len(rep.Regions), unlistedError(rep), tc.want, tc.from)
			}
			if tc.want > 0 && !slices.Contains(kinds(rep), "setting-disabled af-south-1 skipped") {
				t.Errorf("findings %q: the fallback list's af-south-1 was not read", kinds(rep))
			}
			if !rep.RoleChecked {
				t.Error("role not checked")
			}
		})
	}
}
