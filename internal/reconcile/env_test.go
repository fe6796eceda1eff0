package reconcile_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

const acct = awsemu.DefaultAccount

// env is one emulator with real SDK clients pointed at it.
type env struct {
	t       testing.TB
	srv     *awsemu.Server
	desired dhmc.Desired
	clients reconcile.Clients
}

// fastRetryer is the SDK's standard retryer without its multi-second waits
// or its retry quota, so fault tests stay fast and deterministic.
func fastRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 4
		o.RateLimiter = ratelimit.None
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
	})
}

func newEnv(t testing.TB, regions ...string) *env {
	t.Helper()
	srv := awsemu.StartTest(t)
	creds := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "AKIDGUARD", SecretAccessKey: "secret", Source: "test"}, nil
	})
	var (
		mu   sync.Mutex
		ssms = map[string]*ssm.Client{}
	)
	e := &env{
		t:   t,
		srv: srv,
		desired: dhmc.Desired{
			Partition: "aws", AccountID: acct, RoleName: dhmc.DefaultRoleName, RolePath: dhmc.DefaultRolePath,
			Regions: regions, Mode: dhmc.ModeEnforce,
		},
		clients: reconcile.Clients{
			SSM: func(region string) reconcile.SettingsAPI {
				mu.Lock()
				defer mu.Unlock()
				if c, ok := ssms[region]; ok {
					return c
				}
				c := ssm.New(ssm.Options{Region: region, BaseEndpoint: aws.String(srv.URL()), Credentials: creds, Retryer: fastRetryer()})
				ssms[region] = c
				return c
			},
			IAM: iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()), Credentials: creds, Retryer: fastRetryer()}),
			Regions: account.New(account.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
				Credentials: creds, Retryer: fastRetryer()}),
			Stacks: func(region string) reconcile.StacksAPI {
				return cloudformation.New(cloudformation.Options{Region: region, BaseEndpoint: aws.String(srv.URL()), Credentials: creds, Retryer: fastRetryer()})
			},
		},
	}
	return e
}

// reconciler builds a Reconciler with test timings.
func (e *env) reconciler(o reconcile.Options) *reconcile.Reconciler {
	e.t.Helper()
	if o.VisibilityBaseDelay == 0 {
		o.VisibilityBaseDelay = time.Millisecond
	}
	r, err := reconcile.New(e.desired, e.clients, o)
	if err != nil {
		e.t.Fatalf("reconcile.New: %v", err)
	}
	return r
}

func (e *env) run(ctx context.Context, s reconcile.Scope) *dhmc.Report {
	e.t.Helper()
	rep, err := e.reconciler(reconcile.Options{}).Run(ctx, s)
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	return rep
}

// seedCompliant puts the desired role and the desired setting in regions.
func (e *env) seedCompliant(regions ...string) {
	e.srv.PutRole(acct, awsemu.Role{
		Name: e.desired.RoleName, Path: e.desired.RolePath, TrustPolicy: e.desired.TrustPolicy(),
		AttachedPolicies: []string{e.desired.ManagedPolicyARN()}, PermissionsBoundary: e.desired.PermissionsBoundaryARN,
	})
	for _, r := range regions {
		e.srv.SetSetting(acct, r, e.desired.SettingValue())
	}
}

func (e *env) editRole(f func(r *awsemu.Role)) {
	e.t.Helper()
	r, ok := e.srv.Role(acct, e.desired.RoleName)
	if !ok {
		e.t.Fatal("no role to edit")
	}
	f(&r)
	e.srv.PutRole(acct, r)
}

// assertDesired fails unless the emulator holds the desired role and, in
// every region, the desired setting.
func (e *env) assertDesired(regions ...string) {
	e.t.Helper()
	d := e.desired
	r, ok := e.srv.Role(acct, d.RoleName)
	if !ok {
		e.t.Fatalf("role %s does not exist", d.RoleName)
	}
	if r.Path != d.RolePath {
		e.t.Errorf("role path = %q, want %q", r.Path, d.RolePath)
	}
	if same, err := dhmc.SamePolicy(r.TrustPolicy, d.TrustPolicy()); err != nil || !same {
		e.t.Errorf("trust policy = %s (%v), want %s", r.TrustPolicy, err, d.TrustPolicy())
	}
	if got, want := sorted(r.AttachedPolicies), []string{d.ManagedPolicyARN()}; !slices.Equal(got, want) {
		e.t.Errorf("attached policies = %v, want %v", got, want)
	}
	if len(r.InlinePolicies) != 0 {
		e.t.Errorf("inline policies = %v, want none", r.InlinePolicies)
	}
	if r.PermissionsBoundary != d.PermissionsBoundaryARN {
		e.t.Errorf("permissions boundary = %q, want %q", r.PermissionsBoundary, d.PermissionsBoundaryARN)
	}
	for _, reg := range regions {
		if got := e.srv.Setting(acct, reg).Value; got != d.SettingValue() {
			e.t.Errorf("setting in %s = %q, want %q", reg, got, d.SettingValue())
		}
	}
}

func (e *env) writes() int {
	return e.srv.CountCalls(func(c awsemu.Call) bool { return c.Write })
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// kinds lists the report's findings as "kind region outcome".
func kinds(rep *dhmc.Report) []string {
	var out []string
	for _, r := range rep.Results {
		s := string(r.Kind)
		if r.Region != "" {
			s += " " + r.Region
		}
		out = append(out, s+" "+string(r.Outcome))
	}
	slices.Sort(out)
	return out
}
