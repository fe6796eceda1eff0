package benchcheck

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

// lab is an emulator holding a compliant account in every default Region,
// with latency on every call, and real SDK clients pointed at it.
type lab struct {
	srv     *awsemu.Server
	clients reconcile.Clients
}

func newLab(latency time.Duration) (*lab, error) {
	srv := awsemu.New()
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	d := desired(nil)
	srv.PutRole(awsemu.DefaultAccount, awsemu.Role{
		Name: d.RoleName, Path: d.RolePath, TrustPolicy: d.TrustPolicy(), AttachedPolicies: []string{d.ManagedPolicyARN()},
	})
	for _, r := range awsemu.DefaultRegions {
		srv.SetSetting(awsemu.DefaultAccount, r, d.SettingValue())
	}
	srv.Inject(awsemu.Fault{Op: "*", Kind: awsemu.FaultLatency, Latency: latency})

	creds := credentials.NewStaticCredentialsProvider("AKIABENCHCHECK", "secret", "")
	var mu sync.Mutex
	ssms := map[string]*ssm.Client{}
	return &lab{srv: srv, clients: reconcile.Clients{
		SSM: func(region string) reconcile.SettingsAPI {
			mu.Lock()
			defer mu.Unlock()
			if c, ok := ssms[region]; ok {
				return c
			}
			c := ssm.New(ssm.Options{Region: region, BaseEndpoint: aws.String(srv.URL()), Credentials: creds})
			ssms[region] = c
			return c
		},
		IAM:     iam.New(iam.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()), Credentials: creds}),
		Regions: account.New(account.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()), Credentials: creds}),
	}}, nil
}

func (l *lab) close() { _ = l.srv.Close() }

// desired is the default deployment's desired state over regions (nil: the
// deployed default, every enabled Region).
func desired(regions []string) dhmc.Desired {
	return dhmc.Desired{
		Partition: "aws", AccountID: awsemu.DefaultAccount,
		RoleName: dhmc.DefaultRoleName, RolePath: dhmc.DefaultRolePath,
		Regions: regions, Mode: dhmc.ModeEnforce,
	}
}

// sweeper is one configuration whose sweeps are timed.
type sweeper struct {
	name    string
	regions []string // configured; nil: discovered
	par     int
	r       *reconcile.Reconciler
	times   []time.Duration
}

// timeSweeps times n full sweeps of each sweeper, interleaved so that both
// sides of a ratio see the same noise, after one untimed warm-up sweep each
// (what a warm Lambda environment has already done). Every sweep must find
// the account compliant.
func (l *lab) timeSweeps(ctx context.Context, n int, ss ...*sweeper) error {
	for _, s := range ss {
		r, err := reconcile.New(desired(s.regions), l.clients, reconcile.Options{Parallelism: s.par})
		if err != nil {
			return err
		}
		s.r = r
		if _, err := s.sweep(ctx); err != nil {
			return err
		}
	}
	for range n {
		for _, s := range ss {
			d, err := s.sweep(ctx)
			if err != nil {
				return err
			}
			s.times = append(s.times, d)
		}
	}
	return nil
}

func (s *sweeper) sweep(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	rep, err := s.r.Run(ctx, reconcile.Scope{})
	d := time.Since(start)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%s sweep: %w", s.name, err)
	case rep.Failed() || len(rep.Results) != 0:
		return 0, fmt.Errorf("%s sweep is not a compliant sweep: %d findings, %d errors", s.name, len(rep.Results), len(rep.Errors))
	case s.regions != nil && len(rep.Regions) != len(s.regions),
		s.regions == nil && len(rep.Regions) != len(awsemu.DefaultRegions):
		return 0, fmt.Errorf("%s sweep read %d Regions", s.name, len(rep.Regions))
	}
	return d, nil
}

// median of a non-empty list of durations.
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ratioAttempt compares the median sweep of num with that of den.
func ratioAttempt(num, den *sweeper) (Attempt, error) {
	if len(num.times) == 0 || len(den.times) == 0 {
		return Attempt{}, errors.New("no sweeps timed")
	}
	n, d := median(num.times), median(den.times)
	if d <= 0 {
		return Attempt{}, errors.New("a sweep took no time")
	}
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	return Attempt{
		Value: float64(n) / float64(d),
		Figures: []Figure{
			{Name: den.name, Value: ms(d), Unit: "ms"},
			{Name: num.name, Value: ms(n), Unit: "ms"},
			{Name: "sweeps timed each", Value: float64(len(num.times))},
		},
	}, nil
}

func measureRatio(ctx context.Context, env Env, num, den *sweeper) (Attempt, error) {
	l, err := newLab(env.latency())
	if err != nil {
		return Attempt{}, err
	}
	defer l.close()
	if err := l.timeSweeps(ctx, env.sweeps(), den, num); err != nil {
		return Attempt{}, err
	}
	return ratioAttempt(num, den)
}

func oneRegion() *sweeper {
	return &sweeper{name: "1 configured Region", regions: []string{"eu-west-1"}, par: reconcile.DefaultParallelism}
}

func measureRegionsRatio(ctx context.Context, env Env) (Attempt, error) {
	all := &sweeper{name: "17 configured Regions", regions: awsemu.DefaultRegions, par: reconcile.DefaultParallelism}
	return measureRatio(ctx, env, all, oneRegion())
}

func measureParallelRatio(ctx context.Context, env Env) (Attempt, error) {
	par := &sweeper{name: "17 Regions at Parallelism 20", regions: awsemu.DefaultRegions, par: 20}
	seq := &sweeper{name: "17 Regions at Parallelism 1", regions: awsemu.DefaultRegions, par: 1}
	return measureRatio(ctx, Env{Latency: env.Latency, Sweeps: max(env.sweeps()/2, 1)}, par, seq)
}
