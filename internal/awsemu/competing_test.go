package awsemu_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

// TestACompetingWriteLandsBeforeTheCallItHits: the other writer's detach
// runs just before the client's, which then finds nothing to detach and
// gets IAM's answer for that: NoSuchEntity, 404, "Policy ARN was not found."
func TestACompetingWriteLandsBeforeTheCallItHits(t *testing.T) {
	s := awsemu.StartTest(t)
	const admin = "arn:aws:iam::aws:policy/AdministratorAccess"
	s.PutRole(awsemu.DefaultAccount, awsemu.Role{Name: "R", TrustPolicy: trustDoc, AttachedPolicies: []string{admin}})
	raced := 0
	s.Inject(awsemu.Fault{Op: "iam:DetachRolePolicy", Kind: awsemu.FaultCompetingWrite, Times: 1, Race: func() {
		raced++
		r, _ := s.Role(awsemu.DefaultAccount, "R")
		r.AttachedPolicies = nil
		s.PutRole(awsemu.DefaultAccount, r)
	}})
	cl := newClients(s, "eu-west-1")
	_, err := cl.iam.DetachRolePolicy(t.Context(), &iam.DetachRolePolicyInput{RoleName: aws.String("R"), PolicyArn: aws.String(admin)})
	var nse *iamtypes.NoSuchEntityException
	if !errorsAs(err, &nse) || apiCode(err) != "NoSuchEntity" || nse.ErrorMessage() != "Policy "+admin+" was not found." {
		t.Fatalf("detach after the competing one: %v, want NoSuchEntity \"Policy %s was not found.\"", err, admin)
	}
	if raced != 1 {
		t.Errorf("the competing write ran %d times, want once", raced)
	}
	calls := s.Calls()
	if last := calls[len(calls)-1]; last.Status != 404 {
		t.Errorf("status %d, want 404", last.Status)
	}
}

// TestAFaultCanCarryAnSCPsMessage: an SCP's explicit deny of
// account:ListRegions answers AccessDeniedException, 403, in AWS's words.
func TestAFaultCanCarryAnSCPsMessage(t *testing.T) {
	s := awsemu.StartTest(t)
	caller := "arn:aws:iam::" + awsemu.DefaultAccount + ":user/x"
	s.Inject(awsemu.Fault{Op: "account:ListRegions", Kind: awsemu.FaultAccessDenied, Message: awsemu.SCPDenied(caller, "account:ListRegions")})
	_, err := newClients(s, "us-east-1").account.ListRegions(t.Context(), &account.ListRegionsInput{})
	if apiCode(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "account:ListRegions with an explicit deny in a service control policy") {
		t.Fatalf("ListRegions: %v, want AccessDeniedException with the SCP's message", err)
	}
	if calls := s.Calls(); calls[len(calls)-1].Status != 403 {
		t.Errorf("status %d, want 403", calls[len(calls)-1].Status)
	}
}
