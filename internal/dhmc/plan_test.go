package dhmc

import (
	"reflect"
	"strings"
	"testing"
)

const (
	testAccount  = "123456789012"
	managedARN   = "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"
	adminARN     = "arn:aws:iam::aws:policy/AdministratorAccess"
	readOnlyARN  = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	boundaryARN  = "arn:aws:iam::123456789012:policy/Boundary"
	wantSetting  = "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"
	wantRoleARN  = "arn:aws:iam::123456789012:role/service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"
	goodTrust    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	looseTrust   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ssm.amazonaws.com","ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`
	desiredTrust = goodTrust
	quickSetup   = "AWS-QuickSetup-SSM-DefaultEC2MgmtRole-"
)

func testDesired() Desired {
	return Desired{
		Partition: "aws", AccountID: testAccount,
		RoleName: DefaultRoleName, RolePath: DefaultRolePath, Mode: ModeEnforce,
	}
}

func goodRole() RoleState {
	return RoleState{
		Name: DefaultRoleName, Exists: true, ARN: wantRoleARN, Path: DefaultRolePath, TrustPolicy: goodTrust,
		AttachedPolicyARNs: []string{managedARN},
	}
}

// otherRole is a working DHMC role called name at path.
func otherRole(name, path string) RoleState {
	r := goodRole()
	r.Name, r.Path, r.ARN = name, path, "arn:aws:iam::"+testAccount+":role"+path+name
	return r
}

func missing(name string) RoleState { return RoleState{Name: name} }

func roles(rs ...RoleState) map[string]RoleState {
	m := map[string]RoleState{}
	for _, r := range rs {
		m[strings.ToLower(r.Name)] = r
	}
	return m
}

func setting(region, value string) SettingState {
	return SettingState{Region: region, Value: value, Status: "Customized",
		LastModifiedUser: "System", LastModifiedDate: "2026-11-01T10:00:00Z"}
}

func settings(value string, regions ...string) []SettingState {
	var out []SettingState
	for _, r := range regions {
		out = append(out, setting(r, value))
	}
	return out
}

// brief keeps what the table compares: kind, place, role, action, target,
// and whether the finding is blocked.
type brief struct {
	Kind    Kind
	Region  string
	Role    string
	Action  Action
	Target  string
	Blocked bool
}

func briefs(fs []Finding) []brief {
	var out []brief
	for _, f := range fs {
		out = append(out, brief{f.Kind, f.Region, f.Role, f.Action, f.Target, f.Blocked != ""})
	}
	return out
}

func TestPlan(t *testing.T) {
	withRole := func(f func(r *RoleState)) map[string]RoleState { r := goodRole(); f(&r); return roles(r) }
	def := DefaultRoleName
	tests := []struct {
		name     string
		desired  func(d *Desired)
		observed Observed
		want     []brief
	}{
		{
			name:     "compliant role and setting give no findings",
			observed: Observed{Roles: roles(goodRole()), Settings: settings(wantSetting, "eu-west-1")},
		},
		{
			name:     "$None is disabled",
			observed: Observed{Roles: roles(goodRole()), Settings: settings("$None", "eu-west-1")},
			want:     []brief{{Kind: KindSettingDisabled, Region: "eu-west-1", Role: def, Action: ActionUpdateSetting}},
		},
		{
			name:     "empty value is disabled",
			observed: Observed{Roles: roles(goodRole()), Settings: settings("", "eu-west-1")},
			want:     []brief{{Kind: KindSettingDisabled, Region: "eu-west-1", Role: def, Action: ActionUpdateSetting}},
		},
		{
			name:     "a write is blocked when the role was not read",
			observed: Observed{Settings: settings("$None", "eu-west-1")},
			want:     []brief{{Kind: KindSettingDisabled, Region: "eu-west-1", Role: def, Action: ActionUpdateSetting, Blocked: true}},
		},
		{
			name:     "a write is blocked when the role could not be read",
			observed: Observed{RoleErrors: map[string]string{strings.ToLower(def): "AccessDenied"}, Settings: settings("$None", "eu-west-1")},
			want:     []brief{{Kind: KindSettingDisabled, Region: "eu-west-1", Role: def, Action: ActionUpdateSetting, Blocked: true}},
		},
		{
			name:     "an unknown working role is the wrong role",
			observed: Observed{Roles: roles(goodRole(), otherRole("Other", "/service-role/")), Settings: settings("service-role/Other", "us-east-1")},
			want:     []brief{{Kind: KindSettingWrongRole, Region: "us-east-1", Role: def, Action: ActionUpdateSetting}},
		},
		{
			name:     "a setting naming a role that does not exist is the wrong role",
			observed: Observed{Roles: roles(goodRole(), missing("Gone")), Settings: settings("Gone", "us-east-1")},
			want:     []brief{{Kind: KindSettingWrongRole, Region: "us-east-1", Role: def, Action: ActionUpdateSetting}},
		},
		{
			name:     "a setting naming a role that could not be read is blocked",
			observed: Observed{Roles: roles(goodRole()), RoleErrors: map[string]string{"other": "AccessDenied"}, Settings: settings("Other", "us-east-1")},
			want:     []brief{{Kind: KindSettingWrongRole, Region: "us-east-1", Role: def, Action: ActionUpdateSetting, Blocked: true}},
		},
		{
			name:     "role ARN equals path and name",
			observed: Observed{Roles: roles(goodRole()), Settings: settings(wantRoleARN, "eu-west-1")},
		},
		{
			name:     "role ARN in another account is the wrong role",
			observed: Observed{Roles: roles(goodRole()), Settings: settings(strings.Replace(wantRoleARN, testAccount, "210987654321", 1), "eu-west-1")},
			want:     []brief{{Kind: KindSettingWrongRole, Region: "eu-west-1", Role: def, Action: ActionUpdateSetting}},
		},
		{
			name:     "leading slash equals path and name",
			observed: Observed{Roles: roles(goodRole()), Settings: settings("/"+wantSetting, "eu-west-1")},
		},
		{
			name:     "role at root path is its bare name",
			desired:  func(d *Desired) { d.RolePath = "/" },
			observed: Observed{Roles: roles(otherRole(def, "/")), Settings: settings(def, "eu-west-1")},
		},
		{
			name:     "pending update is reported, not repaired",
			observed: Observed{Roles: roles(goodRole()), Settings: []SettingState{{Region: "eu-west-1", Value: "$None", Status: StatusPendingUpdate}}},
			want:     []brief{{Kind: KindSettingPending, Region: "eu-west-1", Role: def, Action: ActionNone}},
		},
		{
			name:     "missing role with no setting to compare is created",
			observed: Observed{Roles: roles(missing(def))},
			want:     []brief{{Kind: KindRoleMissing, Role: def, Action: ActionCreateRole}},
		},
		{
			name:     "setting naming the right but missing role is reported per Region",
			observed: Observed{Roles: roles(missing(def)), Settings: []SettingState{setting("eu-west-1", wantSetting), setting("us-east-1", "$None")}},
			want: []brief{
				{Kind: KindRoleMissing, Role: def, Action: ActionCreateRole},
				{Kind: KindSettingRoleMissing, Region: "eu-west-1", Role: def, Action: ActionUpdateSetting},
				{Kind: KindSettingDisabled, Region: "us-east-1", Role: def, Action: ActionUpdateSetting},
			},
		},
		{
			name:     "loosened trust policy is drift",
			observed: Observed{Roles: withRole(func(r *RoleState) { r.TrustPolicy = looseTrust })},
			want:     []brief{{Kind: KindTrustPolicyDrift, Role: def, Action: ActionUpdateTrustPolicy, Target: "statement 1 lets Service ec2.amazonaws.com assume the role"}},
		},
		{
			name: "trust policy with the same meaning is not drift",
			observed: Observed{Roles: withRole(func(r *RoleState) {
				r.TrustPolicy = `{"Statement":{"Sid":"x","Effect":"Allow","Action":["sts:AssumeRole"],"Principal":{"Service":["ssm.amazonaws.com"]}}}`
			})},
		},
		{
			name: "confused-deputy conditions for this account are compliant",
			observed: Observed{Roles: withRole(func(r *RoleState) {
				r.TrustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole",
					"Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"},"ArnLike":{"aws:SourceArn":"arn:aws:ssm:*:123456789012:*"}}}]}`
			})},
		},
		{
			name: "a condition naming another account is drift",
			observed: Observed{Roles: withRole(func(r *RoleState) {
				r.TrustPolicy = `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`
			})},
			want: []brief{{Kind: KindTrustPolicyDrift, Role: def, Action: ActionUpdateTrustPolicy,
				Target: `statement 1: condition StringEquals aws:SourceAccount "111122223333" names account 111122223333: SSM cannot assume the role for this account`}},
		},
		{
			name: "an unknown condition key is reported, not repaired",
			observed: Observed{Roles: withRole(func(r *RoleState) {
				r.TrustPolicy = `{"Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`
			})},
			want: []brief{{Kind: KindTrustPolicyUnrecognised, Role: def, Action: ActionNone,
				Target: "statement 1: condition Bool aws:SecureTransport is not one the guard can verify"}},
		},
		{
			name:     "a required condition that is missing is drift",
			desired:  func(d *Desired) { d.Trust.RequireCondition = true },
			observed: Observed{Roles: roles(goodRole())},
			want: []brief{{Kind: KindTrustPolicyDrift, Role: def, Action: ActionUpdateTrustPolicy,
				Target: "no aws:SourceAccount, aws:SourceArn, aws:SourceOrgID or aws:SourceOrgPaths condition limits it to this account or organisation (required)"}},
		},
		{
			name:     "managed policy missing",
			observed: Observed{Roles: withRole(func(r *RoleState) { r.AttachedPolicyARNs = nil })},
			want:     []brief{{Kind: KindManagedPolicyMissing, Role: def, Action: ActionAttachPolicy, Target: managedARN}},
		},
		{
			name:     "unexpected managed policy",
			observed: Observed{Roles: withRole(func(r *RoleState) { r.AttachedPolicyARNs = append(r.AttachedPolicyARNs, adminARN) })},
			want:     []brief{{Kind: KindUnexpectedManagedPolicy, Role: def, Action: ActionDetachPolicy, Target: adminARN}},
		},
		{
			name:     "allowlisted extra policy is not a finding",
			desired:  func(d *Desired) { d.ExtraPolicyARNs = []string{readOnlyARN} },
			observed: Observed{Roles: withRole(func(r *RoleState) { r.AttachedPolicyARNs = append(r.AttachedPolicyARNs, readOnlyARN) })},
		},
		{
			name: "managed policy of another partition is unexpected",
			observed: Observed{Roles: withRole(func(r *RoleState) {
				r.AttachedPolicyARNs = []string{"arn:aws-cn:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"}
			})},
			want: []brief{
				{Kind: KindManagedPolicyMissing, Role: def, Action: ActionAttachPolicy, Target: managedARN},
				{Kind: KindUnexpectedManagedPolicy, Role: def, Action: ActionDetachPolicy, Target: "arn:aws-cn:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"},
			},
		},
		{
			name:     "inline policy is unexpected",
			observed: Observed{Roles: withRole(func(r *RoleState) { r.InlinePolicyNames = []string{"b", "a"} })},
			want: []brief{
				{Kind: KindUnexpectedInlinePolicy, Role: def, Action: ActionDeleteInlinePolicy, Target: "a"},
				{Kind: KindUnexpectedInlinePolicy, Role: def, Action: ActionDeleteInlinePolicy, Target: "b"},
			},
		},
		{
			name:     "unexpected boundary is deleted",
			observed: Observed{Roles: withRole(func(r *RoleState) { r.PermissionsBoundaryARN = boundaryARN })},
			want:     []brief{{Kind: KindPermissionsBoundaryDrift, Role: def, Action: ActionDeleteBoundary, Target: boundaryARN}},
		},
		{
			name:     "configured boundary missing is put",
			desired:  func(d *Desired) { d.PermissionsBoundaryARN = boundaryARN },
			observed: Observed{Roles: roles(goodRole())},
			want:     []brief{{Kind: KindPermissionsBoundaryDrift, Role: def, Action: ActionPutPermissionsBoundary, Target: boundaryARN}},
		},
		{
			name:     "role at root with the default path: reported and every write blocked, nothing points at a role that cannot exist",
			observed: Observed{Roles: roles(otherRole(def, "/")), Settings: settings(def, "eu-west-1", "us-east-1")},
			want: []brief{
				{Kind: KindRolePathMismatch, Role: def, Action: ActionNone, Blocked: true},
				{Kind: KindSettingWrongRole, Region: "eu-west-1", Role: def, Action: ActionUpdateSetting, Blocked: true},
				{Kind: KindSettingWrongRole, Region: "us-east-1", Role: def, Action: ActionUpdateSetting, Blocked: true},
			},
		},
		{
			name:     "role at another path blocks a disabled setting's repair too",
			observed: Observed{Roles: roles(otherRole(def, "/")), Settings: settings("$None", "eu-west-1")},
			want: []brief{
				{Kind: KindRolePathMismatch, Role: def, Action: ActionNone, Blocked: true},
				{Kind: KindSettingDisabled, Region: "eu-west-1", Role: def, Action: ActionUpdateSetting, Blocked: true},
			},
		},
		{
			name: "Quick Setup's working per-Region roles are managed elsewhere, and no role of ours is created",
			observed: Observed{
				Roles:    roles(missing(def), otherRole(quickSetup+"eu-west-1", "/"), otherRole(quickSetup+"us-east-1", "/")),
				Settings: []SettingState{setting("eu-west-1", quickSetup+"eu-west-1"), setting("us-east-1", quickSetup+"us-east-1")},
			},
			want: []brief{
				{Kind: KindManagedElsewhere, Region: "eu-west-1", Role: def, Action: ActionNone},
				{Kind: KindManagedElsewhere, Region: "us-east-1", Role: def, Action: ActionNone},
			},
		},
		{
			name:    "TakeOver replaces another manager's setup",
			desired: func(d *Desired) { d.TakeOver = true },
			observed: Observed{
				Roles:    roles(missing(def), otherRole(quickSetup+"eu-west-1", "/")),
				Settings: settings(quickSetup+"eu-west-1", "eu-west-1"),
			},
			want: []brief{
				{Kind: KindRoleMissing, Role: def, Action: ActionCreateRole},
				{Kind: KindSettingWrongRole, Region: "eu-west-1", Role: def, Action: ActionUpdateSetting},
			},
		},
		{
			name: "a name like Quick Setup's lets no privilege through: escalated role is drift, the setting is repaired",
			observed: Observed{
				Roles: roles(goodRole(), func() RoleState {
					r := otherRole(quickSetup+"eu-west-1", "/")
					r.AttachedPolicyARNs = append(r.AttachedPolicyARNs, adminARN)
					return r
				}()),
				Settings: settings(quickSetup+"eu-west-1", "eu-west-1"),
			},
			want: []brief{
				{Kind: KindUnexpectedManagedPolicy, Role: quickSetup + "eu-west-1", Action: ActionNone, Target: adminARN, Blocked: true},
				{Kind: KindSettingWrongRole, Region: "eu-west-1", Role: def, Action: ActionUpdateSetting},
			},
		},
		{
			name:    "per-Region roles: each Region's role is checked and its setting names it",
			desired: func(d *Desired) { d.RoleName, d.RolePath = quickSetup+RegionPlaceholder, "/" },
			observed: Observed{
				Roles: roles(otherRole(quickSetup+"eu-west-1", "/"), func() RoleState {
					r := otherRole(quickSetup+"us-east-1", "/")
					r.InlinePolicyNames = []string{"extra"}
					return r
				}()),
				Settings: []SettingState{setting("eu-west-1", quickSetup+"eu-west-1"), setting("us-east-1", "$None")},
			},
			want: []brief{
				{Kind: KindUnexpectedInlinePolicy, Role: quickSetup + "us-east-1", Action: ActionDeleteInlinePolicy, Target: "extra"},
				{Kind: KindSettingDisabled, Region: "us-east-1", Role: quickSetup + "us-east-1", Action: ActionUpdateSetting},
			},
		},
		{
			name:     "the SSM service-managed role in the reserved path is managed elsewhere",
			observed: Observed{Roles: roles(missing(def), otherRole(def, "/aws-reserved/ssm.amazonaws.com/")), Settings: settings("aws-reserved/ssm.amazonaws.com/"+def, "eu-west-1")},
			want: []brief{
				{Kind: KindManagedElsewhere, Role: def, Action: ActionNone},
				{Kind: KindManagedElsewhere, Region: "eu-west-1", Role: def, Action: ActionNone},
			},
		},
		{
			name: "a stack's role at another path is managed elsewhere",
			observed: Observed{Roles: roles(func() RoleState {
				r := otherRole(def, "/")
				r.Tags = map[string]string{"aws:cloudformation:stack-name": "dhmc"}
				return r
			}()), Settings: settings(def, "eu-west-1")},
			want: []brief{
				{Kind: KindManagedElsewhere, Role: def, Action: ActionNone},
				{Kind: KindManagedElsewhere, Region: "eu-west-1", Role: def, Action: ActionNone},
			},
		},
		{
			name:     "unreachable Regions are reported",
			observed: Observed{Roles: roles(goodRole()), Unreachable: []RegionError{{Region: "ap-east-1", Error: "explicit deny"}}},
			want:     []brief{{Kind: KindRegionUnreachable, Region: "ap-east-1", Role: def, Action: ActionNone}},
		},
		{
			name:     "a watched policy's new version is reported",
			observed: Observed{Policies: []PolicyState{{ARN: boundaryARN, DefaultVersion: "v2", Document: `{"Statement":[]}`}}},
			want:     []brief{{Kind: KindAllowedPolicyChanged, Action: ActionNone, Target: boundaryARN}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := testDesired()
			if tt.desired != nil {
				tt.desired(&d)
			}
			got, err := Plan(d, tt.observed)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if b := briefs(got); !reflect.DeepEqual(b, tt.want) {
				t.Errorf("findings:\n got %+v\nwant %+v", b, tt.want)
			}
		})
	}
}

func TestPlanFindingCarriesValuesAndWho(t *testing.T) {
	got, err := Plan(testDesired(), Observed{Roles: roles(goodRole(), missing("Other")), Settings: []SettingState{setting("eu-west-1", "service-role/Other")}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{{
		Kind: KindSettingWrongRole, Region: "eu-west-1", Role: DefaultRoleName, Observed: "service-role/Other", Desired: wantSetting,
		Action: ActionUpdateSetting, LastModifiedUser: "System", LastModifiedDate: "2026-11-01T10:00:00Z",
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestPlanManagedElsewhereNamesTheManagerAndTheAdoptingConfig(t *testing.T) {
	got, err := Plan(testDesired(), Observed{
		Roles:    roles(missing(DefaultRoleName), otherRole(quickSetup+"eu-west-1", "/")),
		Settings: settings(quickSetup+"eu-west-1", "eu-west-1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("want one finding, got %+v", got)
	}
	if f := got[0]; f.Manager != "Quick Setup" || f.Adopt != "RoleName=AWS-QuickSetup-SSM-DefaultEC2MgmtRole-{region} RolePath=/" {
		t.Errorf("manager %q adopt %q", f.Manager, f.Adopt)
	}
}

func TestPlanTrustDriftShowsBothDocuments(t *testing.T) {
	r := goodRole()
	r.TrustPolicy = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": []\n}"
	got, err := Plan(testDesired(), Observed{Roles: roles(r)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Observed != `{"Version":"2012-10-17","Statement":[]}` || got[0].Desired != desiredTrust {
		t.Errorf("got %+v", got)
	}
}

func TestPlanFailsOnUnreadableTrustPolicy(t *testing.T) {
	for _, doc := range []string{"", "%7B%22Version", `{"Statement":[{"Effect":"Allow","Action":7}]}`, `{"Version":"2012-10-17"}`} {
		r := goodRole()
		r.TrustPolicy = doc
		if got, err := Plan(testDesired(), Observed{Roles: roles(r)}); err == nil {
			t.Errorf("Plan with trust policy %q: want an error, got findings %+v", doc, got)
		}
	}
}
