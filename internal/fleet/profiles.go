package fleet

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
)

// once is a map of values computed once per key, however many goroutines
// ask at the same time: the first computes, the others wait for it.
type once[V any] struct {
	mu sync.Mutex
	m  map[string]*onceEntry[V]
}

type onceEntry[V any] struct {
	done chan struct{}
	v    V
}

func (o *once[V]) get(key string, compute func() V) V {
	o.mu.Lock()
	if o.m == nil {
		o.m = map[string]*onceEntry[V]{}
	}
	e, ok := o.m[key]
	if !ok {
		e = &onceEntry[V]{done: make(chan struct{})}
		o.m[key] = e
		o.mu.Unlock()
		e.v = compute()
		close(e.done)
		return e.v
	}
	o.mu.Unlock()
	<-e.done
	return e.v
}

type policyResult struct {
	policy Policy
	err    error
}

type roleResult struct {
	policies []Policy
	err      error
}

// profiles reads instance profiles for one run, each profile, role and
// managed policy once however many instances and Regions use it.
type profiles struct {
	iam      ProfilesAPI
	calls    *counter
	byARN    once[*Profile]
	roles    once[roleResult]
	policies once[policyResult]
}

// get returns the compiled profile; a profile that could not be read comes
// back with Err set, never as an error, so one bad profile does not stop
// the Region.
func (ps *profiles) get(ctx context.Context, arn string) *Profile {
	return ps.byARN.get(arn, func() *Profile {
		name := profileName(arn)
		p, err := ps.read(ctx, arn, name)
		if err != nil {
			return &Profile{ARN: arn, Name: name, Err: err.Error()}
		}
		return p
	})
}

func (ps *profiles) read(ctx context.Context, arn, name string) (*Profile, error) {
	ps.calls.add("iam:GetInstanceProfile")
	out, err := ps.iam.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	var nf *iamtypes.NoSuchEntityException
	switch {
	case errors.As(err, &nf):
		// EC2 still names a profile IAM no longer has: it grants nothing.
		return NewProfile(arn, name, nil, nil)
	case err != nil:
		return nil, fmt.Errorf("reading instance profile %s: %w", name, err)
	case out.InstanceProfile == nil:
		return nil, fmt.Errorf("reading instance profile %s: empty response", name)
	}
	var roles []string
	var policies []Policy
	for _, r := range out.InstanceProfile.Roles {
		role := aws.ToString(r.RoleName)
		roles = append(roles, role)
		rr := ps.roles.get(role, func() roleResult {
			pols, err := ps.rolePolicies(ctx, role)
			return roleResult{pols, err}
		})
		if rr.err != nil {
			return nil, rr.err
		}
		policies = append(policies, rr.policies...)
	}
	return NewProfile(arn, name, roles, policies)
}

// rolePolicies reads every policy on a role: the attached managed ones
// (their default versions) and the inline ones.
func (ps *profiles) rolePolicies(ctx context.Context, role string) ([]Policy, error) {
	var out []Policy
	in := &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)}
	for {
		ps.calls.add("iam:ListAttachedRolePolicies")
		page, err := ps.iam.ListAttachedRolePolicies(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing policies attached to role %s: %w", role, err)
		}
		for _, a := range page.AttachedPolicies {
			arn := aws.ToString(a.PolicyArn)
			res := ps.policies.get(arn, func() policyResult {
				p, err := ps.managedPolicy(ctx, arn)
				return policyResult{p, err}
			})
			if res.err != nil {
				return nil, res.err
			}
			p := res.policy
			p.Role = role
			out = append(out, p)
		}
		if !page.IsTruncated || page.Marker == nil {
			break
		}
		in.Marker = page.Marker
	}
	lin := &iam.ListRolePoliciesInput{RoleName: aws.String(role)}
	for {
		ps.calls.add("iam:ListRolePolicies")
		page, err := ps.iam.ListRolePolicies(ctx, lin)
		if err != nil {
			return nil, fmt.Errorf("listing inline policies of role %s: %w", role, err)
		}
		for _, name := range page.PolicyNames {
			ps.calls.add("iam:GetRolePolicy")
			got, err := ps.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
			if err != nil {
				return nil, fmt.Errorf("reading inline policy %s of role %s: %w", name, role, err)
			}
			doc, err := decodeDocument(got.PolicyDocument)
			if err != nil {
				return nil, fmt.Errorf("inline policy %s of role %s: %w", name, role, err)
			}
			out = append(out, Policy{Name: name, Kind: PolicyInline, Role: role, Document: doc})
		}
		if !page.IsTruncated || page.Marker == nil {
			break
		}
		lin.Marker = page.Marker
	}
	return out, nil
}

// managedPolicy reads a managed policy's default version.
func (ps *profiles) managedPolicy(ctx context.Context, arn string) (Policy, error) {
	ps.calls.add("iam:GetPolicy")
	pol, err := ps.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return Policy{}, fmt.Errorf("reading policy %s: %w", arn, err)
	}
	if pol.Policy == nil || pol.Policy.DefaultVersionId == nil {
		return Policy{}, fmt.Errorf("reading policy %s: no default version", arn)
	}
	ps.calls.add("iam:GetPolicyVersion")
	v, err := ps.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: pol.Policy.DefaultVersionId})
	if err != nil {
		return Policy{}, fmt.Errorf("reading policy %s version %s: %w", arn, aws.ToString(pol.Policy.DefaultVersionId), err)
	}
	if v.PolicyVersion == nil {
		return Policy{}, fmt.Errorf("reading policy %s: empty version", arn)
	}
	doc, err := decodeDocument(v.PolicyVersion.Document)
	if err != nil {
		return Policy{}, fmt.Errorf("policy %s: %w", arn, err)
	}
	kind := PolicyCustomerManaged
	if strings.Contains(arn, ":iam::aws:policy/") {
		kind = PolicyAWSManaged
	}
	return Policy{Name: arn[strings.LastIndex(arn, "/")+1:], Kind: kind, Document: doc}, nil
}

// decodeDocument undoes IAM's URL encoding of policy documents
// (dhmc-facts §4).
func decodeDocument(s *string) (string, error) {
	if s == nil {
		return "", errors.New("no document")
	}
	d, err := url.QueryUnescape(*s)
	if err != nil {
		return "", fmt.Errorf("document is not URL-encoded: %w", err)
	}
	return d, nil
}
