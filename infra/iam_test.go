package infra_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/infra"
)

func statements(t *testing.T, doc any) []map[string]any {
	t.Helper()
	var out []map[string]any
	switch s := get(t, doc, "Statement").(type) {
	case map[string]any:
		out = append(out, s)
	case []any:
		for _, e := range s {
			m, ok := e.(map[string]any)
			if !ok {
				t.Fatalf("statement %v is not a mapping", e)
			}
			out = append(out, m)
		}
	default:
		t.Fatalf("Statement is %T", s)
	}
	return out
}

// principal renders a statement's principal as "aws:<arn>", "service:<name>" or "*".
func principal(st map[string]any) string {
	switch p := st["Principal"].(type) {
	case string:
		return p
	case map[string]any:
		for k, v := range p {
			return strings.ToLower(k) + ":" + strings.Join(strs(v), ",")
		}
	}
	return ""
}

func sourceAccountCondition(st map[string]any) string {
	c, _ := st["Condition"].(map[string]any)
	eq, _ := c["StringEquals"].(map[string]any)
	return str(eq["aws:SourceAccount"])
}

// readOnlyOnStar are the only actions allowed on Resource "*": reads that
// take no resource ARN.
var readOnlyOnStar = []string{"account:ListRegions", "cloudformation:DescribeStackResources", "ssm:ListAssociations",
	// fleet readiness report (infra/fleet_test.go): list reads IAM scopes only to "*"
	"ec2:DescribeInstances", "ssm:DescribeInstanceInformation"}

type roleCase struct {
	file, region string
	params       map[string]string
}

var roleCases = []roleCase{
	{mainTemplate, "", nil},
	{mainTemplate, "", map[string]string{
		"RolePath": "/", "RoleName": "Dhmc",
		"ExtraPolicyArns":        "arn:aws:iam::123456789012:policy/extra",
		"PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/boundary",
	}},
	{forwarderTemplate, "us-east-1", map[string]string{"HomeRegion": "eu-west-1"}},
	{forwarderTemplate, "eu-central-1", map[string]string{"HomeRegion": "eu-west-1"}},
}

func TestNoRoleMayWriteOnEveryResource(t *testing.T) {
	for _, rc := range roleCases {
		t.Run(fmt.Sprintf("%s %s %v", rc.file, rc.region, rc.params), func(t *testing.T) {
			r := render(t, rc.file, envWith(rc.region, rc.params))
			roles := 0
			for name, res := range r.Resources {
				if res.Type != "AWS::IAM::Role" {
					continue
				}
				roles++
				policies, _ := res.Properties["Policies"].([]any)
				for _, pol := range policies {
					for _, st := range statements(t, get(t, pol, "PolicyDocument")) {
						if str(st["Effect"]) != "Allow" {
							continue
						}
						if st["NotAction"] != nil || st["NotResource"] != nil {
							t.Errorf("%s %v: NotAction/NotResource grants too much", name, st["Sid"])
						}
						for _, a := range strs(st["Action"]) {
							if strings.Contains(a, "*") {
								t.Errorf("%s %v: wildcard action %s", name, st["Sid"], a)
							}
							if slices.Contains(strs(st["Resource"]), "*") && !slices.Contains(readOnlyOnStar, a) {
								t.Errorf("%s %v: %s on Resource \"*\"", name, st["Sid"], a)
							}
						}
					}
				}
				if managed := res.Properties["ManagedPolicyArns"]; managed != nil {
					t.Errorf("%s: managed policies %v are not reviewed here; use inline statements", name, managed)
				}
			}
			if roles == 0 {
				t.Error("no IAM role found: the test checked nothing")
			}
		})
	}
}

// functionStatements returns the function role's Allow statements by Sid.
func functionStatements(t *testing.T, params map[string]string) map[string]map[string]any {
	t.Helper()
	r := render(t, mainTemplate, envWith("", params))
	role := resource(t, r, "GuardFunctionRole", "AWS::IAM::Role")
	trust := statements(t, get(t, role.Properties, "AssumeRolePolicyDocument"))
	if len(trust) != 1 || principal(trust[0]) != "service:lambda.amazonaws.com" {
		t.Errorf("function role trust = %v, want Lambda only", trust)
	}
	docs := []any{}
	for _, pol := range role.Properties["Policies"].([]any) {
		docs = append(docs, get(t, pol, "PolicyDocument"))
	}
	// Policies of their own on the role (the ledger's: see LedgerTable).
	for _, res := range r.Resources {
		if res.Type == "AWS::IAM::RolePolicy" && str(res.Properties["RoleName"]) == "ref:GuardFunctionRole" {
			docs = append(docs, res.Properties["PolicyDocument"])
		}
	}
	out := map[string]map[string]any{}
	for _, doc := range docs {
		for _, st := range statements(t, doc) {
			if str(st["Effect"]) != "Allow" {
				continue
			}
			sid := str(st["Sid"])
			if _, dup := out[sid]; dup || sid == "" || sid == "<nil>" {
				t.Fatalf("statement Sid %q missing or repeated", sid)
			}
			out[sid] = st
		}
	}
	return out
}

func TestFunctionRoleIsLeastPrivilege(t *testing.T) {
	const (
		settingARN = "arn:aws:ssm:*:" + account + settingSuffix
		dhmcRole   = "arn:aws:iam::" + account + ":role/service-role/" + dhmcRoleName
		anyPath    = "arn:aws:iam::" + account + ":role/*" + dhmcRoleName
		anyRole    = "arn:aws:iam::" + account + ":role/*"
	)
	type grant struct{ action, resource string }
	want := []grant{
		{"ssm:GetServiceSetting", settingARN},
		{"ssm:UpdateServiceSetting", settingARN},
		// reads reach the DHMC name at any path
		{"iam:GetRole", anyPath},
		{"iam:ListAttachedRolePolicies", anyPath},
		{"iam:ListRolePolicies", anyPath},
		{"iam:GetRolePolicy", anyPath},
		// and the role any setting names, to check it before leaving it
		{"iam:GetRole", anyRole},
		{"iam:ListAttachedRolePolicies", anyRole},
		{"iam:ListRolePolicies", anyRole},
		// writes only the configured role at its path
		{"iam:CreateRole", dhmcRole},
		{"iam:UpdateAssumeRolePolicy", dhmcRole},
		{"iam:AttachRolePolicy", dhmcRole},
		{"iam:DetachRolePolicy", dhmcRole},
		{"iam:DeleteRolePolicy", dhmcRole},
		{"iam:DeleteRolePermissionsBoundary", dhmcRole},
		{"iam:PassRole", dhmcRole},
		{"sns:Publish", "ref:AlertTopic"},
		{"kms:GenerateDataKey", "getatt:AlertKey.Arn"},
		{"kms:Decrypt", "getatt:AlertKey.Arn"},
		{"sqs:SendMessage", "getatt:FailureQueue.Arn"},
		{"logs:CreateLogStream", "getatt:GuardLogGroup.Arn"},
		{"logs:PutLogEvents", "getatt:GuardLogGroup.Arn"},
		{"account:ListRegions", "*"},
		{"cloudformation:DescribeStackResources", "*"},
		{"ssm:ListAssociations", "*"},
		// The run ledger (infra/ledger_test.go checks the statement).
		{"dynamodb:GetItem", "getatt:LedgerTable.Arn"},
		{"dynamodb:PutItem", "getatt:LedgerTable.Arn"},
		{"dynamodb:UpdateItem", "getatt:LedgerTable.Arn"},
		{"dynamodb:DeleteItem", "getatt:LedgerTable.Arn"},
		{"dynamodb:Query", "getatt:LedgerTable.Arn"},
		{"dynamodb:BatchGetItem", "getatt:LedgerTable.Arn"},
		{"dynamodb:BatchWriteItem", "getatt:LedgerTable.Arn"},
	}
	var got []grant
	sts := functionStatements(t, nil)
	for _, st := range sts {
		for _, a := range strs(st["Action"]) {
			for _, r := range strs(st["Resource"]) {
				got = append(got, grant{a, r})
			}
		}
	}
	key := func(g grant) string { return g.action + " on " + g.resource }
	gotKeys, wantKeys := make([]string, 0, len(got)), make([]string, 0, len(want))
	for _, g := range got {
		gotKeys = append(gotKeys, key(g))
	}
	for _, g := range want {
		wantKeys = append(wantKeys, key(g))
	}
	slices.Sort(gotKeys)
	slices.Sort(wantKeys)
	if !slices.Equal(gotKeys, wantKeys) {
		t.Errorf("function role grants\n  %s\nwant\n  %s", strings.Join(gotKeys, "\n  "), strings.Join(wantKeys, "\n  "))
	}

	pass := sts["PassDhmcRoleToSsmOnly"]
	if got := str(get(t, pass, "Condition", "StringEquals", "iam:PassedToService")); got != "ssm.amazonaws.com" {
		t.Errorf("iam:PassRole condition = %v, want iam:PassedToService ssm.amazonaws.com", pass["Condition"])
	}
	attach := sts["DhmcRoleAttachAllowedPoliciesOnly"]
	if got := strs(get(t, attach, "Condition", "ArnEquals", "iam:PolicyARN")); !slices.Equal(got, []string{"arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"}) {
		t.Errorf("iam:AttachRolePolicy may attach %v, want only the DHMC managed policy", got)
	}
	if _, ok := sts["DhmcRoleConfiguredBoundaryOnly"]; ok {
		t.Error("without a PermissionsBoundaryArn the function may still put a boundary")
	}
	if _, ok := sts["ReadWatchedPolicies"]; ok {
		t.Error("without allowlisted policies or a boundary the function may read policies")
	}
}

func TestFunctionRoleFollowsTheRoleParameters(t *testing.T) {
	sts := functionStatements(t, map[string]string{
		"RolePath":               "/",
		"RoleName":               "Dhmc",
		"ExtraPolicyArns":        "arn:aws:iam::123456789012:policy/extra",
		"PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/boundary",
	})
	const role = "arn:aws:iam::" + account + ":role/Dhmc"
	for _, sid := range []string{"DhmcRoleRepair", "DhmcRoleCreateWithBoundary", "DhmcRoleAttachAllowedPoliciesOnly", "PassDhmcRoleToSsmOnly", "DhmcRoleConfiguredBoundaryOnly"} {
		st, ok := sts[sid]
		if !ok {
			t.Errorf("no statement %s", sid)
			continue
		}
		if got := strs(st["Resource"]); !slices.Equal(got, []string{role}) {
			t.Errorf("%s on %v, want %s (a role at path / has no path segment)", sid, got, role)
		}
	}
	for _, sid := range []string{"DhmcRoleCreate", "DhmcRoleRemoveUnconfiguredBoundary"} {
		if _, ok := sts[sid]; ok {
			t.Errorf("with a boundary configured, statement %s must not exist", sid)
		}
	}
	create := sts["DhmcRoleCreateWithBoundary"]
	if got := str(get(t, create, "Condition", "StringEquals", "iam:PermissionsBoundary")); got != "arn:aws:iam::123456789012:policy/boundary" {
		t.Errorf("CreateRole condition = %s, want the configured boundary", got)
	}
	if got := strs(sts["ReadWatchedPolicies"]["Resource"]); !slices.Equal(got, []string{"arn:aws:iam::123456789012:policy/*"}) {
		t.Errorf("watched policies readable = %v", got)
	}
	got := strs(get(t, sts["DhmcRoleAttachAllowedPoliciesOnly"], "Condition", "ArnEquals", "iam:PolicyARN"))
	want := []string{"arn:aws:iam::123456789012:policy/extra", "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"}
	if !slices.Equal(got, want) {
		t.Errorf("attachable policies = %v, want %v", got, want)
	}
	boundary := sts["DhmcRoleConfiguredBoundaryOnly"]
	if got := str(get(t, boundary, "Condition", "StringEquals", "iam:PermissionsBoundary")); got != "arn:aws:iam::123456789012:policy/boundary" {
		t.Errorf("boundary condition = %s", got)
	}
	if !slices.Equal(strs(boundary["Action"]), []string{"iam:PutRolePermissionsBoundary"}) {
		t.Errorf("boundary statement actions = %v", boundary["Action"])
	}
}

func TestFunctionRoleWritesEachPerRegionRoleOnly(t *testing.T) {
	sts := functionStatements(t, map[string]string{"RoleName": "AWS-QuickSetup-SSM-DefaultEC2MgmtRole-{region}", "RolePath": "/"})
	if got := strs(sts["DhmcRoleRepair"]["Resource"]); !slices.Equal(got, []string{"arn:aws:iam::" + account + ":role/AWS-QuickSetup-SSM-DefaultEC2MgmtRole-*"}) {
		t.Errorf("repairs on %v", got)
	}
	if got := strs(sts["DhmcRoleRead"]["Resource"]); !slices.Equal(got, []string{"arn:aws:iam::" + account + ":role/*AWS-QuickSetup-SSM-DefaultEC2MgmtRole-*"}) {
		t.Errorf("reads on %v", got)
	}
}

func TestFunctionRoleCarriesTheTagAnSCPMayRequire(t *testing.T) {
	r := render(t, mainTemplate, envWith("", map[string]string{"FunctionRoleTagKey": "job-function", "FunctionRoleTagValue": "administrator"}))
	role := resource(t, r, "GuardFunctionRole", "AWS::IAM::Role")
	tags, _ := role.Properties["Tags"].([]any)
	if len(tags) != 1 || str(get(t, tags[0], "Key")) != "job-function" || str(get(t, tags[0], "Value")) != "administrator" {
		t.Errorf("tags = %v", role.Properties["Tags"])
	}
	plain := resource(t, render(t, mainTemplate, infra.DefaultEnv()), "GuardFunctionRole", "AWS::IAM::Role")
	if _, ok := plain.Properties["Tags"]; ok {
		t.Errorf("untagged by default, got %v", plain.Properties["Tags"])
	}
}

func TestHomeBusAcceptsTheForwarderRoles(t *testing.T) {
	home := render(t, mainTemplate, infra.DefaultEnv())
	pol := resource(t, home, "ForwardersMayPutEvents", "AWS::Events::EventBusPolicy").Properties
	st := get(t, pol, "Statement").(map[string]any)
	if principal(st) != "aws:arn:aws:iam::"+account+":root" || str(st["Action"]) != "events:PutEvents" {
		t.Errorf("bus policy statement = %v", st)
	}
	pattern := str(get(t, st, "Condition", "ArnLike", "aws:PrincipalArn"))

	fwd := render(t, forwarderTemplate, envWith("ap-southeast-2", map[string]string{"HomeRegion": "eu-west-1"}))
	role := resource(t, fwd, "ForwarderRole", "AWS::IAM::Role")
	roleARN := "arn:aws:iam::" + account + ":role/" + str(role.Properties["RoleName"])
	prefix, ok := strings.CutSuffix(pattern, "*")
	if !ok || !strings.HasPrefix(roleARN, prefix) {
		t.Errorf("forwarder role %s is not allowed by the home bus policy (%s)", roleARN, pattern)
	}

	off := render(t, mainTemplate, envWith("", map[string]string{"AllowForwarders": "false"}))
	if _, ok := off.Resources["ForwardersMayPutEvents"]; ok {
		t.Error("bus policy created with AllowForwarders=false")
	}
}
