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
	boundaryARN  = "arn:aws:iam::123456789012:policy/Boundary"
	wantSetting  = "service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"
	wantRoleARN  = "arn:aws:iam::123456789012:role/service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"
	goodTrust    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	looseTrust   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ssm.amazonaws.com","ec2.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`
	desiredTrust = goodTrust
)

func testDesired() Desired {
	return Desired{
		Partition: "aws", AccountID: testAccount,
		RoleName: DefaultRoleName, RolePath: DefaultRolePath, Mode: ModeEnforce,
	}
}

func goodRole() *RoleState {
	return &RoleState{
		Exists: true, ARN: wantRoleARN, Path: DefaultRolePath, TrustPolicy: goodTrust,
		AttachedPolicyARNs: []string{managedARN},
	}
}

func setting(region, value string) SettingState {
	return SettingState{Region: region, Value: value, Status: "Customized",
		LastModifiedUser: "arn:aws:iam::123456789012:user/alice", LastModifiedDate: "2026-11-01T10:00:00Z"}
}

func TestPlan(t *testing.T) {
	withRole := func(f func(r *RoleState)) *RoleState { r := goodRole(); f(r); return r }
	tests := []struct {
		name     string
		desired  func(d *Desired)
		observed Observed
		want     []Finding // only Kind, Region, Action, Target are compared
	}{
		{
			name:     "compliant role and setting give no findings",
			observed: Observed{Role: goodRole(), Settings: []SettingState{setting("eu-west-1", wantSetting)}},
		},
		{
			name:     "role out of scope gives setting findings only",
			observed: Observed{Settings: []SettingState{setting("eu-west-1", wantSetting)}},
		},
		{
			name:     "$None is disabled",
			observed: Observed{Settings: []SettingState{setting("eu-west-1", "$None")}},
			want:     []Finding{{Kind: KindSettingDisabled, Region: "eu-west-1", Action: ActionUpdateSetting}},
		},
		{
			name:     "empty value is disabled",
			observed: Observed{Settings: []SettingState{setting("eu-west-1", "")}},
			want:     []Finding{{Kind: KindSettingDisabled, Region: "eu-west-1", Action: ActionUpdateSetting}},
		},
		{
			name:     "another role is the wrong role",
			observed: Observed{Settings: []SettingState{setting("us-east-1", "service-role/AWS-QuickSetup-SSM-DefaultEC2MgmtRole-us-east-1")}},
			want:     []Finding{{Kind: KindSettingWrongRole, Region: "us-east-1", Action: ActionUpdateSetting}},
		},
		{
			name:     "same name at another path is the wrong role",
			observed: Observed{Settings: []SettingState{setting("us-east-1", DefaultRoleName)}},
			want:     []Finding{{Kind: KindSettingWrongRole, Region: "us-east-1", Action: ActionUpdateSetting}},
		},
		{
			name:     "role ARN equals path and name",
			observed: Observed{Settings: []SettingState{setting("eu-west-1", wantRoleARN)}},
		},
		{
			name:     "role ARN in another account is the wrong role",
			observed: Observed{Settings: []SettingState{setting("eu-west-1", strings.Replace(wantRoleARN, testAccount, "210987654321", 1))}},
			want:     []Finding{{Kind: KindSettingWrongRole, Region: "eu-west-1", Action: ActionUpdateSetting}},
		},
		{
			name:     "leading slash equals path and name",
			observed: Observed{Settings: []SettingState{setting("eu-west-1", "/"+wantSetting)}},
		},
		{
			name:     "role at root path is its bare name",
			desired:  func(d *Desired) { d.RolePath = "/" },
			observed: Observed{Settings: []SettingState{setting("eu-west-1", DefaultRoleName)}},
		},
		{
			name:     "pending update is reported, not repaired",
			observed: Observed{Settings: []SettingState{{Region: "eu-west-1", Value: "$None", Status: StatusPendingUpdate}}},
			want:     []Finding{{Kind: KindSettingPending, Region: "eu-west-1", Action: ActionNone}},
		},
		{
			name:     "missing role gives role-missing only",
			observed: Observed{Role: &RoleState{}},
			want:     []Finding{{Kind: KindRoleMissing, Action: ActionCreateRole}},
		},
		{
			name:     "setting naming the right but missing role is reported per Region",
			observed: Observed{Role: &RoleState{}, Settings: []SettingState{setting("eu-west-1", wantSetting), setting("us-east-1", "$None")}},
			want: []Finding{
				{Kind: KindRoleMissing, Action: ActionCreateRole},
				{Kind: KindSettingRoleMissing, Region: "eu-west-1", Action: ActionUpdateSetting},
				{Kind: KindSettingDisabled, Region: "us-east-1", Action: ActionUpdateSetting},
			},
		},
		{
			name:     "loosened trust policy is drift",
			observed: Observed{Role: withRole(func(r *RoleState) { r.TrustPolicy = looseTrust })},
			want:     []Finding{{Kind: KindTrustPolicyDrift, Action: ActionUpdateTrustPolicy}},
		},
		{
			name: "trust policy with the same meaning is not drift",
			observed: Observed{Role: withRole(func(r *RoleState) {
				r.TrustPolicy = `{"Statement":{"Sid":"x","Effect":"Allow","Action":["sts:AssumeRole"],"Principal":{"Service":["ssm.amazonaws.com"]}}}`
			})},
		},
		{
			name:     "managed policy missing",
			observed: Observed{Role: withRole(func(r *RoleState) { r.AttachedPolicyARNs = nil })},
			want:     []Finding{{Kind: KindManagedPolicyMissing, Action: ActionAttachPolicy, Target: managedARN}},
		},
		{
			name:     "unexpected managed policy",
			observed: Observed{Role: withRole(func(r *RoleState) { r.AttachedPolicyARNs = append(r.AttachedPolicyARNs, adminARN) })},
			want:     []Finding{{Kind: KindUnexpectedManagedPolicy, Action: ActionDetachPolicy, Target: adminARN}},
		},
		{
			name:     "allowlisted extra policy is not a finding",
			desired:  func(d *Desired) { d.ExtraPolicyARNs = []string{adminARN} },
			observed: Observed{Role: withRole(func(r *RoleState) { r.AttachedPolicyARNs = append(r.AttachedPolicyARNs, adminARN) })},
		},
		{
			name: "managed policy of another partition is unexpected",
			observed: Observed{Role: withRole(func(r *RoleState) {
				r.AttachedPolicyARNs = []string{"arn:aws-cn:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"}
			})},
			want: []Finding{
				{Kind: KindManagedPolicyMissing, Action: ActionAttachPolicy, Target: managedARN},
				{Kind: KindUnexpectedManagedPolicy, Action: ActionDetachPolicy, Target: "arn:aws-cn:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"},
			},
		},
		{
			name:     "inline policy is unexpected",
			observed: Observed{Role: withRole(func(r *RoleState) { r.InlinePolicyNames = []string{"b", "a"} })},
			want: []Finding{
				{Kind: KindUnexpectedInlinePolicy, Action: ActionDeleteInlinePolicy, Target: "a"},
				{Kind: KindUnexpectedInlinePolicy, Action: ActionDeleteInlinePolicy, Target: "b"},
			},
		},
		{
			name:     "unexpected boundary is deleted",
			observed: Observed{Role: withRole(func(r *RoleState) { r.PermissionsBoundaryARN = boundaryARN })},
			want:     []Finding{{Kind: KindPermissionsBoundaryDrift, Action: ActionDeleteBoundary, Target: boundaryARN}},
		},
		{
			name:     "configured boundary missing is put",
			desired:  func(d *Desired) { d.PermissionsBoundaryARN = boundaryARN },
			observed: Observed{Role: goodRole()},
			want:     []Finding{{Kind: KindPermissionsBoundaryDrift, Action: ActionPutPermissionsBoundary, Target: boundaryARN}},
		},
		{
			name:     "configured boundary different is put",
			desired:  func(d *Desired) { d.PermissionsBoundaryARN = boundaryARN },
			observed: Observed{Role: withRole(func(r *RoleState) { r.PermissionsBoundaryARN = boundaryARN + "2" })},
			want:     []Finding{{Kind: KindPermissionsBoundaryDrift, Action: ActionPutPermissionsBoundary, Target: boundaryARN}},
		},
		{
			name:     "role at another path is reported for a person",
			observed: Observed{Role: withRole(func(r *RoleState) { r.Path = "/" })},
			want:     []Finding{{Kind: KindRolePathMismatch, Action: ActionNone}},
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
			var brief []Finding
			for _, f := range got {
				brief = append(brief, Finding{Kind: f.Kind, Region: f.Region, Action: f.Action, Target: f.Target})
			}
			if !reflect.DeepEqual(brief, tt.want) {
				t.Errorf("findings:\n got %+v\nwant %+v", brief, tt.want)
			}
		})
	}
}

func TestPlanFindingCarriesValuesAndWho(t *testing.T) {
	got, err := Plan(testDesired(), Observed{Settings: []SettingState{setting("eu-west-1", "service-role/Other")}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{{
		Kind: KindSettingWrongRole, Region: "eu-west-1", Observed: "service-role/Other", Desired: wantSetting,
		Action: ActionUpdateSetting, LastModifiedUser: "arn:aws:iam::123456789012:user/alice", LastModifiedDate: "2026-11-01T10:00:00Z",
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestPlanTrustDriftShowsBothDocuments(t *testing.T) {
	r := goodRole()
	r.TrustPolicy = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": []\n}"
	got, err := Plan(testDesired(), Observed{Role: r})
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
		if got, err := Plan(testDesired(), Observed{Role: r}); err == nil {
			t.Errorf("Plan with trust policy %q: want an error, got findings %+v", doc, got)
		}
	}
}
