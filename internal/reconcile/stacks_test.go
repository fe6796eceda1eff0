package reconcile_test

import (
	"slices"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

// A stack's DHMC role carries no tag saying so; CloudFormation knows which
// stack created it, in the one Region the stack lives in.
func TestAStacksRoleIsRecognisedThroughCloudFormation(t *testing.T) {
	regions := []string{"eu-central-1", "eu-west-1", "us-east-1"}
	e := newEnv(t, regions...)
	e.srv.PutRole(acct, awsemu.Role{Name: "StackRole", Path: "/", TrustPolicy: e.desired.TrustPolicy(), AttachedPolicies: []string{e.desired.ManagedPolicyARN()}})
	e.srv.PutStackResource(acct, "us-east-1", awsemu.StackResource{StackName: "dhmc-baseline", LogicalID: "Role", Type: "AWS::IAM::Role", PhysicalID: "StackRole"})
	for _, r := range regions {
		e.srv.SetSetting(acct, r, "StackRole")
	}
	rep := e.run(t.Context(), reconcile.Scope{})
	want := []string{"managed-elsewhere eu-central-1 reported", "managed-elsewhere eu-west-1 reported", "managed-elsewhere us-east-1 reported"}
	if got := kinds(rep); !slices.Equal(got, want) || e.writes() != 0 {
		t.Fatalf("findings %q, writes %d; want %q and none", got, e.writes(), want)
	}
	if m := rep.Results[0].Manager; m != "CloudFormation stack dhmc-baseline" {
		t.Errorf("manager %q", m)
	}
	// Asked Region by Region until one knew: eu-central-1, eu-west-1, us-east-1.
	if n := rep.Calls["cloudformation:DescribeStackResources"]; n != 3 {
		t.Errorf("%d DescribeStackResources calls, want 3", n)
	}
}

func TestARoleInNoStackIsSomeonesAndIsReplaced(t *testing.T) {
	e := newEnv(t, "eu-west-1")
	e.seedCompliant()
	e.srv.PutRole(acct, awsemu.Role{Name: "Handmade", Path: "/", TrustPolicy: e.desired.TrustPolicy(), AttachedPolicies: []string{e.desired.ManagedPolicyARN()}})
	e.srv.SetSetting(acct, "eu-west-1", "Handmade")
	rep := e.run(t.Context(), reconcile.Scope{})
	if got := kinds(rep); !slices.Equal(got, []string{"setting-wrong-role eu-west-1 done"}) {
		t.Errorf("findings %q", got)
	}
	if got := e.srv.Setting(acct, "eu-west-1").Value; got != e.desired.SettingValue() {
		t.Errorf("setting %q", got)
	}
}

func TestCompliantSweepAsksCloudFormationNothing(t *testing.T) {
	e := newEnv(t, "eu-west-1", "us-east-1")
	e.seedCompliant("eu-west-1", "us-east-1")
	rep := e.run(t.Context(), reconcile.Scope{})
	if n := e.srv.CountCalls(func(c awsemu.Call) bool { return c.Service == "cloudformation" }); n != 0 || len(rep.Results) != 0 {
		t.Errorf("%d CloudFormation calls, findings %q", n, kinds(rep))
	}
}
