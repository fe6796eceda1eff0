package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/account/types"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// RegionsMemory keeps the last good list of enabled Regions beyond a warm
// execution environment (the run ledger holds it), so that a failed listing
// falls back to it on a cold start too. Either call may fail; neither stops
// a run.
type RegionsMemory interface {
	LastRegions(ctx context.Context) ([]string, error)
	KeepRegions(ctx context.Context, regions []string) error
}

// ManagedRegions returns the configured Regions, or every Region enabled in
// the account, sorted, without the excluded ones.
func (r *Reconciler) ManagedRegions(ctx context.Context) ([]string, error) {
	regions := r.desired.Regions
	if len(regions) == 0 {
		var err error
		if regions, err = r.enabledRegions(ctx, &counter{}, nil); err != nil {
			return nil, err
		}
	}
	return slices.DeleteFunc(slices.Clone(regions), func(reg string) bool { return slices.Contains(r.desired.ExcludedRegions, reg) }), nil
}

// resolve turns the Regions a trigger asked for (nil: all) into the Regions
// to read, and says why any asked-for Region is left out. Only managed,
// enabled, not excluded Regions are ever read, so the SSM clients built for
// them stay bounded by the account's Regions, whatever a payload names.
//
// When the enabled Regions cannot be listed, the run goes on with the last
// good list (fallback) plus the Regions asked for, and unlisted says why:
// a failed prerequisite must not stop the role from being checked.
func (rn *run) resolve(ctx context.Context, asked []string) (regions []string, ignored []dhmc.IgnoredRegion, unlisted *dhmc.RegionError) {
	d := rn.r.desired
	managed := d.Regions
	why := "not in the configured ManagedRegions"
	if len(managed) == 0 {
		var err error
		why = "not enabled in the account"
		if managed, err = rn.r.enabledRegions(ctx, rn.calls, rn.memory); err != nil {
			var from string
			managed, from = rn.r.lastGoodRegions(ctx, rn.memory)
			managed = sortedUnique(append(managed, asked...))
			unlisted = &dhmc.RegionError{
				Region: dhmc.ErrorPlaceRegions,
				Error:  fmt.Sprintf("Regions could not be listed: %s; checked %s", describe(ctx, err), from),
			}
		}
	}
	sweep := len(asked) == 0
	if sweep {
		asked = managed
	}
	for _, reg := range sortedUnique(asked) {
		switch {
		case slices.Contains(d.ExcludedRegions, reg):
			// A sweep's exclusions are in the report's RegionsExcluded; a
			// trigger that named one is told why nothing happened.
			if !sweep {
				ignored = append(ignored, dhmc.IgnoredRegion{Region: reg, Reason: "excluded by ExcludedRegions"})
			}
		case !slices.Contains(managed, reg):
			ignored = append(ignored, dhmc.IgnoredRegion{Region: reg, Reason: why})
		default:
			regions = append(regions, reg)
		}
	}
	return regions, ignored, unlisted
}

// lastGoodRegions is what a run reads when the listing failed: the warm
// environment's list however old, else the remembered one, else none (the
// Regions asked for are added by the caller). from says which, for people.
func (r *Reconciler) lastGoodRegions(ctx context.Context, mem RegionsMemory) (regions []string, from string) {
	r.mu.Lock()
	warm, at := r.enabled, r.enabledAt
	r.mu.Unlock()
	if warm != nil {
		return warm, fmt.Sprintf("the %d Regions listed at %s instead", len(warm), at.UTC().Format(time.RFC3339))
	}
	if mem != nil {
		kept, err := mem.LastRegions(ctx)
		kept = slices.DeleteFunc(sortedUnique(kept), func(reg string) bool { return !dhmc.ValidRegion(reg) })
		switch {
		case err != nil:
			from = "no last good list either (reading it: " + err.Error() + "): only the Regions the event named"
			return nil, from
		case len(kept) > 0:
			return kept, fmt.Sprintf("the last good list instead (%d Regions, from the ledger)", len(kept))
		}
	}
	return nil, "no last good list: only the Regions the event named"
}

// enabledRegions lists the account's enabled Regions, kept for RegionsTTL in
// a warm execution environment, and in mem (if any) whenever the list
// differs from what this environment last kept there.
func (r *Reconciler) enabledRegions(ctx context.Context, calls *counter, mem RegionsMemory) ([]string, error) {
	now := r.opts.Now()
	r.mu.Lock()
	if r.enabled != nil && now.Sub(r.enabledAt) < r.opts.RegionsTTL {
		out := r.enabled
		r.mu.Unlock()
		return out, nil
	}
	r.mu.Unlock()

	in := &account.ListRegionsInput{
		MaxResults:              aws.Int32(50), // the most allowed: one page for every partition today
		RegionOptStatusContains: []types.RegionOptStatus{types.RegionOptStatusEnabled, types.RegionOptStatusEnabledByDefault},
	}
	var out []string
	for {
		calls.add("account:ListRegions")
		page, err := r.clients.Regions.ListRegions(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing enabled Regions: %w", err)
		}
		for _, reg := range page.Regions {
			if name := aws.ToString(reg.RegionName); dhmc.ValidRegion(name) {
				out = append(out, name)
			}
		}
		if page.NextToken == nil || *page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	if len(out) == 0 {
		return nil, errors.New("listing enabled Regions: the account reports none")
	}
	out = sortedUnique(out)
	r.mu.Lock()
	r.enabled, r.enabledAt = out, now
	keep := mem != nil && !slices.Equal(out, r.kept)
	r.mu.Unlock()
	if keep && mem.KeepRegions(ctx, out) == nil {
		// Once per execution environment, and when the list changes: a
		// failed write is tried again at the next listing.
		r.mu.Lock()
		r.kept = out
		r.mu.Unlock()
	}
	return out, nil
}
