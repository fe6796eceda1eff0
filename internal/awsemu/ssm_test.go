package awsemu_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func settingARN(region string) string {
	return "arn:aws:ssm:" + region + ":123456789012:servicesetting" + settingID
}

func TestSSMSettingDefaultsToNoneWithSystemAsModifier(t *testing.T) {
	s := awsemu.StartTest(t)
	c := newClients(s, "eu-west-1").ssm
	out, err := c.GetServiceSetting(t.Context(), &ssm.GetServiceSettingInput{SettingId: aws.String(settingID)})
	if err != nil {
		t.Fatalf("GetServiceSetting: %v", err)
	}
	got := out.ServiceSetting
	if aws.ToString(got.SettingValue) != "$None" || aws.ToString(got.Status) != "Default" ||
		aws.ToString(got.LastModifiedUser) != "System" || aws.ToString(got.SettingId) != settingID ||
		aws.ToString(got.ARN) != settingARN("eu-west-1") || got.LastModifiedDate == nil {
		t.Errorf("setting = %+v", got)
	}
}

func TestSSMUpdateAndResetRoundTripWithShortIDOrARN(t *testing.T) {
	s := awsemu.StartTest(t)
	s.SetCaller("AKIDADMIN", awsemu.DefaultAccount, "arn:aws:sts::123456789012:assumed-role/Admin/alice")
	c := ssm.NewFromConfig(cfg(s, "eu-west-1", "AKIDADMIN"))
	ctx := t.Context()
	before := time.Now().Add(-time.Second)

	if _, err := c.UpdateServiceSetting(ctx, &ssm.UpdateServiceSettingInput{
		SettingId: aws.String(settingARN("eu-west-1")), SettingValue: aws.String("service-role/DHMC"),
	}); err != nil {
		t.Fatalf("UpdateServiceSetting: %v", err)
	}
	out, err := c.GetServiceSetting(ctx, &ssm.GetServiceSettingInput{SettingId: aws.String(settingID)})
	if err != nil {
		t.Fatalf("GetServiceSetting: %v", err)
	}
	got := out.ServiceSetting
	if aws.ToString(got.SettingValue) != "service-role/DHMC" || aws.ToString(got.Status) != "Customized" ||
		aws.ToString(got.LastModifiedUser) != "System" ||
		got.LastModifiedDate == nil || got.LastModifiedDate.Before(before) {
		t.Errorf("after update = %+v: real SSM answers LastModifiedUser System even after a customer's change", got)
	}
	if st := s.Setting(awsemu.DefaultAccount, "eu-west-1"); st.Value != "service-role/DHMC" || st.Status != "Customized" {
		t.Errorf("emulator state = %+v", st)
	}

	reset, err := c.ResetServiceSetting(ctx, &ssm.ResetServiceSettingInput{SettingId: aws.String(settingARN("eu-west-1"))})
	if err != nil {
		t.Fatalf("ResetServiceSetting: %v", err)
	}
	if aws.ToString(reset.ServiceSetting.SettingValue) != "$None" || aws.ToString(reset.ServiceSetting.Status) != "Default" {
		t.Errorf("reset answer = %+v", reset.ServiceSetting)
	}
	if st := s.Setting(awsemu.DefaultAccount, "eu-west-1"); st.Value != "$None" {
		t.Errorf("after reset value = %q", st.Value)
	}
}

func TestSSMRegionsHoldIndependentSettingsWhileIAMIsShared(t *testing.T) {
	s := awsemu.StartTest(t)
	east, west := newClients(s, "us-east-1"), newClients(s, "eu-west-1")
	ctx := t.Context()
	if _, err := east.ssm.UpdateServiceSetting(ctx, &ssm.UpdateServiceSettingInput{SettingId: aws.String(settingID), SettingValue: aws.String("A")}); err != nil {
		t.Fatal(err)
	}
	if _, err := west.ssm.UpdateServiceSetting(ctx, &ssm.UpdateServiceSettingInput{SettingId: aws.String(settingID), SettingValue: aws.String("B")}); err != nil {
		t.Fatal(err)
	}
	for region, want := range map[string]string{"us-east-1": "A", "eu-west-1": "B", "ap-south-1": "$None"} {
		if got := s.Setting(awsemu.DefaultAccount, region).Value; got != want {
			t.Errorf("%s setting = %q, want %q", region, got, want)
		}
	}
	if _, err := east.iam.CreateRole(ctx, iamCreate("Shared")); err != nil {
		t.Fatal(err)
	}
	if _, err := west.iam.GetRole(ctx, iamGet("Shared")); err != nil {
		t.Errorf("role created through us-east-1 not visible through eu-west-1: %v", err)
	}
}

func TestSSMErrorsSurfaceAsTypedSDKErrors(t *testing.T) {
	s := awsemu.StartTest(t)
	s.SetPendingUpdate(awsemu.DefaultAccount, "eu-central-1", true)
	ctx := t.Context()
	c := newClients(s, "eu-west-1").ssm
	pending := newClients(s, "eu-central-1").ssm
	var (
		notFound   *ssmtypes.ServiceSettingNotFound
		tooMany    *ssmtypes.TooManyUpdates
		validation *ssmtypes.ValidationException
		conflict   *ssmtypes.ConflictException
	)
	tests := []struct {
		name string
		call func() error
		as   any
		code string
	}{
		{"unknown setting", func() error {
			_, err := c.GetServiceSetting(ctx, &ssm.GetServiceSettingInput{SettingId: aws.String("/ssm/no/such/setting")})
			return err
		}, &notFound, "ServiceSettingNotFound"},
		{"setting ARN of another Region", func() error {
			_, err := c.UpdateServiceSetting(ctx, &ssm.UpdateServiceSettingInput{SettingId: aws.String(settingARN("us-east-1")), SettingValue: aws.String("x")})
			return err
		}, &notFound, "ServiceSettingNotFound"},
		{"setting ARN of another account", func() error {
			_, err := c.GetServiceSetting(ctx, &ssm.GetServiceSettingInput{SettingId: aws.String("arn:aws:ssm:eu-west-1:999999999999:servicesetting" + settingID)})
			return err
		}, nil, "AccessDeniedException"},
		{"update while PendingUpdate", func() error {
			_, err := pending.UpdateServiceSetting(ctx, &ssm.UpdateServiceSettingInput{SettingId: aws.String(settingID), SettingValue: aws.String("x")})
			return err
		}, &tooMany, "TooManyUpdates"},
		{"reset while PendingUpdate", func() error {
			_, err := pending.ResetServiceSetting(ctx, &ssm.ResetServiceSettingInput{SettingId: aws.String(settingID)})
			return err
		}, &tooMany, "TooManyUpdates"},
		{"register a role that does not exist", func() error {
			_, err := c.RegisterDefaultHostManagementConfiguration(ctx, &ssm.RegisterDefaultHostManagementConfigurationInput{
				PermissionModel: ssmtypes.DHMCPermissionModelSelfManaged, RoleArn: aws.String("arn:aws:iam::123456789012:role/Nope"),
			})
			return err
		}, &validation, "ValidationException"},
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
	// PendingUpdate is reported, and the value is untouched.
	out, err := pending.GetServiceSetting(ctx, &ssm.GetServiceSettingInput{SettingId: aws.String(settingID)})
	if err != nil || aws.ToString(out.ServiceSetting.Status) != "PendingUpdate" || aws.ToString(out.ServiceSetting.SettingValue) != "$None" {
		t.Errorf("pending setting = %+v, %v", out, err)
	}
	// Register refuses to replace another role without Overwrite.
	s.PutRole(awsemu.DefaultAccount, awsemu.Role{Name: "Mine", TrustPolicy: trustDoc})
	s.SetSetting(awsemu.DefaultAccount, "eu-west-1", "service-role/Other")
	_, err = c.RegisterDefaultHostManagementConfiguration(ctx, &ssm.RegisterDefaultHostManagementConfigurationInput{
		PermissionModel: ssmtypes.DHMCPermissionModelSelfManaged, RoleArn: aws.String("arn:aws:iam::123456789012:role/Mine"),
	})
	if !errors.As(err, &conflict) {
		t.Errorf("register over another role: err = %v, want ConflictException", err)
	}
}

func TestSSMRegisterAndDeregisterDHMC(t *testing.T) {
	s := awsemu.StartTest(t)
	s.PutRole(awsemu.DefaultAccount, awsemu.Role{Name: "Mine", Path: "/service-role/", TrustPolicy: trustDoc})
	c := newClients(s, "eu-west-1").ssm
	ctx := t.Context()
	roleARN := "arn:aws:iam::123456789012:role/service-role/Mine"

	out, err := c.RegisterDefaultHostManagementConfiguration(ctx, &ssm.RegisterDefaultHostManagementConfigurationInput{
		PermissionModel: ssmtypes.DHMCPermissionModelSelfManaged, RoleArn: aws.String(roleARN),
	})
	if err != nil {
		t.Fatalf("Register SELF_MANAGED: %v", err)
	}
	if aws.ToString(out.RoleArn) != roleARN {
		t.Errorf("RoleArn = %q", aws.ToString(out.RoleArn))
	}
	if got := s.Setting(awsemu.DefaultAccount, "eu-west-1").Value; got != "service-role/Mine" {
		t.Errorf("setting = %q, want the role's path and name without the leading slash", got)
	}

	out, err = c.RegisterDefaultHostManagementConfiguration(ctx, &ssm.RegisterDefaultHostManagementConfigurationInput{
		PermissionModel: ssmtypes.DHMCPermissionModelServiceManaged, Overwrite: true,
	})
	if err != nil {
		t.Fatalf("Register SERVICE_MANAGED: %v", err)
	}
	// SSM creates its role in IAM's reserved path (the SDK's RoleArn docs),
	// not where the console puts a self-managed one.
	want := "arn:aws:iam::123456789012:role/aws-reserved/ssm.amazonaws.com/AWSSystemsManagerDefaultEC2InstanceManagementRole"
	if aws.ToString(out.RoleArn) != want {
		t.Errorf("RoleArn = %q, want %q", aws.ToString(out.RoleArn), want)
	}
	role, ok := s.Role(awsemu.DefaultAccount, "AWSSystemsManagerDefaultEC2InstanceManagementRole")
	if !ok || len(role.AttachedPolicies) != 1 || role.AttachedPolicies[0] != managedARN || role.Path != awsemu.ServiceManagedRolePath {
		t.Errorf("service-managed role = %+v, %v", role, ok)
	}
	if got := s.Setting(awsemu.DefaultAccount, "eu-west-1").Value; got != "aws-reserved/ssm.amazonaws.com/AWSSystemsManagerDefaultEC2InstanceManagementRole" {
		t.Errorf("setting = %q, want the reserved path and name", got)
	}

	if _, err := c.DeregisterDefaultHostManagementConfiguration(ctx, &ssm.DeregisterDefaultHostManagementConfigurationInput{}); err != nil {
		t.Fatalf("Deregister: %v", err)
	}
	if got := s.Setting(awsemu.DefaultAccount, "eu-west-1").Value; got != "$None" {
		t.Errorf("setting after deregister = %q", got)
	}
	if _, ok := s.Role(awsemu.DefaultAccount, "AWSSystemsManagerDefaultEC2InstanceManagementRole"); ok {
		t.Error("service-managed role survived Deregister")
	}
}

func TestSSMRoleVisibilityLagFailsTheNextCallsNamingANewRole(t *testing.T) {
	s := awsemu.StartTest(t)
	s.SetRoleVisibilityLag(awsemu.DefaultAccount, 2)
	cl := newClients(s, "eu-west-1")
	ctx := t.Context()
	if _, err := cl.iam.CreateRole(ctx, iamCreate("Fresh")); err != nil {
		t.Fatal(err)
	}
	update := func() error {
		_, err := cl.ssm.UpdateServiceSetting(ctx, &ssm.UpdateServiceSettingInput{SettingId: aws.String(settingID), SettingValue: aws.String("Fresh")})
		return err
	}
	for i := range 2 {
		if err := update(); apiCode(err) != awsemu.RoleNotVisibleCode {
			t.Fatalf("call %d: err = %v, want %s", i+1, err, awsemu.RoleNotVisibleCode)
		}
	}
	if err := update(); err != nil {
		t.Fatalf("third call: %v, want success once IAM caught up", err)
	}
	if got := s.Setting(awsemu.DefaultAccount, "eu-west-1").Value; got != "Fresh" {
		t.Errorf("setting = %q", got)
	}
}

func TestSSMStampsTheCallerOnlyWhenAskedTo(t *testing.T) {
	s := awsemu.StartTest(t)
	s.SetCaller("AKIDADMIN", awsemu.DefaultAccount, "arn:aws:sts::123456789012:assumed-role/Admin/alice")
	s.StampCallers(true)
	c := ssm.NewFromConfig(cfg(s, "eu-west-1", "AKIDADMIN"))
	if _, err := c.UpdateServiceSetting(t.Context(), &ssm.UpdateServiceSettingInput{
		SettingId: aws.String(settingARN("eu-west-1")), SettingValue: aws.String("service-role/DHMC"),
	}); err != nil {
		t.Fatal(err)
	}
	if got := s.Setting(awsemu.DefaultAccount, "eu-west-1").LastModifiedUser; got != "arn:aws:sts::123456789012:assumed-role/Admin/alice" {
		t.Errorf("LastModifiedUser = %q, want the caller", got)
	}
}

func TestSettingWritesNamingAMissingRoleAreRecorded(t *testing.T) {
	s := awsemu.StartTest(t)
	s.PutRole(awsemu.DefaultAccount, awsemu.Role{Name: "Here", Path: "/service-role/", TrustPolicy: `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}`})
	c := ssm.NewFromConfig(cfg(s, "eu-west-1", "AKIDADMIN"))
	for _, v := range []string{"service-role/Here", "Here", "service-role/Gone"} {
		if _, err := c.UpdateServiceSetting(t.Context(), &ssm.UpdateServiceSettingInput{
			SettingId: aws.String(settingARN("eu-west-1")), SettingValue: aws.String(v),
		}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"123456789012 eu-west-1 Here", "123456789012 eu-west-1 service-role/Gone"}
	if got := s.DanglingSettingWrites(); !slices.Equal(got, want) {
		t.Errorf("dangling = %q, want %q", got, want)
	}
}
