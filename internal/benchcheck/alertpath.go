package benchcheck

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/config"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// alertSample is one event → publish measurement.
type alertSample struct {
	toPublish time.Duration // from the invocation to the SNS Publish arriving
	total     time.Duration // the whole invocation
	before    int           // round trips answered before the publish started
	after     int           // round trips still running or started after it
}

// alertPath measures the alert path of dep: the managed policy is detached
// (as a user), the CloudTrail event of it invoked; the function must put
// the policy back and publish one alert. The ledger, if on, is emptied
// before each sample so that each alert is its group's first.
func (l *deployedLab) alertPath(ctx context.Context, dep *deployment, ledger bool, n int) (alertSample, error) {
	if err := l.detach(ctx, dep); err != nil {
		return alertSample{}, err
	}
	if ledger {
		if err := l.clearLedger(ctx, dep); err != nil {
			return alertSample{}, err
		}
	}
	raw, err := l.event("iam-detach-role-policy.json")
	if err != nil {
		return alertSample{}, err
	}
	ev, err := freshEvent(raw, n)
	if err != nil {
		return alertSample{}, err
	}
	iv, err := l.invoke(ctx, dep, ev)
	if err != nil {
		return alertSample{}, err
	}
	var pub *awsemu.TimedCall
	for i, c := range iv.calls {
		if c.Service == "sns" && c.Operation == "Publish" {
			if pub != nil {
				return alertSample{}, fmt.Errorf("%s: more than one publish for one event", dep.name)
			}
			pub = &iv.calls[i]
		}
	}
	if pub == nil || pub.ErrorCode != "" {
		return alertSample{}, fmt.Errorf("%s: no alert published for a detached policy: %s", dep.name, iv.payload)
	}
	d := sandbox.Desired()
	out, err := dep.sb.UserIAM().ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(d.RoleName)})
	if err != nil {
		return alertSample{}, err
	}
	attached := false
	for _, p := range out.AttachedPolicies {
		attached = attached || aws.ToString(p.PolicyArn) == d.ManagedPolicyARN()
	}
	if !attached {
		return alertSample{}, fmt.Errorf("%s: the managed policy was not put back", dep.name)
	}
	pre := before(iv.calls, pub.Start)
	return alertSample{
		toPublish: pub.Start.Sub(iv.start),
		total:     iv.took(),
		before:    waves(pre),
		after:     waves(iv.calls) - waves(pre) - 1,
	}, nil
}

// alertPaths are the figures of one alert-path measurement.
type alertPaths struct {
	on, off []alertSample
}

// measureAlertPaths measures n alert paths of the deployed default with the
// ledger and failure queue on and of the same without them, interleaved,
// after a warm-up sweep of each.
func measureAlertPaths(ctx context.Context, env Env) (alertPaths, error) {
	var out alertPaths
	l, err := newDeployedLab(ctx, env)
	if err != nil {
		return out, err
	}
	defer l.close()
	on, err := l.deploy(ctx, "ledger on", config.EnvRegions+"=all")
	if err != nil {
		return out, err
	}
	off, err := l.deploy(ctx, "ledger off", append([]string{config.EnvRegions + "=all"}, withoutLedger...)...)
	if err != nil {
		return out, err
	}
	for _, d := range []*deployment{on, off} {
		if _, err := l.sweep(ctx, d, len(awsemu.DefaultRegions)); err != nil {
			return out, err
		}
	}
	for i := range env.sweeps() + 1 { // the first of each warms the path up
		a, err := l.alertPath(ctx, on, true, 2*i)
		if err != nil {
			return out, err
		}
		b, err := l.alertPath(ctx, off, false, 2*i+1)
		if err != nil {
			return out, err
		}
		if i == 0 {
			continue
		}
		out.on = append(out.on, a)
		out.off = append(out.off, b)
	}
	return out, nil
}

func medianOf(s []alertSample, f func(alertSample) time.Duration) time.Duration {
	ds := make([]time.Duration, len(s))
	for i, x := range s {
		ds[i] = f(x)
	}
	return median(ds)
}

func (p alertPaths) attempt(f func(alertSample) time.Duration, what string) (Attempt, error) {
	if len(p.on) == 0 || len(p.off) == 0 {
		return Attempt{}, fmt.Errorf("no alert path timed")
	}
	n, d := medianOf(p.on, f), medianOf(p.off, f)
	if d <= 0 {
		return Attempt{}, fmt.Errorf("an alert path took no time")
	}
	last := func(s []alertSample) alertSample { return s[len(s)-1] }
	return Attempt{
		Value: float64(n) / float64(d),
		Figures: []Figure{
			{Name: what + " without the ledger", Value: msOf(d), Unit: "ms"},
			{Name: what + " with the ledger", Value: msOf(n), Unit: "ms"},
			{Name: "round trips before the publish without", Value: float64(last(p.off).before)},
			{Name: "with", Value: float64(last(p.on).before)},
			{Name: "round trips after it without", Value: float64(last(p.off).after)},
			{Name: "with", Value: float64(last(p.on).after)},
			{Name: "samples each", Value: float64(len(p.on))},
		},
	}, nil
}

func measureAlertPublishRatio(ctx context.Context, env Env) (Attempt, error) {
	p, err := measureAlertPaths(ctx, env)
	if err != nil {
		return Attempt{}, err
	}
	return p.attempt(func(s alertSample) time.Duration { return s.toPublish }, "event → publish")
}

func measureAlertTotalRatio(ctx context.Context, env Env) (Attempt, error) {
	p, err := measureAlertPaths(ctx, env)
	if err != nil {
		return Attempt{}, err
	}
	return p.attempt(func(s alertSample) time.Duration { return s.total }, "invocation")
}

// measureAlertRoundTrips is the most round trips any alert path with the
// ledger took before its publish.
func measureAlertRoundTrips(ctx context.Context, env Env) (Attempt, error) {
	p, err := measureAlertPaths(ctx, Env{ModuleRoot: env.ModuleRoot, Latency: env.Latency, Sweeps: max(env.sweeps()/2, 1), Progress: env.Progress})
	if err != nil {
		return Attempt{}, err
	}
	most, after, off := 0, 0, 0
	for i, s := range p.on {
		most, after, off = max(most, s.before), max(after, s.after), max(off, p.off[i].before)
	}
	return Attempt{
		Value: float64(most),
		Figures: []Figure{
			{Name: "before the publish without the ledger", Value: float64(off)},
			{Name: "after it with the ledger", Value: float64(after)},
			{Name: "samples", Value: float64(len(p.on))},
		},
	}, nil
}
