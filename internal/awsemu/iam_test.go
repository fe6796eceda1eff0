package awsemu_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func TestIAMRoleLifecycleRoundTripsThroughTheSDK(t *testing.T) {
	s := awsemu.StartTest(t)
	c := newClients(s, "eu-west-1").iam
	ctx := t.Context()

	created, err := c.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("DHMC"), Path: aws.String("/service-role/"),
		AssumeRolePolicyDocument: aws.String(trustDoc), Description: aws.String("dhmc role"),
	})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	wantARN := "arn:aws:iam::123456789012:role/service-role/DHMC"
	if got := aws.ToString(created.Role.Arn); got != wantARN {
		t.Errorf("CreateRole ARN = %q, want %q", got, wantARN)
	}
	if got := decode(t, created.Role.AssumeRolePolicyDocument); got != trustDoc {
		t.Errorf("CreateRole trust = %q, want %q", got, trustDoc)
	}

	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("DHMC")})
	if err != nil {
		t.Fatalf("GetRole: %v", err)
	}
	raw := aws.ToString(got.Role.AssumeRolePolicyDocument)
	if !strings.HasPrefix(raw, "%7B%22Version%22%3A") {
		t.Errorf("GetRole trust is not URL-encoded as IAM does: %q", raw)
	}
	if d := decode(t, got.Role.AssumeRolePolicyDocument); d != trustDoc {
		t.Errorf("GetRole trust = %q, want %q", d, trustDoc)
	}
	if aws.ToString(got.Role.Path) != "/service-role/" || aws.ToString(got.Role.RoleName) != "DHMC" ||
		!strings.HasPrefix(aws.ToString(got.Role.RoleId), "AROA") || got.Role.CreateDate == nil ||
		aws.ToString(got.Role.Description) != "dhmc role" || aws.ToInt32(got.Role.MaxSessionDuration) != 3600 {
		t.Errorf("GetRole role = %+v", got.Role)
	}

	newTrust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":["ssm.amazonaws.com","ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}}`
	if _, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("DHMC"), PolicyDocument: aws.String(newTrust)}); err != nil {
		t.Fatalf("UpdateAssumeRolePolicy: %v", err)
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("DHMC"), PolicyArn: aws.String(managedARN)}); err != nil {
		t.Fatalf("AttachRolePolicy: %v", err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("DHMC"), PolicyName: aws.String("extra"), PolicyDocument: aws.String(inlineDoc)}); err != nil {
		t.Fatalf("PutRolePolicy: %v", err)
	}
	boundary := s.CreatePolicy(awsemu.DefaultAccount, "Boundary")
	if _, err := c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("DHMC"), PermissionsBoundary: aws.String(boundary)}); err != nil {
		t.Fatalf("PutRolePermissionsBoundary: %v", err)
	}

	got, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("DHMC")})
	if err != nil {
		t.Fatalf("GetRole: %v", err)
	}
	if d := decode(t, got.Role.AssumeRolePolicyDocument); d != newTrust {
		t.Errorf("trust after update = %q, want %q", d, newTrust)
	}
	if got.Role.PermissionsBoundary == nil || aws.ToString(got.Role.PermissionsBoundary.PermissionsBoundaryArn) != boundary ||
		got.Role.PermissionsBoundary.PermissionsBoundaryType != iamtypes.PermissionsBoundaryAttachmentTypePolicy {
		t.Errorf("boundary = %+v, want %s", got.Role.PermissionsBoundary, boundary)
	}

	att, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("DHMC")})
	if err != nil {
		t.Fatalf("ListAttachedRolePolicies: %v", err)
	}
	if len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyArn) != managedARN ||
		aws.ToString(att.AttachedPolicies[0].PolicyName) != "AmazonSSMManagedEC2InstanceDefaultPolicy" || att.IsTruncated {
		t.Errorf("attached = %+v", att.AttachedPolicies)
	}
	names, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("DHMC")})
	if err != nil {
		t.Fatalf("ListRolePolicies: %v", err)
	}
	if len(names.PolicyNames) != 1 || names.PolicyNames[0] != "extra" {
		t.Errorf("inline names = %v", names.PolicyNames)
	}
	pol, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("DHMC"), PolicyName: aws.String("extra")})
	if err != nil {
		t.Fatalf("GetRolePolicy: %v", err)
	}
	if d := decode(t, pol.PolicyDocument); d != inlineDoc {
		t.Errorf("inline doc = %q, want %q", d, inlineDoc)
	}
	if aws.ToString(pol.RoleName) != "DHMC" || aws.ToString(pol.PolicyName) != "extra" {
		t.Errorf("GetRolePolicy names = %s/%s", aws.ToString(pol.RoleName), aws.ToString(pol.PolicyName))
	}

	seen, _ := s.Role(awsemu.DefaultAccount, "DHMC")
	if seen.TrustPolicy != newTrust || seen.InlinePolicies["extra"] != inlineDoc || seen.PermissionsBoundary != boundary ||
		len(seen.AttachedPolicies) != 1 || seen.ARN != wantARN {
		t.Errorf("emulator state = %+v", seen)
	}

	// Teardown in AWS's order: DeleteRole refuses while policies remain.
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("DHMC")})
	var conflict *iamtypes.DeleteConflictException
	if !errors.As(err, &conflict) {
		t.Fatalf("DeleteRole with policies: err = %v, want DeleteConflict", err)
	}
	steps := []func() error{
		func() error {
			_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("DHMC"), PolicyArn: aws.String(managedARN)})
			return err
		},
		func() error {
			_, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("DHMC"), PolicyName: aws.String("extra")})
			return err
		},
		func() error {
			_, err := c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("DHMC")})
			return err
		},
		func() error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("DHMC")})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("teardown step %d: %v", i, err)
		}
	}
	if _, ok := s.Role(awsemu.DefaultAccount, "DHMC"); ok {
		t.Error("role still exists after DeleteRole")
	}
}

func TestIAMListsPaginateWithMarker(t *testing.T) {
	s := awsemu.StartTest(t)
	inline := map[string]string{}
	for _, n := range []string{"p3", "p1", "p2", "p5", "p4"} {
		inline[n] = inlineDoc
	}
	s.PutRole(awsemu.DefaultAccount, awsemu.Role{
		Name: "R", TrustPolicy: trustDoc, InlinePolicies: inline,
		AttachedPolicies: []string{managedARN, "arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AdministratorAccess"},
	})
	c := newClients(s, "us-east-1").iam

	var names []string
	p := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: aws.String("R"), MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatalf("ListRolePolicies page: %v", err)
		}
		pages++
		names = append(names, out.PolicyNames...)
	}
	if want := "p1,p2,p3,p4,p5"; strings.Join(names, ",") != want || pages != 3 {
		t.Errorf("inline names = %v in %d pages, want %s in 3", names, pages, want)
	}

	var arns []string
	ap := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("R"), MaxItems: aws.Int32(1)})
	for ap.HasMorePages() {
		out, err := ap.NextPage(t.Context())
		if err != nil {
			t.Fatalf("ListAttachedRolePolicies page: %v", err)
		}
		for _, a := range out.AttachedPolicies {
			arns = append(arns, aws.ToString(a.PolicyArn))
		}
	}
	if len(arns) != 3 || arns[0] != managedARN {
		t.Errorf("attached = %v", arns)
	}
}

func TestIAMErrorsSurfaceAsTypedSDKErrors(t *testing.T) {
	s := awsemu.StartTest(t)
	s.PutRole(awsemu.DefaultAccount, awsemu.Role{Name: "Existing", TrustPolicy: trustDoc})
	c := newClients(s, "us-east-1").iam
	ctx := t.Context()
	var (
		noSuch    *iamtypes.NoSuchEntityException
		exists    *iamtypes.EntityAlreadyExistsException
		malformed *iamtypes.MalformedPolicyDocumentException
		invalid   *iamtypes.InvalidInputException
		limit     *iamtypes.LimitExceededException
	)
	tests := []struct {
		name string
		call func() error
		as   any
		code string
	}{
		{"get a missing role", func() error {
			_, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Nope")})
			return err
		}, &noSuch, "NoSuchEntity"},
		{"create an existing role, other case", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("existing"), AssumeRolePolicyDocument: aws.String(trustDoc)})
			return err
		}, &exists, "EntityAlreadyExists"},
		{"create with a broken trust policy", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("New"), AssumeRolePolicyDocument: aws.String(`{"Version":`)})
			return err
		}, &malformed, "MalformedPolicyDocument"},
		{"trust policy without principal", func() error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("Existing"), PolicyDocument: aws.String(inlineDoc)})
			return err
		}, &malformed, "MalformedPolicyDocument"},
		{"attach a policy that does not exist", func() error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("Existing"), PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
			return err
		}, &noSuch, "NoSuchEntity"},
		{"attach a malformed ARN", func() error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("Existing"), PolicyArn: aws.String("not-an-arn")})
			return err
		}, &invalid, "InvalidInput"},
		{"detach a policy that is not attached", func() error {
			_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("Existing"), PolicyArn: aws.String(managedARN)})
			return err
		}, &noSuch, "NoSuchEntity"},
		{"get a missing inline policy", func() error {
			_, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("Existing"), PolicyName: aws.String("x")})
			return err
		}, &noSuch, "NoSuchEntity"},
		{"delete a missing inline policy", func() error {
			_, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("Existing"), PolicyName: aws.String("x")})
			return err
		}, &noSuch, "NoSuchEntity"},
		{"inline policy with a principal", func() error {
			_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("Existing"), PolicyName: aws.String("x"), PolicyDocument: aws.String(trustDoc)})
			return err
		}, &malformed, "MalformedPolicyDocument"},
		{"boundary that does not exist", func() error {
			_, err := c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("Existing"), PermissionsBoundary: aws.String("arn:aws:iam::123456789012:policy/Missing")})
			return err
		}, &noSuch, "NoSuchEntity"},
		{"list on a missing role", func() error {
			_, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("Nope")})
			return err
		}, &noSuch, "NoSuchEntity"},
		{"trust policy over the size quota", func() error {
			big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole","Sid":"` + strings.Repeat("a", 2100) + `"}]}`
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("Existing"), PolicyDocument: aws.String(big)})
			return err
		}, &limit, "LimitExceeded"},
		{"invalid role name", func() error {
			_, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("bad name")})
			return err
		}, nil, "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("err = nil, want an error")
			}
			if tt.as != nil && !errors.As(err, tt.as) {
				t.Errorf("err = %T %v, want %T", err, err, tt.as)
			}
			if got := apiCode(err); got != tt.code {
				t.Errorf("code = %q, want %q", got, tt.code)
			}
		})
	}
}

func TestIAMManagedPoliciesExistInOtherPartitions(t *testing.T) {
	s := awsemu.StartTest(t)
	s.PutRole(awsemu.DefaultAccount, awsemu.Role{Name: "R", TrustPolicy: trustDoc})
	for _, tt := range []struct{ region, arn string }{
		{"cn-north-1", "arn:aws-cn:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"},
		{"us-gov-west-1", "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore"},
	} {
		c := newClients(s, tt.region).iam
		if _, err := c.AttachRolePolicy(t.Context(), &iam.AttachRolePolicyInput{RoleName: aws.String("R"), PolicyArn: aws.String(tt.arn)}); err != nil {
			t.Errorf("attach %s: %v", tt.arn, err)
		}
	}
	r, _ := s.Role(awsemu.DefaultAccount, "R")
	if len(r.AttachedPolicies) != 2 {
		t.Errorf("attached = %v, want both partitions' policies", r.AttachedPolicies)
	}
}
