package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/account/types"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// ManagedRegions returns the configured Regions, or every Region enabled in
// the account, sorted, without the excluded ones.
func (r *Reconciler) ManagedRegions(ctx context.Context) ([]string, error) {
	regions, _, err := (&run{r: r, calls: &counter{}}).resolve(ctx, nil)
	return regions, err
}

// resolve turns the Regions a trigger asked for (nil: all) into the Regions
// to read, and says why any asked-for Region is left out. Only managed,
// enabled, not excluded Regions are ever read, so the SSM clients built for
// them stay bounded by the account's Regions, whatever a payload names.
func (rn *run) resolve(ctx context.Context, asked []string) (regions []string, ignored []dhmc.IgnoredRegion, err error) {
	d := rn.r.desired
	managed := d.Regions
	why := "not in the configured ManagedRegions"
	if len(managed) == 0 {
		if managed, err = rn.r.enabledRegions(ctx, rn.calls); err != nil {
			return nil, nil, err
		}
		why = "not enabled in the account"
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
	return regions, ignored, nil
}

// enabledRegions lists the account's enabled Regions, kept for RegionsTTL in
// a warm execution environment.
func (r *Reconciler) enabledRegions(ctx context.Context, calls *counter) ([]string, error) {
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
	r.mu.Unlock()
	return out, nil
}
