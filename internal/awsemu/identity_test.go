package awsemu_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func TestSTSGetCallerIdentityAnswersIAMShapedUserIDs(t *testing.T) {
	s := awsemu.StartTest(t)
	s.SetCaller("AKIAALICE", awsemu.DefaultAccount, "arn:aws:iam::123456789012:user/alice")
	s.SetCaller("AKIABOB", awsemu.DefaultAccount, "arn:aws:iam::123456789012:user/team/bob")
	s.SetCaller("ASIAGUARD", awsemu.DefaultAccount, "arn:aws:sts::123456789012:assumed-role/Guard/fn-session")
	s.SetCaller("ASIANOROLE", awsemu.DefaultAccount, "arn:aws:sts::123456789012:assumed-role/NotSeeded/s1")
	s.SetCaller("AKIAROOT", "210987654321", "arn:aws:iam::210987654321:root")
	s.SetCaller("ASIAFED", awsemu.DefaultAccount, "arn:aws:sts::123456789012:federated-user/carol")
	s.PutRole(awsemu.DefaultAccount, awsemu.Role{Name: "Guard", TrustPolicy: trustDoc})

	user := regexp.MustCompile(`^AIDA[A-Z2-7]{17}$`)
	role := regexp.MustCompile(`^AROA[A-Z2-7]{17}:`)
	get := func(akid string) (arn, userID string) {
		t.Helper()
		out, err := sts.NewFromConfig(cfg(s, "us-east-1", akid)).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity(%s): %v", akid, err)
		}
		return aws.ToString(out.Arn), aws.ToString(out.UserId)
	}

	for _, akid := range []string{"AKIAALICE", "AKIABOB", "AKIDUNMAPPED"} {
		if _, id := get(akid); !user.MatchString(id) {
			t.Errorf("%s: UserId %q, want AIDA and 17 characters", akid, id)
		}
	}
	if _, a := get("AKIAALICE"); a == "AKIAALICE" {
		t.Error("UserId is the access key")
	}
	if _, a := get("AKIAALICE"); func() string { _, b := get("AKIAALICE"); return b }() != a {
		t.Error("a user's UserId changes from call to call")
	}
	if _, a := get("AKIAALICE"); func() string { _, b := get("AKIABOB"); return b }() == a {
		t.Error("two users share a UserId")
	}

	// The unmapped key is a named user, not a user named after the key.
	arn, _ := get("AKIDUNMAPPED")
	if want := "arn:aws:iam::123456789012:user/" + awsemu.DefaultUserName; arn != want || strings.Contains(arn, "AKIDUNMAPPED") {
		t.Errorf("unmapped key's Arn = %q, want %q", arn, want)
	}

	g, _ := iam.NewFromConfig(cfg(s, "us-east-1", "AKIAALICE")).GetRole(t.Context(), &iam.GetRoleInput{RoleName: aws.String("Guard")})
	if _, id := get("ASIAGUARD"); id != aws.ToString(g.Role.RoleId)+":fn-session" {
		t.Errorf("assumed role UserId = %q, want the role's RoleId %s and the session", id, aws.ToString(g.Role.RoleId))
	}
	if _, id := get("ASIANOROLE"); !role.MatchString(id) || !strings.HasSuffix(id, ":s1") {
		t.Errorf("assumed role (not seeded) UserId = %q, want AROA…:s1", id)
	}
	if _, id := get("AKIAROOT"); id != "210987654321" {
		t.Errorf("root UserId = %q, want the account ID", id)
	}
	if _, id := get("ASIAFED"); id != "123456789012:carol" {
		t.Errorf("federated user UserId = %q, want account:name", id)
	}
}
