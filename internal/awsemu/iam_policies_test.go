package awsemu_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

const s3Doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`

func TestCustomerManagedPolicyVersions(t *testing.T) {
	s := awsemu.StartTest(t)
	c := newClients(s, "us-east-1").iam
	ctx := t.Context()

	created, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("app"), PolicyDocument: aws.String(s3Doc)})
	if err != nil {
		t.Fatal(err)
	}
	arn := created.Policy.Arn
	if aws.ToString(arn) != "arn:aws:iam::"+awsemu.DefaultAccount+":policy/app" || aws.ToString(created.Policy.DefaultVersionId) != "v1" ||
		!strings.HasPrefix(aws.ToString(created.Policy.PolicyId), "ANPA") {
		t.Fatalf("created %+v", created.Policy)
	}
	if _, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("APP"), Path: aws.String("/x/"), PolicyDocument: aws.String(s3Doc)}); apiCode(err) != "EntityAlreadyExists" {
		t.Errorf("duplicate name: %v", err)
	}
	for i := 2; i <= 5; i++ {
		if _, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(s3Doc), SetAsDefault: i == 3}); err != nil {
			t.Fatalf("version %d: %v", i, err)
		}
	}
	if _, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(s3Doc)}); apiCode(err) != "LimitExceeded" {
		t.Errorf("sixth version: %v, want LimitExceeded", err)
	}
	got, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn})
	if err != nil || aws.ToString(got.Policy.DefaultVersionId) != "v3" {
		t.Fatalf("default after SetAsDefault: %+v %v", got, err)
	}
	if _, err := c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v3")}); apiCode(err) != "DeleteConflict" {
		t.Errorf("deleting the default version: %v", err)
	}
	if _, err := c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v5")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v9")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("unknown version: %v", err)
	}
	for _, v := range []string{"v1", "v2", "v3", "v4"} {
		if _, err := c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: arn, VersionId: aws.String(v)}); err != nil {
			t.Fatalf("deleting %s: %v", v, err)
		}
	}
	list, err := c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: arn})
	if err != nil || len(list.Versions) != 1 || aws.ToString(list.Versions[0].VersionId) != "v5" || !list.Versions[0].IsDefaultVersion {
		t.Fatalf("versions left %+v %v", list, err)
	}
	pv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: aws.String("v5")})
	if err != nil || decode(t, pv.PolicyVersion.Document) != s3Doc {
		t.Fatalf("GetPolicyVersion %+v %v", pv, err)
	}

	s.PutRole(awsemu.DefaultAccount, awsemu.Role{Name: "app", TrustPolicy: trustDoc, AttachedPolicies: []string{aws.ToString(arn)}})
	if _, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn}); apiCode(err) != "DeleteConflict" {
		t.Errorf("deleting an attached policy: %v", err)
	}
	if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: arn}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("deleted policy: %v", err)
	}
	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: arn}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("attaching a deleted policy: %v", err)
	}
}

func TestAWSManagedPoliciesCarryTheirRealDocuments(t *testing.T) {
	s := awsemu.StartTest(t)
	c := newClients(s, "us-east-1").iam
	for name, wantAction := range map[string]string{
		"AmazonSSMManagedInstanceCore":             "ssm:UpdateInstanceInformation",
		"service-role/AmazonEC2RoleforSSM":         "ssm:UpdateInstanceInformation",
		"AmazonSSMManagedEC2InstanceDefaultPolicy": "ssm:UpdateInstanceInformation",
		"CloudWatchAgentServerPolicy":              "cloudwatch:PutMetricData",
	} {
		arn := aws.String("arn:aws:iam::aws:policy/" + name)
		p, err := c.GetPolicy(t.Context(), &iam.GetPolicyInput{PolicyArn: arn})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v, err := c.GetPolicyVersion(t.Context(), &iam.GetPolicyVersionInput{PolicyArn: arn, VersionId: p.Policy.DefaultVersionId})
		if err != nil {
			t.Fatalf("%s %s: %v", name, aws.ToString(p.Policy.DefaultVersionId), err)
		}
		doc := decode(t, v.PolicyVersion.Document)
		var parsed map[string]any
		if err := json.Unmarshal([]byte(doc), &parsed); err != nil || !strings.Contains(doc, `"`+wantAction+`"`) {
			t.Errorf("%s document %s (%v), want it to grant %s", name, doc, err, wantAction)
		}
	}
	if _, err := c.GetPolicyVersion(t.Context(), &iam.GetPolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"), VersionId: aws.String("v9")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("an old version: %v", err)
	}
	if _, err := c.GetPolicy(t.Context(), &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")}); err != nil {
		t.Errorf("job-function policy: %v", err)
	}
	if _, err := c.GetPolicy(t.Context(), &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCor")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("misspelt policy: %v", err)
	}
	if _, err := c.CreatePolicyVersion(t.Context(), &iam.CreatePolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"), PolicyDocument: aws.String(s3Doc)}); apiCode(err) != "AccessDenied" {
		t.Errorf("changing an AWS managed policy: %v", err)
	}
}

func TestPoliciesSeededByNameStillWork(t *testing.T) {
	s := awsemu.StartTest(t)
	c := newClients(s, "us-east-1").iam
	arn := s.CreatePolicy(awsemu.DefaultAccount, "boundary")
	p, err := c.GetPolicy(t.Context(), &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil || aws.ToString(p.Policy.PolicyName) != "boundary" || aws.ToString(p.Policy.Path) != "/" {
		t.Fatalf("GetPolicy %+v %v", p, err)
	}
	withDoc := s.CreatePolicyWithDocument(awsemu.DefaultAccount, "/teams/", "ssm", s3Doc)
	v, err := c.GetPolicyVersion(t.Context(), &iam.GetPolicyVersionInput{PolicyArn: aws.String(withDoc), VersionId: aws.String("v1")})
	if err != nil || decode(t, v.PolicyVersion.Document) != s3Doc || !v.PolicyVersion.IsDefaultVersion {
		t.Fatalf("seeded document %+v %v", v, err)
	}
	if withDoc != "arn:aws:iam::"+awsemu.DefaultAccount+":policy/teams/ssm" {
		t.Errorf("ARN %s", withDoc)
	}
}

func TestInstanceProfiles(t *testing.T) {
	s := awsemu.StartTest(t)
	c := newClients(s, "us-east-1").iam
	ctx := t.Context()
	if _, err := c.CreateRole(ctx, iamCreate("app")); err != nil {
		t.Fatal(err)
	}
	created, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("app"), Path: aws.String("/web/")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(created.InstanceProfile.Arn); got != "arn:aws:iam::"+awsemu.DefaultAccount+":instance-profile/web/app" {
		t.Errorf("ARN %s", got)
	}
	if _, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("app"), RoleName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRole(ctx, iamCreate("second")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("app"), RoleName: aws.String("second")}); apiCode(err) != "LimitExceeded" {
		t.Errorf("second role: %v", err)
	}
	got, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("app")})
	if err != nil || len(got.InstanceProfile.Roles) != 1 || aws.ToString(got.InstanceProfile.Roles[0].RoleName) != "app" ||
		decode(t, got.InstanceProfile.Roles[0].AssumeRolePolicyDocument) != trustDoc {
		t.Fatalf("GetInstanceProfile %+v %v", got, err)
	}
	if _, err := c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("app")}); apiCode(err) != "DeleteConflict" {
		t.Errorf("deleting a profile with a role: %v", err)
	}
	if _, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("nope")}); apiCode(err) != "NoSuchEntity" {
		t.Errorf("unknown profile: %v", err)
	}
}
