package conformance_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

const (
	// moto's default account is the emulator's too.
	account       = awsemu.DefaultAccount
	adminPolicy   = "arn:aws:iam::aws:policy/AdministratorAccess"
	boundaryARN   = "arn:aws:iam::aws:policy/PowerUserAccess"
	wideTrust     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ssm.amazonaws.com","ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`
	inlineAnyS3   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	testRegionOne = "eu-west-1"
	testRegionTwo = "us-east-1"
)

// iamEnv is the reconciler with IAM on moto and SSM on the project's emulator
// (moto has no SSM service settings).
type iamEnv struct {
	t       *testing.T
	iam     *iam.Client
	emu     *awsemu.Server
	desired dhmc.Desired
}

func newIAMEnv(t *testing.T) *iamEnv {
	endpoint := moto(t)
	emu := awsemu.StartTest(t)
	e := &iamEnv{
		t:   t,
		iam: iam.NewFromConfig(awsConfig("us-east-1"), func(o *iam.Options) { o.BaseEndpoint = aws.String(endpoint) }),
		emu: emu,
		desired: dhmc.Desired{
			Partition: "aws", AccountID: account, RoleName: dhmc.DefaultRoleName, RolePath: dhmc.DefaultRolePath,
			Regions: []string{testRegionOne, testRegionTwo}, Mode: dhmc.ModeEnforce,
		},
	}
	for _, r := range e.desired.Regions {
		emu.SetSetting(account, r, e.desired.SettingValue())
	}
	return e
}

func (e *iamEnv) run(ctx context.Context) *dhmc.Report {
	e.t.Helper()
	emuURL := e.emu.URL()
	rec, err := reconcile.New(e.desired, reconcile.Clients{
		SSM: func(region string) reconcile.SettingsAPI {
			c := awsConfig(region)
			return ssm.NewFromConfig(c, func(o *ssm.Options) { o.BaseEndpoint = aws.String(emuURL) })
		},
		IAM: e.iam,
		// Regions are configured: discovery is never called.
		Regions: nil,
	}, reconcile.Options{VisibilityBaseDelay: time.Millisecond})
	if err != nil {
		e.t.Fatalf("reconcile.New: %v", err)
	}
	rep, err := rec.Run(ctx, reconcile.Scope{Mode: dhmc.ModeEnforce, Cause: dhmc.Cause{Trigger: "manual"}})
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	return rep
}

// createCompliantRole puts the desired role into moto with moto's own API.
func (e *iamEnv) createCompliantRole(ctx context.Context) {
	e.t.Helper()
	if _, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(e.desired.RoleName), Path: aws.String(e.desired.RolePath),
		AssumeRolePolicyDocument: aws.String(e.desired.TrustPolicy()),
	}); err != nil {
		e.t.Fatalf("seeding the role in moto: %v", err)
	}
	if _, err := e.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{
		RoleName: aws.String(e.desired.RoleName), PolicyArn: aws.String(e.desired.ManagedPolicyARN()),
	}); err != nil {
		e.t.Fatalf("attaching the managed policy in moto (is MOTO_IAM_LOAD_MANAGED_POLICIES=true?): %v", err)
	}
}

// assertDesired reads the role back from moto and checks every part of it.
func (e *iamEnv) assertDesired(ctx context.Context) {
	e.t.Helper()
	name := aws.String(e.desired.RoleName)
	got, err := e.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: name})
	if err != nil {
		e.t.Fatalf("moto GetRole after the repair: %v", err)
	}
	role := got.Role
	if aws.ToString(role.Path) != e.desired.RolePath || aws.ToString(role.Arn) != e.desired.RoleARN() {
		e.t.Errorf("role path/ARN = %s %s, want %s", aws.ToString(role.Path), aws.ToString(role.Arn), e.desired.RoleARN())
	}
	trust, err := url.QueryUnescape(aws.ToString(role.AssumeRolePolicyDocument))
	if err != nil {
		e.t.Fatal(err)
	}
	if !sameJSON(trust, e.desired.TrustPolicy()) {
		e.t.Errorf("trust policy = %s, want %s", trust, e.desired.TrustPolicy())
	}
	if role.PermissionsBoundary != nil {
		e.t.Errorf("permissions boundary %s left on the role", aws.ToString(role.PermissionsBoundary.PermissionsBoundaryArn))
	}
	attached, err := e.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: name})
	if err != nil {
		e.t.Fatal(err)
	}
	var arns []string
	for _, p := range attached.AttachedPolicies {
		arns = append(arns, aws.ToString(p.PolicyArn))
	}
	if !slices.Equal(arns, []string{e.desired.ManagedPolicyARN()}) {
		e.t.Errorf("attached policies = %v, want only %s", arns, e.desired.ManagedPolicyARN())
	}
	inline, err := e.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: name})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(inline.PolicyNames) != 0 {
		e.t.Errorf("inline policies %v left on the role", inline.PolicyNames)
	}
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func TestReconcilerRepairsTheRoleInMoto(t *testing.T) {
	requireMoto(t)
	tests := []struct {
		name      string
		breakRole func(ctx context.Context, c *iam.Client, role string) error
	}{
		{"managed policy detached", func(ctx context.Context, c *iam.Client, role string) error {
			_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &role, PolicyArn: aws.String("arn:aws:iam::aws:policy/" + dhmc.ManagedPolicyName)})
			return err
		}},
		{"AdministratorAccess attached", func(ctx context.Context, c *iam.Client, role string) error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: &role, PolicyArn: aws.String(adminPolicy)})
			return err
		}},
		{"inline policy added", func(ctx context.Context, c *iam.Client, role string) error {
			_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &role, PolicyName: aws.String("s3-everything"), PolicyDocument: aws.String(inlineAnyS3)})
			return err
		}},
		{"trust policy widened to EC2", func(ctx context.Context, c *iam.Client, role string) error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &role, PolicyDocument: aws.String(wideTrust)})
			return err
		}},
		{"permissions boundary added", func(ctx context.Context, c *iam.Client, role string) error {
			_, err := c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: &role, PermissionsBoundary: aws.String(boundaryARN)})
			return err
		}},
		{"everything at once", func(ctx context.Context, c *iam.Client, role string) error {
			_, err1 := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &role, PolicyArn: aws.String("arn:aws:iam::aws:policy/" + dhmc.ManagedPolicyName)})
			_, err2 := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: &role, PolicyArn: aws.String(adminPolicy)})
			_, err3 := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: &role, PolicyName: aws.String("extra"), PolicyDocument: aws.String(inlineAnyS3)})
			_, err4 := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: &role, PolicyDocument: aws.String(wideTrust)})
			return errors.Join(err1, err2, err3, err4)
		}},
		{"role deleted", func(ctx context.Context, c *iam.Client, role string) error {
			if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: &role, PolicyArn: aws.String("arn:aws:iam::aws:policy/" + dhmc.ManagedPolicyName)}); err != nil {
				return err
			}
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: &role})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			e := newIAMEnv(t)
			e.createCompliantRole(ctx)
			if rep := e.run(ctx); len(rep.Results) != 0 || rep.Failed() {
				t.Fatalf("the role as moto returns it is not compliant: %+v", rep.Results)
			}
			if err := tt.breakRole(ctx, e.iam, e.desired.RoleName); err != nil {
				t.Fatalf("breaking the role in moto: %v", err)
			}

			rep := e.run(ctx)
			if rep.Failed() {
				t.Fatalf("repair failed: results %+v, errors %+v", rep.Results, rep.Errors)
			}
			if len(rep.Results) == 0 || rep.Writes == 0 {
				t.Fatalf("no finding or no write for a broken role: %+v", rep)
			}
			e.assertDesired(ctx)

			if again := e.run(ctx); len(again.Results) != 0 || again.Writes != 0 {
				t.Errorf("second run still finds %+v (%d writes): the repair did not converge", again.Results, again.Writes)
			}
			for _, r := range e.desired.Regions {
				if got := e.emu.Setting(account, r).Value; got != e.desired.SettingValue() {
					t.Errorf("setting in %s = %q, want %q", r, got, e.desired.SettingValue())
				}
			}
		})
	}
}

func TestReconcilerCreatesAMissingRoleInMoto(t *testing.T) {
	ctx := t.Context()
	e := newIAMEnv(t)
	rep := e.run(ctx)
	if rep.Failed() {
		t.Fatalf("creating the role failed: %+v %+v", rep.Results, rep.Errors)
	}
	e.assertDesired(ctx)
	_, err := e.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("NoSuchRole")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Errorf("moto GetRole of a missing role: %v, want NoSuchEntity (the reconciler's not-found path relies on it)", err)
	}
}
