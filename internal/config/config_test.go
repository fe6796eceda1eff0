package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/config"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

func validEnv() map[string]string {
	return map[string]string{
		config.EnvTopicARN:        "arn:aws:sns:eu-west-1:123456789012:dhmc-guard-alerts",
		config.EnvFunctionRoleARN: "arn:aws:iam::123456789012:role/dhmc-guard-GuardFunctionRole-EXAMPLE",
		config.EnvRegion:          "eu-west-1",
	}
}

func load(env map[string]string) (config.Config, error) {
	return config.Load(func(k string) string { return env[k] })
}

func TestLoadAppliesDefaults(t *testing.T) {
	c, err := load(validEnv())
	if err != nil {
		t.Fatal(err)
	}
	d := c.Desired
	if d.RoleName != dhmc.DefaultRoleName || d.RolePath != dhmc.DefaultRolePath {
		t.Errorf("role = %s%s, want the console default", d.RolePath, d.RoleName)
	}
	if d.Mode != dhmc.ModeEnforce {
		t.Errorf("mode = %q, want enforce", d.Mode)
	}
	if d.Regions != nil {
		t.Errorf("regions = %v, want nil (all, discovered)", d.Regions)
	}
	if d.AccountID != "123456789012" || d.Partition != "aws" {
		t.Errorf("account/partition = %s/%s, want from the topic ARN", d.AccountID, d.Partition)
	}
	if c.SecurityHubFindings {
		t.Error("Security Hub findings on by default")
	}
	if c.Parallelism != 20 || c.HomeRegion != "eu-west-1" {
		t.Errorf("parallelism/home = %d/%s", c.Parallelism, c.HomeRegion)
	}
}

func TestLoadReadsEveryVariable(t *testing.T) {
	env := validEnv()
	env[config.EnvTopicARN] = "arn:aws-cn:sns:cn-north-1:123456789012:alerts"
	env[config.EnvFunctionRoleARN] = "arn:aws-cn:iam::123456789012:role/ops/guard"
	env[config.EnvRegion] = "cn-north-1"
	env[config.EnvRoleName] = "DHMCRole"
	env[config.EnvRolePath] = "/"
	env[config.EnvRegions] = " cn-northwest-1, cn-north-1 ,cn-north-1,"
	env[config.EnvMode] = "DETECT"
	env[config.EnvExtraPolicyARNs] = "arn:aws-cn:iam::aws:policy/CloudWatchAgentServerPolicy"
	env[config.EnvPermissionsBoundary] = "arn:aws-cn:iam::123456789012:policy/boundary"
	env[config.EnvParallelism] = "4"
	env[config.EnvExcludedRegions] = "cn-northwest-2"
	env[config.EnvTakeOver] = "TRUE"
	env[config.EnvRequireTrustCond] = "true"
	env[config.EnvOrganizationID] = "o-a1b2c3d4e5"
	env[config.EnvSecurityHubFindings] = "True"
	c, err := load(env)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Desired
	if got, want := strings.Join(d.Regions, ","), "cn-north-1,cn-northwest-1"; got != want {
		t.Errorf("regions = %s, want %s (sorted, deduplicated)", got, want)
	}
	if d.Partition != "aws-cn" || d.Mode != dhmc.ModeDetect || d.SettingValue() != "DHMCRole" {
		t.Errorf("got partition %s mode %s value %s", d.Partition, d.Mode, d.SettingValue())
	}
	if !d.TakeOver || !d.Trust.RequireCondition || d.Trust.OrganizationID != "o-a1b2c3d4e5" || len(d.ExcludedRegions) != 1 {
		t.Errorf("take over %t, require %t, org %q, excluded %v", d.TakeOver, d.Trust.RequireCondition, d.Trust.OrganizationID, d.ExcludedRegions)
	}
	if !c.SecurityHubFindings {
		t.Error("Security Hub findings not read")
	}
	if len(d.ExtraPolicyARNs) != 1 || d.PermissionsBoundaryARN == "" || c.Parallelism != 4 {
		t.Errorf("extra %v boundary %q parallelism %d", d.ExtraPolicyARNs, d.PermissionsBoundaryARN, c.Parallelism)
	}
}

func TestLoadNamesTheBadVariable(t *testing.T) {
	tests := []struct {
		name  string
		set   string
		value string // "" deletes the variable
	}{
		{"missing topic", config.EnvTopicARN, ""},
		{"topic not an ARN", config.EnvTopicARN, "alerts"},
		{"topic of another service", config.EnvTopicARN, "arn:aws:sqs:eu-west-1:123456789012:q"},
		{"missing function role", config.EnvFunctionRoleARN, ""},
		{"function role not a role", config.EnvFunctionRoleARN, "arn:aws:iam::123456789012:user/bob"},
		{"function role in another account", config.EnvFunctionRoleARN, "arn:aws:iam::210987654321:role/guard"},
		{"missing region", config.EnvRegion, ""},
		{"bad region", config.EnvRegion, "Ireland"},
		{"bad managed region", config.EnvRegions, "eu-west-1,mars-1"},
		{"empty region list", config.EnvRegions, ",,"},
		{"bad mode", config.EnvMode, "repair"},
		{"bad role name", config.EnvRoleName, "has space"},
		{"role path without slashes", config.EnvRolePath, "service-role"},
		{"bad extra policy", config.EnvExtraPolicyARNs, "AdministratorAccess"},
		{"bad boundary", config.EnvPermissionsBoundary, "arn:aws:iam::123456789012:role/x"},
		{"admin extra policy", config.EnvExtraPolicyARNs, "arn:aws:iam::aws:policy/AdministratorAccess"},
		{"wildcard extra policy", config.EnvExtraPolicyARNs, "arn:aws:iam::123456789012:policy/*"},
		{"full access extra policy", config.EnvExtraPolicyARNs, "arn:aws:iam::aws:policy/AmazonEC2FullAccess"},
		{"admin boundary", config.EnvPermissionsBoundary, "arn:aws:iam::aws:policy/PowerUserAccess"},
		{"bad excluded region", config.EnvExcludedRegions, "moon-1"},
		{"take over not a boolean", config.EnvTakeOver, "yes"},
		{"require condition not a boolean", config.EnvRequireTrustCond, "1"},
		{"Security Hub findings not a boolean", config.EnvSecurityHubFindings, "on"},
		{"bad organization", config.EnvOrganizationID, "acme"},
		{"placeholder in the middle", config.EnvRoleName, "a{region}b"},
		{"parallelism zero", config.EnvParallelism, "0"},
		{"parallelism not a number", config.EnvParallelism, "many"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := validEnv()
			if tt.value == "" {
				delete(env, tt.set)
			} else {
				env[tt.set] = tt.value
			}
			_, err := load(env)
			if err == nil {
				t.Fatalf("Load succeeded with %s=%q", tt.set, tt.value)
			}
			var ve *config.VarError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v has no VarError", err)
			}
			if !strings.Contains(err.Error(), tt.set+":") {
				t.Errorf("error %q does not name %s", err, tt.set)
			}
		})
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	_, err := load(map[string]string{config.EnvMode: "x"})
	for _, v := range []string{config.EnvTopicARN, config.EnvFunctionRoleARN, config.EnvRegion, config.EnvMode} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("error %v does not name %s", err, v)
		}
	}
}

func TestLoadRejectsARegionBothManagedAndExcluded(t *testing.T) {
	env := validEnv()
	env[config.EnvRegions] = "eu-west-1,us-east-1"
	env[config.EnvExcludedRegions] = "us-east-1"
	if _, err := load(env); err == nil || !strings.Contains(err.Error(), config.EnvExcludedRegions+":") {
		t.Errorf("err = %v", err)
	}
}
