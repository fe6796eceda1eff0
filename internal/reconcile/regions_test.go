package reconcile_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

func TestEnabledRegionsAreListedOncePerWarmEnvironmentAndAgainAfterTheirTTL(t *testing.T) {
	e := newEnv(t) // ManagedRegions=all
	e.seedCompliant(awsemu.DefaultRegions...)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	r := e.reconciler(reconcile.Options{RegionsTTL: 5 * time.Minute, Now: func() time.Time { return now }})
	lists := func() int {
		return e.srv.CountCalls(func(c awsemu.Call) bool { return c.Operation == "ListRegions" })
	}
	for i, want := range []struct {
		advance time.Duration
		lists   int
	}{{0, 1}, {time.Minute, 1}, {3 * time.Minute, 1}, {2 * time.Minute, 2}} {
		now = now.Add(want.advance)
		rep, err := r.Run(t.Context(), reconcile.Scope{})
		if err != nil || len(rep.Regions) != len(awsemu.DefaultRegions) {
			t.Fatalf("run %d: %v, %d Regions", i, err, len(rep.Regions))
		}
		if got := lists(); got != want.lists {
			t.Errorf("run %d (+%s): %d ListRegions calls so far, want %d", i, want.advance, got, want.lists)
		}
		// A warm sweep is R + 3 reads: no discovery call at all.
		if wantReads := len(awsemu.DefaultRegions) + 3; i == 1 && rep.Reads != wantReads {
			t.Errorf("warm sweep: %d reads, want %d", rep.Reads, wantReads)
		}
	}
}

func TestRegionsOutsideTheAccountAreIgnoredAndGetNoClient(t *testing.T) {
	e := newEnv(t) // ManagedRegions=all
	e.desired.ExcludedRegions = []string{"us-west-2"}
	e.seedCompliant(awsemu.DefaultRegions...)
	var (
		mu      sync.Mutex
		clients = map[string]bool{}
	)
	inner := e.clients.SSM
	e.clients.SSM = func(region string) reconcile.SettingsAPI {
		mu.Lock()
		clients[region] = true
		mu.Unlock()
		return inner(region)
	}
	// 64 valid Region codes, most of which this account does not have.
	asked := []string{"eu-west-1", "us-west-2", "af-south-1"}
	for i := len(asked); i < reconcile.MaxScopeRegions; i++ {
		asked = append(asked, fmt.Sprintf("xx-test-%d", i))
	}
	if slices.ContainsFunc(asked, func(r string) bool { return !dhmc.ValidRegion(r) }) {
		t.Fatal("the test's Region codes must be valid codes")
	}
	rep := e.run(t.Context(), reconcile.Scope{Regions: asked})
	if !slices.Equal(rep.Regions, []string{"eu-west-1"}) || len(rep.Errors) != 0 || rep.Failed() {
		t.Fatalf("regions %v, errors %v", rep.Regions, rep.Errors)
	}
	if len(clients) != 1 || !clients["eu-west-1"] {
		t.Errorf("SSM clients built for %v, want only eu-west-1", clients)
	}
	reasons := map[string]string{}
	for _, ig := range rep.RegionsIgnored {
		reasons[ig.Region] = ig.Reason
	}
	if reasons["us-west-2"] != "excluded by ExcludedRegions" || reasons["af-south-1"] != "not enabled in the account" || len(reasons) != len(asked)-1 {
		t.Errorf("ignored = %v", reasons)
	}
	if _, err := e.reconciler(reconcile.Options{}).Run(t.Context(), reconcile.Scope{Regions: append(asked, "eu-north-1", "eu-south-1")}); err == nil {
		t.Error("a scope of more than 64 Regions must be refused")
	}
}

func TestExcludedRegionsAreNeverReadNorWritten(t *testing.T) {
	e := newEnv(t, "eu-west-1", "us-east-1")
	e.desired.ExcludedRegions = []string{"us-east-1"}
	e.seedCompliant("eu-west-1")
	rep := e.run(t.Context(), reconcile.Scope{})
	if !slices.Equal(rep.Regions, []string{"eu-west-1"}) || !slices.Equal(rep.RegionsExcluded, []string{"us-east-1"}) || len(rep.Results) != 0 {
		t.Errorf("regions %v, excluded %v, findings %q", rep.Regions, rep.RegionsExcluded, kinds(rep))
	}
	if n := e.srv.CountCalls(func(c awsemu.Call) bool { return c.Region == "us-east-1" }); n != 0 {
		t.Errorf("%d calls in the excluded Region", n)
	}
}
