package dhmc

import (
	"strings"
	"testing"
)

func TestDesiredValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Desired)
		wantErr string // "" for valid
	}{
		{name: "defaults", mutate: func(*Desired) {}},
		{name: "root path", mutate: func(d *Desired) { d.RolePath = "/" }},
		{name: "per-Region name", mutate: func(d *Desired) { d.RoleName = quickSetup + RegionPlaceholder }},
		{name: "placeholder not at the end", mutate: func(d *Desired) { d.RoleName = "a{region}b" }, wantErr: "at the end"},
		{name: "placeholder alone", mutate: func(d *Desired) { d.RoleName = RegionPlaceholder }, wantErr: "a name is needed"},
		{name: "per-Region name too long for a Region", mutate: func(d *Desired) { d.RoleName = strings.Repeat("a", 51) + RegionPlaceholder }, wantErr: "ap-southeast-1"},
		// AWS's sample template: 64 characters in ap-southeast-1, the most IAM allows.
		{name: "AWS sample template's per-Region name", mutate: func(d *Desired) { d.RoleName = DefaultRoleName + "-" + RegionPlaceholder }},
		{name: "per-Region name checked in each configured Region", mutate: func(d *Desired) {
			d.RoleName, d.Regions = DefaultRoleName+"-"+RegionPlaceholder, []string{"eu-west-1", "us-isof-south-1"}
		}, wantErr: "us-isof-south-1"},
		{name: "bad path", mutate: func(d *Desired) { d.RolePath = "service-role" }, wantErr: "must start and end with /"},
		{name: "wildcard policy", mutate: func(d *Desired) { d.ExtraPolicyARNs = []string{"arn:aws:iam::aws:policy/*"} }, wantErr: "wildcards"},
		{name: "admin policy", mutate: func(d *Desired) { d.ExtraPolicyARNs = []string{adminARN} }, wantErr: "admin-grade"},
		{name: "power user", mutate: func(d *Desired) { d.ExtraPolicyARNs = []string{"arn:aws:iam::aws:policy/PowerUserAccess"} }, wantErr: "admin-grade"},
		{name: "IAM full access", mutate: func(d *Desired) { d.ExtraPolicyARNs = []string{"arn:aws:iam::aws:policy/IAMFullAccess"} }, wantErr: "admin-grade"},
		{name: "a service's full access", mutate: func(d *Desired) { d.ExtraPolicyARNs = []string{"arn:aws:iam::aws:policy/AmazonS3FullAccess"} }, wantErr: "full access"},
		{name: "job function admin", mutate: func(d *Desired) {
			d.ExtraPolicyARNs = []string{"arn:aws:iam::aws:policy/job-function/SystemAdministrator"}
		}, wantErr: "admin-grade"},
		{name: "admin boundary", mutate: func(d *Desired) { d.PermissionsBoundaryARN = adminARN }, wantErr: "admin-grade"},
		{name: "customer policy", mutate: func(d *Desired) { d.ExtraPolicyARNs = []string{"arn:aws:iam::123456789012:policy/Logs"} }},
		{name: "read-only policy", mutate: func(d *Desired) { d.ExtraPolicyARNs = []string{readOnlyARN} }},
		{name: "bad excluded Region", mutate: func(d *Desired) { d.ExcludedRegions = []string{"mars-1"} }, wantErr: "not a Region code"},
		{name: "bad organisation", mutate: func(d *Desired) { d.Trust.OrganizationID = "org-1" }, wantErr: "Organizations ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDesired()
			tt.mutate(&d)
			err := d.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("want valid, got %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("want an error containing %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestPerRegionNames(t *testing.T) {
	d := testDesired()
	d.RoleName, d.RolePath = quickSetup+RegionPlaceholder, "/"
	if got := d.SettingValueIn("eu-west-1"); got != quickSetup+"eu-west-1" {
		t.Errorf("SettingValueIn = %q", got)
	}
	if got := d.RoleARNIn("us-east-1"); got != "arn:aws:iam::123456789012:role/"+quickSetup+"us-east-1" {
		t.Errorf("RoleARNIn = %q", got)
	}
	if got := d.RoleNames([]string{"eu-west-1", "us-east-1", "eu-west-1"}); len(got) != 2 {
		t.Errorf("RoleNames = %q", got)
	}
	if got := d.WatchedPolicyARNs(); got != nil {
		t.Errorf("WatchedPolicyARNs = %q", got)
	}
	d.ExtraPolicyARNs = []string{readOnlyARN, "arn:aws:iam::123456789012:policy/Logs"}
	d.PermissionsBoundaryARN = boundaryARN
	if got := d.WatchedPolicyARNs(); len(got) != 2 {
		t.Errorf("WatchedPolicyARNs = %q: want the two customer managed ones", got)
	}
}
