package awsemu_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

// paddedDoc is a valid policy of exactly size characters, white space
// between its tokens.
func paddedDoc(action string, size int) string {
	head := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]`
	return head + strings.Repeat(" ", size-len(head)-1) + "}"
}

// IAM takes inline documents of up to 131,072 characters, leaves white
// space out of the role's 10,240-character aggregate, and returns each
// document as it was written.
func TestIAMTakesPaddedInlinePoliciesAndReturnsThemAsWritten(t *testing.T) {
	s := awsemu.StartTest(t)
	c := newClients(s, "eu-west-1").iam
	ctx := t.Context()
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("R"), AssumeRolePolicyDocument: aws.String(trustDoc)}); err != nil {
		t.Fatal(err)
	}
	put := func(name, doc string) error {
		_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("R"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
		return err
	}
	docs := map[string]string{}
	for i := range 20 { // 20 × 131,072 characters, about 90 without white space each
		name := "pad" + string(rune('a'+i))
		docs[name] = paddedDoc("s3:Get"+name, 131072)
		if err := put(name, docs[name]); err != nil {
			t.Fatalf("PutRolePolicy %s: %v", name, err)
		}
	}
	for name, doc := range docs {
		out, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("R"), PolicyName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if got := decode(t, out.PolicyDocument); got != doc {
			t.Fatalf("GetRolePolicy %s returned %d characters, want the %d written", name, len(got), len(doc))
		}
	}

	var ae smithy.APIError
	if err := put("toolong", paddedDoc("s3:*", 131073)); !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Errorf("a document of 131,073 characters: %v, want ValidationError", err)
	}
	dense := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 9000) + `"}]}`
	if err := put("dense", dense); !errors.As(err, &ae) || ae.ErrorCode() != "LimitExceeded" {
		t.Errorf("past the aggregate without white space: %v, want LimitExceeded", err)
	}
}
