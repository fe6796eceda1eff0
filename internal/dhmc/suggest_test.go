package dhmc

import (
	"reflect"
	"strings"
	"testing"
)

func TestSuggest(t *testing.T) {
	qs := func(region string) RoleState { return otherRole(quickSetup+region, "/") }
	tests := []struct {
		name string
		o    Observed
		want map[string]string
	}{
		{
			name: "Quick Setup in every Region adopts the per-Region name",
			o: Observed{Roles: roles(qs("eu-west-1"), qs("us-east-1")),
				Settings: []SettingState{setting("eu-west-1", quickSetup+"eu-west-1"), setting("us-east-1", quickSetup+"us-east-1")}},
			want: map[string]string{"RoleName": quickSetup + RegionPlaceholder, "RolePath": "/"},
		},
		{
			name: "one role at the root path adopts the path",
			o:    Observed{Roles: roles(otherRole(DefaultRoleName, "/")), Settings: settings(DefaultRoleName, "eu-west-1", "us-east-1")},
			want: map[string]string{"RoleName": DefaultRoleName, "RolePath": "/"},
		},
		{
			name: "the reserved path adopts in detect mode",
			o:    Observed{Roles: roles(otherRole("SsmRole", "/aws-reserved/ssm.amazonaws.com/")), Settings: settings("aws-reserved/ssm.amazonaws.com/SsmRole", "eu-west-1")},
			want: map[string]string{"RoleName": "SsmRole", "RolePath": "/aws-reserved/ssm.amazonaws.com/", "Mode": "detect"},
		},
		{
			name: "what is already configured suggests nothing",
			o:    Observed{Roles: roles(goodRole()), Settings: settings(wantSetting, "eu-west-1")},
		},
		{
			name: "a Region with DHMC off is not a setup to adopt",
			o:    Observed{Roles: roles(otherRole(DefaultRoleName, "/")), Settings: []SettingState{setting("eu-west-1", DefaultRoleName), setting("us-east-1", "$None")}},
		},
		{
			name: "two different roles are not one setup",
			o: Observed{Roles: roles(otherRole("A", "/"), otherRole("B", "/")),
				Settings: []SettingState{setting("eu-west-1", "A"), setting("us-east-1", "B")}},
		},
		{
			name: "a role with extra privileges is never suggested",
			o: Observed{Roles: roles(func() RoleState { r := otherRole("A", "/"); r.InlinePolicyNames = []string{"x"}; return r }()),
				Settings: settings("A", "eu-west-1")},
		},
		{
			name: "a role that was not read is never suggested",
			o:    Observed{Settings: settings("A", "eu-west-1")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Suggest(testDesired(), tt.o)
			if tt.want == nil {
				if got != nil {
					t.Errorf("want no suggestion, got %+v", got)
				}
				return
			}
			if got == nil || !reflect.DeepEqual(got.Parameters, tt.want) {
				t.Fatalf("got %+v, want %v", got, tt.want)
			}
			if !strings.Contains(got.Reason, "TakeOver=true") {
				t.Errorf("reason %q does not say how to replace it instead", got.Reason)
			}
		})
	}
}

func TestRecogniseManager(t *testing.T) {
	tests := []struct {
		role RoleState
		want string
	}{
		{otherRole(quickSetup+"eu-west-1", "/"), "Quick Setup"},
		{otherRole("Custom", "/aws-reserved/ssm.amazonaws.com/"), "SSM service-managed registration (RegisterDefaultHostManagementConfiguration, SERVICE_MANAGED)"},
		{func() RoleState {
			r := otherRole("Custom", "/")
			r.Tags = map[string]string{"aws:cloudformation:stack-name": "ops-dhmc"}
			return r
		}(), "CloudFormation stack ops-dhmc"},
		{otherRole(DefaultRoleName+"-eu-west-1", "/"), "CloudFormation (AWS's sample template aws-samples/aws-systems-manager-default-host-management-configuration)"},
		{otherRole(DefaultRoleName+"-us-east-1", "/"), ""},
		{otherRole("Custom", "/"), ""},
	}
	for _, tt := range tests {
		got, ok := RecogniseManager(tt.role, "eu-west-1")
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("RecogniseManager(%s%s) = %q, %t; want %q", tt.role.Path, tt.role.Name, got, ok, tt.want)
		}
	}
}
