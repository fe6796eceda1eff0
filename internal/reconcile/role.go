package reconcile

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// ErrRoleNotFound is returned by the role finder when IAM has no such role.
var ErrRoleNotFound = errors.New("role not found")

// readRole reads a role: GetRole and its managed and inline policy lists
// (both paginated), all three at once since IAM is usually the slowest
// path of a sweep. A missing role is a RoleState with Exists false; the
// lists' NoSuchEntity answers are then dropped: two wasted reads in a rare
// case, for one round trip saved in every run.
func (rn *run) readRole(ctx context.Context, name string) (dhmc.RoleState, error) {
	var (
		role                            *iamtypes.Role
		attached, inline                []string
		roleErr, attachedErr, inlineErr error
		wg                              sync.WaitGroup
	)
	wg.Go(func() { role, roleErr = rn.findRole(ctx, name) })
	wg.Go(func() { attached, attachedErr = rn.listAttached(ctx, name) })
	wg.Go(func() { inline, inlineErr = rn.listInline(ctx, name) })
	wg.Wait()
	if errors.Is(roleErr, ErrRoleNotFound) {
		return dhmc.RoleState{Name: name}, nil
	}
	if err := errors.Join(roleErr, attachedErr, inlineErr); err != nil {
		return dhmc.RoleState{}, err
	}
	trust, _, err := readDocument(aws.ToString(role.AssumeRolePolicyDocument))
	if err != nil {
		return dhmc.RoleState{}, fmt.Errorf("decoding trust policy of role %s: %w", name, err)
	}
	st := dhmc.RoleState{
		Name:               aws.ToString(role.RoleName),
		Exists:             true,
		ARN:                aws.ToString(role.Arn),
		Path:               aws.ToString(role.Path),
		TrustPolicy:        trust,
		AttachedPolicyARNs: attached,
		InlinePolicyNames:  inline,
	}
	if st.Name == "" {
		st.Name = name
	}
	if role.PermissionsBoundary != nil {
		st.PermissionsBoundaryARN = aws.ToString(role.PermissionsBoundary.PermissionsBoundaryArn)
	}
	for _, t := range role.Tags {
		if st.Tags == nil {
			st.Tags = map[string]string{}
		}
		st.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return st, nil
}

// findRole is the one place that turns IAM's NoSuchEntity into ErrRoleNotFound.
func (rn *run) findRole(ctx context.Context, name string) (*iamtypes.Role, error) {
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

func (rn *run) listAttached(ctx context.Context, name string) ([]string, error) {
	in := &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)}
	var arns []string
	for {
		rn.calls.add("iam:ListAttachedRolePolicies")
		page, err := rn.r.clients.IAM.ListAttachedRolePolicies(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing managed policies of role %s: %w", name, err)
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

func (rn *run) listInline(ctx context.Context, name string) ([]string, error) {
	in := &iam.ListRolePoliciesInput{RoleName: aws.String(name)}
	var names []string
	for {
		rn.calls.add("iam:ListRolePolicies")
		page, err := rn.r.clients.IAM.ListRolePolicies(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing inline policies of role %s: %w", name, err)
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
