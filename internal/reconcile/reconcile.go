package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/account/types"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// DefaultParallelism is how many Regions are read or repaired at once unless
// configured otherwise.
const DefaultParallelism = 20

// Options tune a Reconciler. The zero value is ready for production.
type Options struct {
	// Parallelism bounds how many Regions are read or repaired at once (default
	// 20: every Region is its own endpoint with its own limits, and 20 covers
	// the 17 Regions a commercial account has enabled by default in one round).
	Parallelism int
	// VisibilityAttempts bounds UpdateServiceSetting attempts while SSM cannot
	// see a role IAM just created or changed (default 6).
	VisibilityAttempts int
	// VisibilityBaseDelay is the first wait between those attempts (default
	// 1s); each wait doubles, up to VisibilityMaxDelay (default 8s). Tests
	// set it to a millisecond.
	VisibilityBaseDelay time.Duration
	VisibilityMaxDelay  time.Duration
	// Now is the clock for the report (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Parallelism <= 0 {
		o.Parallelism = DefaultParallelism
	}
	if o.VisibilityAttempts <= 0 {
		o.VisibilityAttempts = 6
	}
	if o.VisibilityBaseDelay <= 0 {
		o.VisibilityBaseDelay = time.Second
	}
	if o.VisibilityMaxDelay <= 0 {
		o.VisibilityMaxDelay = 8 * time.Second
	}
	if o.VisibilityMaxDelay < o.VisibilityBaseDelay {
		o.VisibilityMaxDelay = o.VisibilityBaseDelay
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Reconciler keeps one account's DHMC setting and role at the desired state.
// It is safe for concurrent use; each Run is independent.
type Reconciler struct {
	desired dhmc.Desired
	clients Clients
	opts    Options
}

// New checks d and the clients it needs and returns a Reconciler.
func New(d dhmc.Desired, c Clients, o Options) (*Reconciler, error) {
	var errs []error
	if err := d.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("desired state: %w", err))
	}
	if c.SSM == nil {
		errs = append(errs, errors.New("no SSM client factory"))
	}
	if c.IAM == nil {
		errs = append(errs, errors.New("no IAM client"))
	}
	if len(d.Regions) == 0 && c.Regions == nil {
		errs = append(errs, errors.New("no Region lister, and no Regions configured"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("creating reconciler: %w", err)
	}
	d.Regions = slices.Clone(d.Regions)
	d.ExtraPolicyARNs = slices.Clone(d.ExtraPolicyARNs)
	return &Reconciler{desired: d, clients: c, opts: o.withDefaults()}, nil
}

// Scope is what one run looks at.
type Scope struct {
	// Regions to check; nil or empty means every managed Region. Regions
	// outside an explicitly configured list are left alone.
	Regions []string
	// Role reads (and in enforce mode repairs) the IAM role this run.
	Role bool
	// Mode is dhmc.ModeEnforce to repair; ModeDetect and ModeCheck never
	// write. Empty means the deployment's mode.
	Mode  dhmc.Mode
	Cause dhmc.Cause
}

// ManagedRegions returns the configured Regions, or every Region enabled in
// the account, sorted.
func (r *Reconciler) ManagedRegions(ctx context.Context) ([]string, error) {
	return r.managedRegions(ctx, &counter{})
}

func (r *Reconciler) managedRegions(ctx context.Context, calls *counter) ([]string, error) {
	if len(r.desired.Regions) > 0 {
		return sortedUnique(r.desired.Regions), nil
	}
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
			if reg.RegionName != nil {
				out = append(out, *reg.RegionName)
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
	return sortedUnique(out), nil
}

// Run reads the state in scope, plans, repairs in enforce mode and reports.
// It returns an error only when the run could not start; a Region or the
// role failing is in the report's Errors or as a failed Result.
func (r *Reconciler) Run(ctx context.Context, s Scope) (*dhmc.Report, error) {
	start := r.opts.Now()
	mode := cmp.Or(s.Mode, r.desired.Mode)
	if mode != dhmc.ModeEnforce && mode != dhmc.ModeDetect && mode != dhmc.ModeCheck {
		return nil, fmt.Errorf("run mode %q must be enforce, detect or check", mode)
	}
	rn := &run{r: r, calls: &counter{}}
	regions, err := rn.regions(ctx, s.Regions)
	if err != nil {
		return nil, err
	}

	obs, errs := rn.observe(ctx, regions, s.Role)
	findings, err := dhmc.Plan(r.desired, obs)
	if err != nil {
		// An unreadable role must not block the Regions, nor be "repaired".
		errs = append(errs, dhmc.RegionError{Region: roleErrorRegion, Error: err.Error()})
		obs.Role = nil
		if findings, err = dhmc.Plan(r.desired, obs); err != nil {
			return nil, fmt.Errorf("planning: %w", err)
		}
	}

	var results []dhmc.Result
	if mode == dhmc.ModeEnforce {
		results = rn.apply(ctx, findings)
	} else {
		results = make([]dhmc.Result, len(findings))
		for i, f := range findings {
			results[i] = dhmc.Result{Finding: f, Outcome: dhmc.OutcomeSkipped}
			if f.Kind == dhmc.KindSettingPending {
				results[i].Outcome = dhmc.OutcomeInProgress
			}
		}
	}

	slices.SortFunc(errs, func(a, b dhmc.RegionError) int { return cmp.Compare(a.Region, b.Region) })
	rep := &dhmc.Report{
		Cause:       s.Cause,
		AccountID:   r.desired.AccountID,
		Mode:        string(mode),
		StartedAt:   start.UTC().Format(time.RFC3339),
		Regions:     regions,
		RoleChecked: obs.Role != nil,
		Results:     results,
		Errors:      errs,
	}
	if rep.Results == nil {
		rep.Results = []dhmc.Result{}
	}
	if rep.Regions == nil {
		rep.Regions = []string{}
	}
	rep.Calls, rep.Reads, rep.Writes = rn.calls.snapshot()
	rep.DurationMs = r.opts.Now().Sub(start).Milliseconds()
	return rep, nil
}

// roleErrorRegion is the RegionError.Region for the (global) role.
const roleErrorRegion = "iam"

// run is the state of one Run.
type run struct {
	r     *Reconciler
	calls *counter
}

// regions resolves the scope's Regions against the managed ones.
func (rn *run) regions(ctx context.Context, asked []string) ([]string, error) {
	for _, reg := range asked {
		if !dhmc.ValidRegion(reg) {
			return nil, fmt.Errorf("region %q in scope is not a Region code", reg)
		}
	}
	configured := rn.r.desired.Regions
	switch {
	case len(asked) == 0:
		return rn.r.managedRegions(ctx, rn.calls)
	case len(configured) == 0:
		return sortedUnique(asked), nil
	default:
		var out []string
		for _, reg := range sortedUnique(asked) {
			if slices.Contains(configured, reg) {
				out = append(out, reg)
			}
		}
		return out, nil
	}
}

func sortedUnique(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// forEach calls fn for every index of n items with at most limit at once,
// and returns when all are done.
func forEach(n, limit int, fn func(i int)) {
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	for range min(limit, n) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}
