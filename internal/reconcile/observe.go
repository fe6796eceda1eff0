package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// ErrRoleNotFound is returned by the role finder when IAM has no such role.
var ErrRoleNotFound = errors.New("role not found")

// observe reads the setting in every Region (in parallel, bounded) and, when
// asked, the role (once, alongside). Failures become RegionErrors; what was
// read is returned either way.
func (rn *run) observe(ctx context.Context, regions []string, withRole bool) (dhmc.Observed, []dhmc.RegionError) {
	var (
		obs     dhmc.Observed
		roleErr error
		wg      sync.WaitGroup
	)
	if withRole {
		wg.Go(func() { obs.Role, roleErr = rn.readRole(ctx) })
	}
	settings := make([]dhmc.SettingState, len(regions))
	readErrs := make([]error, len(regions))
	forEach(len(regions), rn.r.opts.Parallelism, func(i int) {
		settings[i], readErrs[i] = rn.readSetting(ctx, regions[i])
	})
	wg.Wait()

	var errs []dhmc.RegionError
	if roleErr != nil {
		obs.Role = nil
		errs = append(errs, dhmc.RegionError{Region: roleErrorRegion, Error: roleErr.Error()})
	}
	for i, err := range readErrs {
		if err != nil {
			errs = append(errs, dhmc.RegionError{Region: regions[i], Error: err.Error()})
			continue
		}
		obs.Settings = append(obs.Settings, settings[i])
	}
	return obs, errs
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

// readRole reads the role: GetRole and its managed and inline policy lists
// (both paginated), all three at once since IAM is usually the slowest
// path of a sweep. When the role is missing the lists' NoSuchEntity answers
// are dropped: two wasted reads in a rare case, for one round trip saved in
// every run.
func (rn *run) readRole(ctx context.Context) (*dhmc.RoleState, error) {
	var (
		role                            *iamtypes.Role
		attached, inline                []string
		roleErr, attachedErr, inlineErr error
		wg                              sync.WaitGroup
	)
	wg.Go(func() { role, roleErr = rn.findRole(ctx) })
	wg.Go(func() { attached, attachedErr = rn.listAttached(ctx) })
	wg.Go(func() { inline, inlineErr = rn.listInline(ctx) })
	wg.Wait()
	if errors.Is(roleErr, ErrRoleNotFound) {
		return &dhmc.RoleState{}, nil
	}
	if err := errors.Join(roleErr, attachedErr, inlineErr); err != nil {
		return nil, err
	}
	trust, err := decodePolicy(aws.ToString(role.AssumeRolePolicyDocument))
	if err != nil {
		return nil, fmt.Errorf("decoding trust policy of role %s: %w", rn.r.desired.RoleName, err)
	}
	st := &dhmc.RoleState{
		Exists:             true,
		ARN:                aws.ToString(role.Arn),
		Path:               aws.ToString(role.Path),
		TrustPolicy:        trust,
		AttachedPolicyARNs: attached,
		InlinePolicyNames:  inline,
	}
	if role.PermissionsBoundary != nil {
		st.PermissionsBoundaryARN = aws.ToString(role.PermissionsBoundary.PermissionsBoundaryArn)
	}
	return st, nil
}

// findRole is the one place that turns IAM's NoSuchEntity into ErrRoleNotFound.
func (rn *run) findRole(ctx context.Context) (*iamtypes.Role, error) {
	name := rn.r.desired.RoleName
	rn.calls.add("iam:GetRole")
	out, err := rn.r.clients.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var nse *iamtypes.NoSuchEntityException
	if errors.As(err, &nse) {
		return nil, fmt.Errorf("reading role %s: %w", name, ErrRoleNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading role %s: %w", name, err)
	}
	if out.Role == nil {
		return nil, fmt.Errorf("reading role %s: empty response", name)
	}
	return out.Role, nil
}

func (rn *run) listAttached(ctx context.Context) ([]string, error) {
	in := &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(rn.r.desired.RoleName)}
	var arns []string
	for {
		rn.calls.add("iam:ListAttachedRolePolicies")
		page, err := rn.r.clients.IAM.ListAttachedRolePolicies(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing managed policies of role %s: %w", rn.r.desired.RoleName, err)
		}
		for _, p := range page.AttachedPolicies {
			arns = append(arns, aws.ToString(p.PolicyArn))
		}
		if !page.IsTruncated || page.Marker == nil {
			return arns, nil
		}
		in.Marker = page.Marker
	}
}

func (rn *run) listInline(ctx context.Context) ([]string, error) {
	in := &iam.ListRolePoliciesInput{RoleName: aws.String(rn.r.desired.RoleName)}
	var names []string
	for {
		rn.calls.add("iam:ListRolePolicies")
		page, err := rn.r.clients.IAM.ListRolePolicies(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing inline policies of role %s: %w", rn.r.desired.RoleName, err)
		}
		names = append(names, page.PolicyNames...)
		if !page.IsTruncated || page.Marker == nil {
			return names, nil
		}
		in.Marker = page.Marker
	}
}

// decodePolicy undoes IAM's URL encoding of policy documents. A document
// that already reads as JSON is returned as it is, so a '+' or '%' inside
// an undecoded document is never mangled.
func decodePolicy(doc string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc, nil
	}
	return url.QueryUnescape(doc)
}
