package reconcile_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

// TestNoSettingIsEverPointedAtAMissingRole is the guard's first promise as a
// property: over random accounts, configurations and faults, at the moment
// of every UpdateServiceSetting the role it names exists at that path (the
// emulator records any write that names a missing one), and every write
// names the configured role of its Region.
func TestNoSettingIsEverPointedAtAMissingRole(t *testing.T) {
	const runs = 300
	regions := []string{"eu-central-1", "eu-west-1", "us-east-1", "us-west-2"}
	for seed := range uint64(runs) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			e := newEnv(t, regions...)
			if rng.IntN(2) == 0 {
				e.desired.RoleName, e.desired.RolePath = "AWS-QuickSetup-SSM-DefaultEC2MgmtRole-{region}", "/"
			}
			if rng.IntN(3) == 0 {
				e.desired.RolePath = "/"
			}
			e.desired.TakeOver = rng.IntN(2) == 0
			d := e.desired
			seedRandomAccount(e, rng, regions)
			injectRandomFaults(e, rng)

			rep := e.run(t.Context(), reconcile.Scope{})
			if bad := e.srv.DanglingSettingWrites(); len(bad) > 0 {
				t.Fatalf("setting pointed at a role that did not exist: %q\nconfig %+v\nreport %q", bad, d, kinds(rep))
			}
			for _, c := range e.srv.Calls() {
				if c.Operation == "UpdateServiceSetting" && c.ErrorCode == "" {
					got := e.srv.Setting(acct, c.Region).Value
					if got != d.SettingValueIn(c.Region) && !strings.Contains(got, "$None") {
						t.Errorf("%s now holds %q, want the configured %q", c.Region, got, d.SettingValueIn(c.Region))
					}
				}
			}
		})
	}
}

// seedRandomAccount puts a random mix of what real accounts hold into e.
func seedRandomAccount(e *env, rng *rand.Rand, regions []string) {
	trusts := []string{
		e.desired.TrustPolicy(),
		looseTrust,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"` + acct + `"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}]}`,
	}
	paths := []string{"/service-role/", "/", "/ops/"}
	names := map[string]bool{}
	for _, r := range regions {
		names[e.desired.RoleNameIn(r)] = true
	}
	names[dhmc.DefaultRoleName] = true
	names["Elsewhere"] = true
	for name := range names {
		if rng.IntN(3) == 0 {
			continue // no such role
		}
		role := awsemu.Role{Name: name, Path: paths[rng.IntN(len(paths))], TrustPolicy: trusts[rng.IntN(len(trusts))]}
		if rng.IntN(4) != 0 {
			role.AttachedPolicies = append(role.AttachedPolicies, e.desired.ManagedPolicyARN())
		}
		if rng.IntN(5) == 0 {
			role.AttachedPolicies = append(role.AttachedPolicies, adminARN)
		}
		if rng.IntN(5) == 0 {
			role.InlinePolicies = map[string]string{"extra": inlineAdmin}
		}
		if rng.IntN(6) == 0 {
			role.Tags = map[string]string{"aws:cloudformation:stack-name": "dhmc"}
		}
		e.srv.PutRole(acct, role)
	}
	for _, r := range regions {
		values := []string{
			"$None", e.desired.SettingValueIn(r), dhmc.DefaultRoleName, "service-role/" + dhmc.DefaultRoleName,
			"AWS-QuickSetup-SSM-DefaultEC2MgmtRole-" + r, "Elsewhere", "ops/Elsewhere", "Missing",
			"arn:aws:iam::210987654321:role/Other",
		}
		if v := values[rng.IntN(len(values))]; v != "$None" || rng.IntN(2) == 0 {
			e.srv.SetSetting(acct, r, v)
		}
		if rng.IntN(10) == 0 {
			e.srv.SetPendingUpdate(acct, r, true)
		}
	}
}

func injectRandomFaults(e *env, rng *rand.Rand) {
	faults := []awsemu.Fault{
		{Op: "iam:CreateRole", Kind: awsemu.FaultAccessDenied},
		{Op: "iam:GetRole", Kind: awsemu.FaultServerError, Times: 1 + rng.IntN(6)},
		{Op: "iam:ListAttachedRolePolicies", Kind: awsemu.FaultAccessDenied},
		{Op: "iam:AttachRolePolicy", Kind: awsemu.FaultAccessDenied},
		{Op: "ssm:UpdateServiceSetting", Kind: awsemu.FaultTooManyUpdates, Times: 1},
		{Op: "ssm:GetServiceSetting", Region: "eu-west-1", Kind: awsemu.FaultAccessDenied},
		{Op: "iam:ListRolePolicies", Kind: awsemu.FaultServerError},
		{Op: "iam:GetRolePolicy", Kind: awsemu.FaultAccessDenied},
		{Op: "iam:DetachRolePolicy", Kind: awsemu.FaultAccessDenied},
	}
	for _, f := range faults {
		if rng.IntN(5) == 0 {
			e.srv.Inject(f)
		}
	}
	if rng.IntN(4) == 0 {
		e.srv.SetRoleVisibilityLag(acct, 1+rng.IntN(3))
	}
}
