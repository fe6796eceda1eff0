package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// The IAM outcomes of the DHMC setups real accounts have (internal/sandbox
// Setups), held to moto's IAM and, side by side, to the project's emulator:
// the same roles created through the same API calls must give the same
// findings, the same writes and the same IAM state read back.
//
// moto deviations seen (moto 5.2.5) that the guard does not depend on, left
// alone: moto accepts tag keys in the reserved aws: prefix, which IAM
// refuses (and CloudFormation does not tag IAM roles at all:
// cloudformation-coverage-roadmap #1159), and role names that differ from an
// existing one only in case (IAM: EntityAlreadyExists; the emulator refuses
// them as IAM does).

// adoptionBackends are the IAMs each case runs against. The emulator runs
// even without moto, so a case that cannot pass there fails in `go test`.
var adoptionBackends = []string{"moto", "emulator"}

// newEnvOn is iamEnv with IAM on backend: moto, or the emulator itself.
func newEnvOn(t *testing.T, backend string) *iamEnv {
	t.Helper()
	if backend == "moto" {
		return newIAMEnv(t)
	}
	emu := awsemu.StartTest(t)
	e := &iamEnv{
		t:   t,
		iam: iam.NewFromConfig(awsConfig("us-east-1"), func(o *iam.Options) { o.BaseEndpoint = aws.String(emu.URL()) }),
		emu: emu,
		desired: dhmc.Desired{
			Partition: "aws", AccountID: account, RoleName: dhmc.DefaultRoleName, RolePath: dhmc.DefaultRolePath,
			Regions: []string{testRegionOne, testRegionTwo}, Mode: dhmc.ModeEnforce,
		},
	}
	for _, r := range e.desired.Regions {
		emu.SetSetting(account, r, e.desired.SettingValue())
	}
	return e
}

const (
	managedPolicy = "arn:aws:iam::aws:policy/" + dhmc.ManagedPolicyName
	otherAccount  = "999999999999"
)

func quickSetupRole(region string) string { return "AWS-QuickSetup-SSM-DefaultEC2MgmtRole-" + region }

func ssmTrust(condition string) string {
	c := ""
	if condition != "" {
		c = `,"Condition":` + condition
	}
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"` + c + `}]}`
}

// createRole makes a role through the IAM API, as its owner would.
func (e *iamEnv) createRole(ctx context.Context, name, path, trust string, policies ...string) {
	e.t.Helper()
	if _, err := e.iam.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String(name), Path: aws.String(path), AssumeRolePolicyDocument: aws.String(trust),
	}); err != nil {
		e.t.Fatalf("creating role %s%s: %v", path, name, err)
	}
	for _, p := range policies {
		if _, err := e.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(p)}); err != nil {
			e.t.Fatalf("attaching %s to %s: %v", p, name, err)
		}
	}
}

// tagRole tags a role: through TagRole on moto; by seeding on the
// emulator, which has no TagRole (the guard never tags). The role is in the
// emulator's state only when the emulator is the IAM.
func (e *iamEnv) tagRole(ctx context.Context, name, key, value string) {
	e.t.Helper()
	if r, onEmulator := e.emu.Role(account, name); onEmulator {
		r.Tags = map[string]string{key: value}
		e.emu.PutRole(account, r)
		return
	}
	if _, err := e.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(name), Tags: []iamtypes.Tag{{Key: aws.String(key), Value: aws.String(value)}}}); err != nil {
		e.t.Fatalf("tagging role %s: %v", name, err)
	}
}

func (e *iamEnv) setSettings(value func(region string) string) {
	for _, r := range e.desired.Regions {
		e.emu.SetSetting(account, r, value(r))
	}
}

// getRole reads a role back from the backend; false when IAM has none.
func (e *iamEnv) getRole(ctx context.Context, name string) (*iamtypes.Role, bool) {
	e.t.Helper()
	out, err := e.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	var nse *iamtypes.NoSuchEntityException
	if errors.As(err, &nse) {
		return nil, false
	}
	if err != nil {
		e.t.Fatalf("GetRole %s: %v", name, err)
	}
	return out.Role, true
}

func (e *iamEnv) trustOf(ctx context.Context, name string) string {
	e.t.Helper()
	r, ok := e.getRole(ctx, name)
	if !ok {
		e.t.Fatalf("role %s is gone", name)
	}
	return decoded(e.t, aws.ToString(r.AssumeRolePolicyDocument))
}

// decoded undoes IAM's URL encoding of a policy document, as the guard does.
func decoded(t *testing.T, doc string) string {
	t.Helper()
	if strings.HasPrefix(strings.TrimSpace(doc), "{") {
		return doc
	}
	s, err := url.QueryUnescape(doc)
	if err != nil {
		t.Fatalf("decoding %q: %v", doc, err)
	}
	return s
}

func (e *iamEnv) attached(ctx context.Context, name string) []string {
	e.t.Helper()
	out, err := e.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	if err != nil {
		e.t.Fatalf("listing policies of %s: %v", name, err)
	}
	var arns []string
	for _, p := range out.AttachedPolicies {
		arns = append(arns, aws.ToString(p.PolicyArn))
	}
	slices.Sort(arns)
	return arns
}

func (e *iamEnv) samePolicy(got, want string) bool {
	e.t.Helper()
	same, err := dhmc.SamePolicy(got, want)
	if err != nil {
		e.t.Fatalf("comparing %s with %s: %v", got, want, err)
	}
	return same
}

// resultsOf are a report's results as "place kind outcome", sorted.
func resultsOf(rep *dhmc.Report) []string {
	out := []string{}
	for _, x := range rep.Results {
		place := x.Region
		if place == "" {
			place = "role " + x.Role
		}
		out = append(out, fmt.Sprintf("%s %s %s", place, x.Kind, x.Outcome))
	}
	slices.Sort(out)
	return out
}

func sortedStrings(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

type adoptionCase struct {
	name string
	// configure changes the default configuration (nil: defaults).
	configure func(d *dhmc.Desired)
	seed      func(ctx context.Context, e *iamEnv)
	findings  []string
	// manager, when set, is who every managed-elsewhere finding must name.
	manager string
	// writes counts the run's writes, SSM's (on the emulator) included.
	writes int
	// check reads the IAM state back from the backend.
	check func(ctx context.Context, e *iamEnv)
}

var defaultRole = dhmc.DefaultRoleName

var adoptionCases = []adoptionCase{
	{
		name: "role at / with the default configuration: blocked, no IAM write",
		seed: func(ctx context.Context, e *iamEnv) {
			e.createRole(ctx, defaultRole, "/", ssmTrust(""), managedPolicy)
			e.setSettings(func(string) string { return defaultRole })
		},
		findings: sortedStrings("role "+defaultRole+" role-path-mismatch blocked",
			testRegionOne+" setting-wrong-role blocked", testRegionTwo+" setting-wrong-role blocked"),
		check: func(ctx context.Context, e *iamEnv) {
			r, _ := e.getRole(ctx, defaultRole)
			if p := aws.ToString(r.Path); p != "/" || !slices.Equal(e.attached(ctx, defaultRole), []string{managedPolicy}) {
				e.t.Errorf("role at %s with %v, want it left at / with the managed policy", p, e.attached(ctx, defaultRole))
			}
			for _, reg := range e.desired.Regions {
				if v := e.emu.Setting(account, reg).Value; v != defaultRole {
					e.t.Errorf("setting in %s = %q, want it left at %q", reg, v, defaultRole)
				}
			}
		},
	},
	{
		name:      "role at / adopted with RolePath=/: compliant",
		configure: func(d *dhmc.Desired) { d.RolePath = "/" },
		seed: func(ctx context.Context, e *iamEnv) {
			e.createRole(ctx, defaultRole, "/", ssmTrust(""), managedPolicy)
			e.setSettings(func(string) string { return defaultRole })
		},
		findings: []string{},
	},
	{
		name:      "RolePath=/ with the role missing: created and read back at exactly /",
		configure: func(d *dhmc.Desired) { d.RolePath = "/" },
		seed:      func(ctx context.Context, e *iamEnv) { e.setSettings(func(string) string { return defaultRole }) },
		findings: sortedStrings("role "+defaultRole+" role-missing done",
			testRegionOne+" setting-role-missing done", testRegionTwo+" setting-role-missing done"),
		writes: 4, // CreateRole, AttachRolePolicy, the two settings again once the role exists
		check: func(ctx context.Context, e *iamEnv) {
			r, ok := e.getRole(ctx, defaultRole)
			if !ok || aws.ToString(r.Path) != "/" || aws.ToString(r.Arn) != "arn:aws:iam::"+account+":role/"+defaultRole {
				e.t.Errorf("created role %+v, want it at / (ARN role/%s)", r, defaultRole)
			}
		},
	},
	{
		name: "Quick Setup's roles with the default configuration: no role created, no write",
		seed: func(ctx context.Context, e *iamEnv) {
			for _, reg := range e.desired.Regions {
				e.createRole(ctx, quickSetupRole(reg), "/", ssmTrust(""), managedPolicy)
			}
			e.setSettings(quickSetupRole)
		},
		findings: sortedStrings(testRegionOne+" managed-elsewhere reported", testRegionTwo+" managed-elsewhere reported"),
		manager:  "Quick Setup",
		check: func(ctx context.Context, e *iamEnv) {
			if _, ok := e.getRole(ctx, defaultRole); ok {
				e.t.Errorf("role %s was created although Quick Setup manages DHMC", defaultRole)
			}
		},
	},
	{
		name: "Quick Setup's role with AdministratorAccess, default configuration: the guard's own role takes that Region",
		seed: func(ctx context.Context, e *iamEnv) {
			e.createRole(ctx, quickSetupRole(testRegionOne), "/", ssmTrust(""), managedPolicy, adminPolicy)
			e.createRole(ctx, quickSetupRole(testRegionTwo), "/", ssmTrust(""), managedPolicy)
			e.setSettings(quickSetupRole)
		},
		findings: sortedStrings("role "+defaultRole+" role-missing done",
			"role "+quickSetupRole(testRegionOne)+" unexpected-managed-policy blocked",
			testRegionOne+" setting-wrong-role done", testRegionTwo+" managed-elsewhere reported"),
		writes: 3, // CreateRole, AttachRolePolicy, one setting
		check: func(ctx context.Context, e *iamEnv) {
			r, ok := e.getRole(ctx, defaultRole)
			if !ok || aws.ToString(r.Path) != dhmc.DefaultRolePath || aws.ToString(r.Arn) != e.desired.RoleARN() {
				e.t.Errorf("guard's role %+v, want it read back at %s", r, e.desired.RoleARN())
			}
			if got := e.attached(ctx, quickSetupRole(testRegionOne)); !slices.Equal(got, sortedStrings(adminPolicy, managedPolicy)) {
				e.t.Errorf("Quick Setup's role now has %v: the guard changed a role that is not its own", got)
			}
			if v := e.emu.Setting(account, testRegionOne).Value; v != e.desired.SettingValue() {
				e.t.Errorf("setting in %s = %q, want the guard's role", testRegionOne, v)
			}
		},
	},
	{
		name: "Quick Setup adopted, AdministratorAccess on one Region's role: detached there only",
		configure: func(d *dhmc.Desired) {
			d.RoleName, d.RolePath = quickSetupRole(dhmc.RegionPlaceholder), "/"
		},
		seed: func(ctx context.Context, e *iamEnv) {
			e.createRole(ctx, quickSetupRole(testRegionOne), "/", ssmTrust(""), managedPolicy, adminPolicy)
			e.createRole(ctx, quickSetupRole(testRegionTwo), "/", ssmTrust(""), managedPolicy)
			e.setSettings(quickSetupRole)
		},
		findings: []string{"role " + quickSetupRole(testRegionOne) + " unexpected-managed-policy done"},
		writes:   1,
		check: func(ctx context.Context, e *iamEnv) {
			for _, reg := range e.desired.Regions {
				if got := e.attached(ctx, quickSetupRole(reg)); !slices.Equal(got, []string{managedPolicy}) {
					e.t.Errorf("%s has %v, want only the managed policy", quickSetupRole(reg), got)
				}
			}
		},
	},
	{
		name: "SSM's SERVICE_MANAGED role in the reserved path: left alone",
		seed: func(ctx context.Context, e *iamEnv) {
			e.createRole(ctx, defaultRole, awsemu.ServiceManagedRolePath, ssmTrust(""), managedPolicy)
			e.setSettings(func(string) string { return strings.TrimPrefix(awsemu.ServiceManagedRolePath, "/") + defaultRole })
		},
		findings: sortedStrings("role "+defaultRole+" managed-elsewhere reported",
			testRegionOne+" managed-elsewhere reported", testRegionTwo+" managed-elsewhere reported"),
		manager: "SSM service-managed registration (RegisterDefaultHostManagementConfiguration, SERVICE_MANAGED)",
	},
	{
		name: "a role tagged with its CloudFormation stack: recognised from GetRole's Tags",
		seed: func(ctx context.Context, e *iamEnv) {
			e.createRole(ctx, "DhmcBaselineRole", "/", ssmTrust(""), managedPolicy)
			e.tagRole(ctx, "DhmcBaselineRole", "aws:cloudformation:stack-name", "dhmc-baseline")
			e.setSettings(func(string) string { return "DhmcBaselineRole" })
		},
		findings: sortedStrings(testRegionOne+" managed-elsewhere reported", testRegionTwo+" managed-elsewhere reported"),
		manager:  "CloudFormation stack dhmc-baseline",
	},
	{
		name: "trust limited to this account by aws:SourceAccount: compliant, not rewritten",
		seed: func(ctx context.Context, e *iamEnv) {
			e.createRole(ctx, defaultRole, dhmc.DefaultRolePath, ssmTrust(`{"StringEquals":{"aws:SourceAccount":"`+account+`"}}`), managedPolicy)
		},
		findings: []string{},
		check: func(ctx context.Context, e *iamEnv) {
			if got, want := e.trustOf(ctx, defaultRole), ssmTrust(`{"StringEquals":{"aws:SourceAccount":"`+account+`"}}`); !e.samePolicy(got, want) {
				e.t.Errorf("trust policy %s, want it kept as %s", got, want)
			}
		},
	},
	{
		name: "trust naming another account: that condition removed, this account's SourceArn kept",
		seed: func(ctx context.Context, e *iamEnv) {
			e.createRole(ctx, defaultRole, dhmc.DefaultRolePath,
				ssmTrust(`{"StringEquals":{"aws:SourceAccount":"`+otherAccount+`"},"ArnLike":{"aws:SourceArn":"arn:aws:ssm:*:`+account+`:*"}}`), managedPolicy)
		},
		findings: []string{"role " + defaultRole + " trust-policy-drift done"},
		writes:   1,
		check: func(ctx context.Context, e *iamEnv) {
			got := e.trustOf(ctx, defaultRole)
			if want := ssmTrust(`{"ArnLike":{"aws:SourceArn":"arn:aws:ssm:*:` + account + `:*"}}`); !e.samePolicy(got, want) || strings.Contains(got, otherAccount) {
				e.t.Errorf("trust policy read back %s, want %s", got, want)
			}
		},
	},
}

func TestAdoptionSetupsIAMOutcomes(t *testing.T) {
	for _, backend := range adoptionBackends {
		t.Run(backend, func(t *testing.T) {
			for _, tc := range adoptionCases {
				t.Run(tc.name, func(t *testing.T) {
					ctx := t.Context()
					e := newEnvOn(t, backend)
					if tc.configure != nil {
						tc.configure(&e.desired)
					}
					tc.seed(ctx, e)

					rep := e.run(ctx)
					if got := resultsOf(rep); !slices.Equal(got, tc.findings) {
						t.Errorf("findings\n got %q\nwant %q", got, tc.findings)
					}
					for _, x := range rep.Results {
						if x.Kind == dhmc.KindManagedElsewhere && tc.manager != "" && x.Manager != tc.manager {
							t.Errorf("%s %s: managed by %q, want %q", x.Region, x.Kind, x.Manager, tc.manager)
						}
					}
					if rep.Writes != tc.writes || len(rep.Errors) != 0 {
						t.Errorf("writes %d (%v), errors %v; want %d writes and no error", rep.Writes, rep.Calls, rep.Errors, tc.writes)
					}
					if tc.check != nil {
						tc.check(ctx, e)
					}
					if tc.writes > 0 {
						if again := e.run(ctx); again.Writes != 0 {
							t.Errorf("second run made %d writes (%q): the repair did not converge", again.Writes, resultsOf(again))
						}
					}
				})
			}
		})
	}
}
