package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// observePolicies reads the default version of each watched policy asked
// for; a policy the configuration does not watch is an error, not a read.
func (rn *run) observePolicies(ctx context.Context, arns []string) (dhmc.Observed, []dhmc.RegionError) {
	var obs dhmc.Observed
	var errs []dhmc.RegionError
	watched := rn.r.desired.WatchedPolicyARNs()
	for _, arn := range sortedUnique(arns) {
		if !slices.Contains(watched, arn) {
			errs = append(errs, dhmc.RegionError{Region: roleErrorRegion, Error: fmt.Sprintf("policy %s is not an allowlisted customer managed policy nor the boundary: not read", arn)})
			continue
		}
		p, err := rn.readPolicy(ctx, arn)
		if err != nil {
			errs = append(errs, dhmc.RegionError{Region: roleErrorRegion, Error: err.Error()})
			continue
		}
		obs.Policies = append(obs.Policies, p)
	}
	return obs, errs
}

func (rn *run) readPolicy(ctx context.Context, arn string) (dhmc.PolicyState, error) {
	api := rn.r.clients.Policies
	if api == nil {
		return dhmc.PolicyState{}, errors.New("reading policies: no IAM policy client")
	}
	rn.calls.add("iam:GetPolicy")
	pol, err := api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return dhmc.PolicyState{}, fmt.Errorf("reading policy %s: %w", arn, err)
	}
	if pol.Policy == nil || pol.Policy.DefaultVersionId == nil {
		return dhmc.PolicyState{}, fmt.Errorf("reading policy %s: no default version in the answer", arn)
	}
	version := aws.ToString(pol.Policy.DefaultVersionId)
	rn.calls.add("iam:GetPolicyVersion")
	v, err := api.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(version)})
	if err != nil {
		return dhmc.PolicyState{}, fmt.Errorf("reading policy %s version %s: %w", arn, version, err)
	}
	if v.PolicyVersion == nil {
		return dhmc.PolicyState{}, fmt.Errorf("reading policy %s version %s: empty answer", arn, version)
	}
	doc, _, err := readDocument(aws.ToString(v.PolicyVersion.Document))
	if err != nil {
		return dhmc.PolicyState{}, fmt.Errorf("decoding policy %s version %s: %w", arn, version, err)
	}
	return dhmc.PolicyState{ARN: arn, DefaultVersion: version, Document: doc}, nil
}
