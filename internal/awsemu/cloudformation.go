package awsemu

import (
	"fmt"
	"time"
)

// StackResource is one resource a CloudFormation stack created, as seeded:
// what DescribeStackResources answers. The emulator runs no templates.
type StackResource struct {
	StackName, LogicalID, Type, PhysicalID string
	// Status defaults to CREATE_COMPLETE.
	Status string
}

type stackKey struct{ account, region string }

var cfnOps = map[string]handler{
	"DescribeStackResources": {fn: (*Server).cfnDescribeStackResources},
}

// PutStackResource records that a stack in account and region created a
// resource, so DescribeStackResources finds the stack by its physical ID.
func (s *Server) PutStackResource(account, region string, r StackResource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stacks == nil {
		s.stacks = map[stackKey][]StackResource{}
	}
	if r.Status == "" {
		r.Status = "CREATE_COMPLETE"
	}
	k := stackKey{account, region}
	s.stacks[k] = append(s.stacks[k], r)
}

// cfnDescribeStackResources answers by StackName or by PhysicalResourceId
// (never both), with the stack's resources, as CloudFormation does; an ID in
// no stack of the Region is a ValidationError.
func (s *Server) cfnDescribeStackResources(req *request) (any, *apiError) {
	stack, physical, logical := param(req, "StackName"), param(req, "PhysicalResourceId"), param(req, "LogicalResourceId")
	switch {
	case stack != "" && physical != "":
		return nil, apiErr(400, "ValidationError", "Cannot specify both StackName and PhysicalResourceId")
	case stack == "" && physical == "":
		return nil, apiErr(400, "ValidationError", "Either StackName or PhysicalResourceId must be specified")
	}
	s.mu.Lock()
	all := s.stacks[stackKey{req.account, req.region}]
	s.mu.Unlock()
	if physical != "" {
		for _, r := range all {
			if r.PhysicalID == physical {
				stack = r.StackName
				break
			}
		}
		if stack == "" {
			return nil, apiErrf(400, "ValidationError", "Stack for %s does not exist", physical)
		}
	}
	var x xb
	x.open("StackResources")
	found := false
	for _, r := range all {
		if r.StackName != stack || (logical != "" && r.LogicalID != logical) {
			continue
		}
		found = true
		x.open("member")
		x.leaf("StackName", r.StackName)
		x.leaf("StackId", fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/00000000-0000-0000-0000-000000000000", partitionOf(req.region), req.region, req.account, r.StackName))
		x.leaf("LogicalResourceId", r.LogicalID)
		x.leaf("PhysicalResourceId", r.PhysicalID)
		x.leaf("ResourceType", r.Type)
		x.leaf("Timestamp", iso8601(time.Now().UTC()))
		x.leaf("ResourceStatus", r.Status)
		x.close("member")
	}
	x.close("StackResources")
	if !found {
		return nil, apiErrf(400, "ValidationError", "Stack with id %s does not exist", stack)
	}
	return x.result(), nil
}
