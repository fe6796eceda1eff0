package dhmc

import (
	"strings"
	"testing"
)

func TestWhoNamesEachKindOfPrincipal(t *testing.T) {
	tests := []struct {
		name, arn, want string
	}{
		{"empty", "", ""},
		{"ssm system", "System", UnknownActor},
		{"iam user", "arn:aws:iam::123456789012:user/alice", "user alice"},
		{"iam user with path", "arn:aws:iam::123456789012:user/ops/alice", "user alice"},
		{"root", "arn:aws:iam::123456789012:root", "root of account 123456789012"},
		{"assumed role", "arn:aws:sts::123456789012:assumed-role/Deployer/ci-1234", "role Deployer (session ci-1234)"},
		{"assumed role without session", "arn:aws:sts::123456789012:assumed-role/Deployer", "role Deployer"},
		{"sso session", "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice@example.com",
			"SSO user alice@example.com (permission set AdministratorAccess)"},
		{"sso permission set with underscore", "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_Admin_0123456789abcdef/bob",
			"SSO user bob (permission set Ops_Admin)"},
		{"sso role", "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_ReadOnly_fedcba9876543210",
			"SSO permission set ReadOnly"},
		{"role with path", "arn:aws:iam::123456789012:role/service-role/Thing", "role Thing"},
		{"sso prefix without suffix is a plain role", "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_/x", "role AWSReservedSSO_ (session x)"},
		{"federated", "arn:aws:sts::123456789012:federated-user/bob", "federated user bob"},
		{"china partition", "arn:aws-cn:iam::123456789012:user/li", "user li"},
		{"service name", "config.amazonaws.com", "service config.amazonaws.com"},
		{"unknown arn kept", "arn:aws:s3:::bucket", "arn:aws:s3:::bucket"},
		{"short arn kept", "arn:aws:iam", "arn:aws:iam"},
		{"iam resource without name kept", "arn:aws:iam::123456789012:user/", "arn:aws:iam::123456789012:user/"},
		{"anything else kept", "AIDAEXAMPLE", "AIDAEXAMPLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Who(tt.arn); got != tt.want {
				t.Errorf("Who(%q) = %q, want %q", tt.arn, got, tt.want)
			}
		})
	}
}

func FuzzWho(f *testing.F) {
	f.Add("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_A_B/c")
	f.Add("arn:aws:iam::1:role/")
	f.Fuzz(func(t *testing.T, arn string) {
		if strings.TrimSpace(arn) != "" && Who(arn) == "" {
			t.Errorf("Who(%q) is empty", arn)
		}
	})
}
