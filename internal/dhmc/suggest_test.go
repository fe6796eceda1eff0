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
		d    func(*Desired)
		o    Observed
		want map[string]string
		// replace is how the reason says to keep the configured role
		// instead: TakeOver, unless the role found has its name.
		replace string
	}{
		{
			name: "Quick Setup in every Region adopts the per-Region name",
			o: Observed{Roles: roles(qs("eu-west-1"), qs("us-east-1")),
				Settings: []SettingState{setting("eu-west-1", quickSetup+"eu-west-1"), setting("us-east-1", quickSetup+"us-east-1")}},
			want:    map[string]string{"RoleName": quickSetup + RegionPlaceholder, "RolePath": "/"},
			replace: "set TakeOver=true",
		},
		{
			name:    "one role at the root path adopts the path",
			o:       Observed{Roles: roles(otherRole(DefaultRoleName, "/")), Settings: settings(DefaultRoleName, "eu-west-1", "us-east-1")},
			want:    map[string]string{"RoleName": DefaultRoleName, "RolePath": "/"},
			replace: "remove that role",
		},
		{
			name:    "the reserved path adopts in detect mode",
			o:       Observed{Roles: roles(otherRole("SsmRole", "/aws-reserved/ssm.amazonaws.com/")), Settings: settings("aws-reserved/ssm.amazonaws.com/SsmRole", "eu-west-1")},
			want:    map[string]string{"RoleName": "SsmRole", "RolePath": "/aws-reserved/ssm.amazonaws.com/", "Mode": "detect"},
			replace: "set TakeOver=true",
		},
		{
			name:    "SSM's own role, with the configured name in the reserved path, cannot be taken over",
			o:       Observed{Roles: roles(otherRole(DefaultRoleName, "/aws-reserved/ssm.amazonaws.com/")), Settings: settings("aws-reserved/ssm.amazonaws.com/"+DefaultRoleName, "eu-west-1")},
			want:    map[string]string{"RoleName": DefaultRoleName, "RolePath": "/aws-reserved/ssm.amazonaws.com/", "Mode": "detect"},
			replace: "remove that role",
		},
		{
			name: "the reserved path already adopted in detect mode suggests nothing",
			d:    func(d *Desired) { d.RolePath, d.Mode = "/aws-reserved/ssm.amazonaws.com/", ModeDetect },
			o:    Observed{Roles: roles(otherRole(DefaultRoleName, "/aws-reserved/ssm.amazonaws.com/")), Settings: settings("aws-reserved/ssm.amazonaws.com/"+DefaultRoleName, "eu-west-1")},
		},
		{
			name:    "the reserved path configured in enforce mode suggests detect",
			d:       func(d *Desired) { d.RolePath = "/aws-reserved/ssm.amazonaws.com/" },
			o:       Observed{Roles: roles(otherRole(DefaultRoleName, "/aws-reserved/ssm.amazonaws.com/")), Settings: settings("aws-reserved/ssm.amazonaws.com/"+DefaultRoleName, "eu-west-1")},
			want:    map[string]string{"RoleName": DefaultRoleName, "RolePath": "/aws-reserved/ssm.amazonaws.com/", "Mode": "detect"},
			replace: "in detect mode: IAM lets nobody change",
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
			d := testDesired()
			if tt.d != nil {
				tt.d(&d)
			}
			got := Suggest(d, tt.o)
			if tt.want == nil {
				if got != nil {
					t.Errorf("want no suggestion, got %+v", got)
				}
				return
			}
			if got == nil || !reflect.DeepEqual(got.Parameters, tt.want) {
				t.Fatalf("got %+v, want %v", got, tt.want)
			}
			if !strings.Contains(got.Reason, tt.replace) {
				t.Errorf("reason %q does not say %q to keep the configured role instead", got.Reason, tt.replace)
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
