package reconcile

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// StacksAPI finds the stack that created a resource, in one Region.
type StacksAPI interface {
	DescribeStackResources(ctx context.Context, params *cloudformation.DescribeStackResourcesInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStackResourcesOutput, error)
}

// identifyStacks asks CloudFormation which stack created each role a
// setting names that nothing else identifies (CloudFormation does not tag
// IAM roles, so a stack's DHMC role looks like anyone's). A stack lives in
// one Region and its role is global, so each Region whose setting names the
// role is asked in turn until one knows. Only for roles that are not the
// configured one at its path: a compliant sweep never asks. Best effort: a
// role CloudFormation does not know, or a refused call, stays unidentified.
func (rn *run) identifyStacks(ctx context.Context, obs *dhmc.Observed) {
	stacks := rn.r.clients.Stacks
	if stacks == nil {
		return
	}
	d := rn.r.desired
	regions := map[string][]string{} // role key -> Regions naming it
	var keys []string
	for _, s := range obs.Settings {
		name := namedRole(d, s.Value)
		key := strings.ToLower(name)
		r, ok := obs.Roles[key]
		if name == "" || !ok || !r.Exists {
			continue
		}
		if strings.EqualFold(r.Name, d.RoleNameIn(s.Region)) && r.Path == d.RolePath {
			continue // the configured role: nothing to identify
		}
		if _, known := dhmc.RecogniseManager(r, s.Region); known {
			continue
		}
		if _, seen := regions[key]; !seen {
			keys = append(keys, key)
		}
		regions[key] = append(regions[key], s.Region)
	}
	found := make([]string, len(keys))
	forEach(len(keys), rn.r.opts.Parallelism, func(i int) {
		for _, region := range regions[keys[i]] {
			if found[i] = rn.stackOf(ctx, stacks(region), obs.Roles[keys[i]].Name); found[i] != "" {
				return
			}
		}
	})
	for i, key := range keys {
		if found[i] != "" {
			r := obs.Roles[key]
			r.Stack = found[i]
			obs.Roles[key] = r
		}
	}
}

// stackOf is the live stack that created the IAM role called name, or "".
func (rn *run) stackOf(ctx context.Context, api StacksAPI, name string) string {
	rn.calls.add("cloudformation:DescribeStackResources")
	out, err := api.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{PhysicalResourceId: aws.String(name)})
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae) && ae.ErrorCode() == "ValidationError":
		return "" // in no stack
	case err != nil:
		return ""
	}
	for _, res := range out.StackResources {
		if aws.ToString(res.ResourceType) == "AWS::IAM::Role" && strings.EqualFold(aws.ToString(res.PhysicalResourceId), name) &&
			res.ResourceStatus != cfntypes.ResourceStatusDeleteComplete {
			return aws.ToString(res.StackName)
		}
	}
	return ""
}
