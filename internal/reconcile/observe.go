package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// observe resolves the Regions and reads, in one round trip where it can,
// the setting of each and the roles they must name; then the roles the
// settings name that are not the configured ones (only when a setting names
// one: never in a compliant sweep). With a single configured role name, the
// role is read while the enabled Regions are still being listed.
//
// A Region list that cannot be read is one error among the others: the run
// goes on with the last good list (see resolve).
func (rn *run) observe(ctx context.Context, asked []string) (regions []string, ignored []dhmc.IgnoredRegion, obs dhmc.Observed, errs []dhmc.RegionError) {
	d := rn.r.desired
	roles := &roleSet{}
	var early sync.WaitGroup
	if !d.PerRegion() {
		early.Go(func() { roles.read(ctx, rn, d.RoleName) })
	}
	regions, ignored, unlisted := rn.resolve(ctx, asked)
	if unlisted != nil {
		errs = append(errs, *unlisted)
	}

	settings := make([]dhmc.SettingState, len(regions))
	readErrs := make([]error, len(regions))
	var wg sync.WaitGroup
	if d.PerRegion() {
		names := d.RoleNames(regions)
		wg.Go(func() {
			forEach(len(names), rn.r.opts.Parallelism, func(i int) { roles.read(ctx, rn, names[i]) })
		})
	}
	forEach(len(regions), rn.r.opts.Parallelism, func(i int) {
		settings[i], readErrs[i] = rn.readSetting(ctx, regions[i])
	})
	wg.Wait()
	early.Wait()

	for i, err := range readErrs {
		switch {
		case err == nil:
			obs.Settings = append(obs.Settings, settings[i])
		case unreachable(err):
			obs.Unreachable = append(obs.Unreachable, dhmc.RegionError{Region: regions[i], Error: err.Error()})
		default:
			errs = append(errs, dhmc.RegionError{Region: regions[i], Error: describe(ctx, err)})
		}
	}

	// The roles settings name that were not read yet: whatever role a
	// setting names reaches every instance, so it is checked too.
	var others []string
	for _, s := range obs.Settings {
		if name := namedRole(d, s.Value); name != "" && !roles.has(name) && !slices.ContainsFunc(others, func(o string) bool { return strings.EqualFold(o, name) }) {
			others = append(others, name)
		}
	}
	forEach(len(others), rn.r.opts.Parallelism, func(i int) { roles.read(ctx, rn, others[i]) })

	obs.Roles, obs.RoleErrors = roles.states, roles.errs
	rn.identifyStacks(ctx, &obs)
	rn.identifyAWSEnforcer(ctx, &obs)
	for _, name := range sortedKeys(roles.errs) {
		errs = append(errs, dhmc.RegionError{Region: roleErrorRegion, Error: roles.errs[name]})
	}
	return regions, ignored, obs, errs
}

// namedRole is the name of the role a setting value names in this account,
// or "" (off, or an ARN elsewhere).
func namedRole(d dhmc.Desired, value string) string {
	v := dhmc.NormalizeSettingValue(d, value)
	if v == "" || strings.HasPrefix(v, "arn:") {
		return ""
	}
	return v[strings.LastIndexByte(v, '/')+1:]
}

// roleSet collects role reads from several goroutines.
type roleSet struct {
	mu     sync.Mutex
	states map[string]dhmc.RoleState
	errs   map[string]string
}

func (s *roleSet) read(ctx context.Context, rn *run, name string) {
	st, err := rn.readRole(ctx, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	if err != nil {
		if s.errs == nil {
			s.errs = map[string]string{}
		}
		s.errs[key] = describe(ctx, err)
		return
	}
	if s.states == nil {
		s.states = map[string]dhmc.RoleState{}
	}
	s.states[key] = st
}

func (s *roleSet) has(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(name)
	_, ok := s.states[key]
	_, bad := s.errs[key]
	return ok || bad
}

func (rn *run) readSetting(ctx context.Context, region string) (dhmc.SettingState, error) {
	d := rn.r.desired
	rn.calls.add("ssm:GetServiceSetting")
	out, err := rn.r.clients.SSM(region).GetServiceSetting(ctx, &ssm.GetServiceSettingInput{
		SettingId: aws.String(d.SettingARN(region)),
	})
	var nf *ssmtypes.ServiceSettingNotFound
	switch {
	case errors.As(err, &nf):
		// Never set in this Region: the same as reset.
		return dhmc.SettingState{Region: region, Value: dhmc.SettingDisabled}, nil
	case err != nil:
		return dhmc.SettingState{}, fmt.Errorf("reading service setting (%s): %w", region, err)
	case out.ServiceSetting == nil:
		return dhmc.SettingState{}, fmt.Errorf("reading service setting (%s): empty response", region)
	}
	s := out.ServiceSetting
	st := dhmc.SettingState{
		Region:           region,
		Value:            aws.ToString(s.SettingValue),
		Status:           aws.ToString(s.Status),
		LastModifiedUser: aws.ToString(s.LastModifiedUser),
	}
	if s.LastModifiedDate != nil {
		st.LastModifiedDate = s.LastModifiedDate.UTC().Format(time.RFC3339)
	}
	return st, nil
}

// unreachableCodes are the answers of a Region the guard may not use at
// all: an explicit deny (an SCP or a boundary on the guard's own role: its
// policy allows the setting in every Region) or credentials that are not
// valid there (an opt-in Region that is not enabled).
var unreachableCodes = []string{
	"AccessDeniedException", "AccessDenied", "UnauthorizedOperation",
	"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure",
}

func unreachable(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && slices.Contains(unreachableCodes, ae.ErrorCode())
}

// describe words an error for the report; a read cut short by the run's
// reading budget says so plainly.
func describe(ctx context.Context, err error) string {
	if errors.Is(err, context.DeadlineExceeded) || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		return "timed out: " + err.Error()
	}
	return err.Error()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
