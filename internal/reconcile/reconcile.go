package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// DefaultParallelism is how many Regions are read or repaired at once unless
// configured otherwise.
const DefaultParallelism = 20

// MaxScopeRegions bounds the Regions one run may be asked for: more than any
// partition has, so a payload cannot make the guard build clients without end.
const MaxScopeRegions = 64

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
	// RegionsTTL is how long the enabled-Region list is kept in a warm
	// execution environment (default 5 minutes): a Region is enabled or
	// disabled rarely, and listing it on every run doubles a sweep's latency.
	RegionsTTL time.Duration
	// ObserveShare is the part of the time left before the run's deadline
	// that reading may take (default 0.5): a Region still answering then is a
	// "timed out" error, and the others are planned and repaired in the rest.
	ObserveShare float64
	// Now is the clock (default time.Now).
	Now func() time.Time
	// DocumentBudget bounds the bytes of policy documents one report
	// carries (default DefaultDocumentBudget; see keep).
	DocumentBudget int
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
	if o.RegionsTTL <= 0 {
		o.RegionsTTL = 5 * time.Minute
	}
	if o.ObserveShare <= 0 || o.ObserveShare > 1 {
		o.ObserveShare = 0.5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DocumentBudget <= 0 {
		o.DocumentBudget = DefaultDocumentBudget
	}
	return o
}

// Reconciler keeps one account's DHMC setting and role at the desired state.
// It is safe for concurrent use; each Run is independent but for the cached
// list of enabled Regions.
type Reconciler struct {
	desired dhmc.Desired
	clients Clients
	opts    Options

	mu        sync.Mutex
	enabled   []string
	enabledAt time.Time
	kept      []string // the list last kept in a RegionsMemory
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
	d.Regions = sortedUnique(d.Regions)
	d.ExcludedRegions = sortedUnique(d.ExcludedRegions)
	d.ExtraPolicyARNs = slices.Clone(d.ExtraPolicyARNs)
	return &Reconciler{desired: d, clients: c, opts: o.withDefaults()}, nil
}

// Desired is the state the reconciler keeps.
func (r *Reconciler) Desired() dhmc.Desired { return r.desired }

// Scope is what one run looks at.
type Scope struct {
	// Regions to check; nil or empty means every managed Region. Regions
	// that are not managed, not enabled or excluded are left out with a
	// reason in the report. The roles those Regions' settings must name are
	// always read: no setting is written without its role verified.
	Regions []string
	// Policies, when set, makes a policy run: only these watched policies
	// are read and reported (their default version changed).
	Policies []string
	// Mode is dhmc.ModeEnforce to repair; ModeDetect and ModeCheck never
	// write. Empty means the deployment's mode.
	Mode  dhmc.Mode
	Cause dhmc.Cause
	// HoldBack, if set, names findings not to repair this run (a flapping
	// item in its back-off window): they are reported, not written.
	HoldBack func(item string, kind dhmc.Kind) bool
	// Memory, if set, keeps the last good list of enabled Regions for when
	// listing them fails (ManagedRegions=all only).
	Memory RegionsMemory
	// Repairing, if set, is called once in enforce mode as the repair
	// starts (after planning, before the first write, only when an action
	// is to be attempted) with the report as it will read if every attempted
	// action succeeds at its first call (Expected). It must not block: the
	// caller records what it would tell beside the repair.
	Repairing func(expected *dhmc.Report)
}

// Run reads the state in scope, plans, repairs in enforce mode and reports.
// It returns an error only when the run could not start; a Region, a role
// or the Region list failing is in the report's Errors or as a failed
// Result, and never stops the rest from being read and repaired.
func (r *Reconciler) Run(ctx context.Context, s Scope) (*dhmc.Report, error) {
	start := r.opts.Now()
	mode := cmp.Or(s.Mode, r.desired.Mode)
	if mode != dhmc.ModeEnforce && mode != dhmc.ModeDetect && mode != dhmc.ModeCheck {
		return nil, fmt.Errorf("run mode %q must be enforce, detect or check", mode)
	}
	if len(s.Regions) > MaxScopeRegions {
		return nil, fmt.Errorf("scope names %d Regions, more than the %d any partition has", len(s.Regions), MaxScopeRegions)
	}
	for _, reg := range s.Regions {
		if !dhmc.ValidRegion(reg) {
			return nil, fmt.Errorf("region %q in scope is not a Region code", reg)
		}
	}
	rn := &run{r: r, calls: &counter{}, memory: s.Memory}
	rep := &dhmc.Report{
		Cause:           s.Cause,
		AccountID:       r.desired.AccountID,
		Mode:            string(mode),
		StartedAt:       start.UTC().Format(time.RFC3339),
		RegionsExcluded: r.desired.ExcludedRegions,
	}

	var (
		obs  dhmc.Observed
		errs []dhmc.RegionError
	)
	if len(s.Policies) > 0 {
		obs, errs = rn.observePolicies(ctx, s.Policies)
	} else {
		octx, cancel := r.observeContext(ctx)
		regions, ignored, o, oerrs := rn.observe(octx, s.Regions)
		cancel()
		rep.Regions, rep.RegionsIgnored, obs, errs = regions, ignored, o, oerrs
	}

	findings, err := dhmc.Plan(r.desired, obs)
	if err != nil {
		// An unreadable role must not block the Regions, nor be "repaired":
		// drop the roles and plan again; every write is then blocked.
		errs = append(errs, dhmc.RegionError{Region: roleErrorRegion, Error: err.Error()})
		if obs.RoleErrors == nil {
			obs.RoleErrors = map[string]string{}
		}
		for k := range obs.Roles {
			obs.RoleErrors[k] = err.Error()
		}
		obs.Roles = nil
		if findings, err = dhmc.Plan(r.desired, obs); err != nil {
			return nil, fmt.Errorf("planning: %w", err)
		}
	}
	if !r.desired.TakeOver {
		// Taking over replaces what is there: adopting it is not the advice.
		rep.SuggestedConfig = dhmc.Suggest(r.desired, obs)
	}

	if mode == dhmc.ModeEnforce {
		findings = holdBack(findings, s.HoldBack)
		if s.Repairing != nil {
			if exp := rn.expected(rep, findings, errs, obs, start); exp != nil {
				s.Repairing(exp)
			}
		}
		rep.Results = rn.apply(ctx, findings, obs)
	} else {
		rep.Results = make([]dhmc.Result, len(findings))
		for i, f := range findings {
			rep.Results[i] = dhmc.Result{Finding: f, Outcome: passiveOutcome(f, dhmc.OutcomeSkipped)}
		}
	}

	finish(rep, errs, obs)
	rep.Calls, rep.Reads, rep.Writes = rn.calls.snapshot()
	rep.DurationMs = r.opts.Now().Sub(start).Milliseconds()
	return rep, nil
}

// finish completes a report with the run's errors and what was read.
func finish(rep *dhmc.Report, errs []dhmc.RegionError, obs dhmc.Observed) {
	slices.SortFunc(errs, func(a, b dhmc.RegionError) int { return cmp.Compare(a.Region, b.Region) })
	rep.Errors = errs
	rep.RoleChecked = len(obs.Roles) > 0
	if rep.Results == nil {
		rep.Results = []dhmc.Result{}
	}
	if rep.Regions == nil {
		rep.Regions = []string{}
	}
}

// holdBack blocks the findings the scope says not to repair, with why.
func holdBack(findings []dhmc.Finding, hold func(string, dhmc.Kind) bool) []dhmc.Finding {
	if hold == nil {
		return findings
	}
	for i, f := range findings {
		item := f.Region
		if item == "" {
			item = roleErrorRegion
		}
		if f.Action != dhmc.ActionNone && f.Blocked == "" && hold(item, f.Kind) {
			findings[i].Blocked = "held back: repaired too often (flapping); the guard stops repairing it for the alert window and keeps reporting it"
		}
	}
	return findings
}

// passiveOutcome is a finding's outcome when no repair is attempted for it:
// what a person must know beats what the mode is.
func passiveOutcome(f dhmc.Finding, otherwise dhmc.Outcome) dhmc.Outcome {
	switch {
	case f.Blocked != "":
		return dhmc.OutcomeBlocked
	case f.Kind == dhmc.KindSettingPending:
		return dhmc.OutcomeInProgress
	case f.Action == dhmc.ActionNone:
		return dhmc.OutcomeReported
	}
	return otherwise
}

// observeContext gives reading its share of the time left, so that a slow
// Region cannot use up the time the others need to be repaired.
func (r *Reconciler) observeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	left := time.Until(deadline)
	return context.WithTimeout(ctx, time.Duration(float64(left)*r.opts.ObserveShare))
}

// roleErrorRegion is the RegionError.Region for roles: IAM is global.
const roleErrorRegion = dhmc.ErrorPlaceRole

// run is the state of one Run.
type run struct {
	r      *Reconciler
	calls  *counter
	docs   docBudget
	memory RegionsMemory
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
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
