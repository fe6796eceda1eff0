package benchcheck

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/config"
	"github.com/dhmc-guard/dhmc-guard/internal/rie"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// The deployed-configuration checks run the release bootstrap under RIE,
// the handler as functions/guard/main.go composes it, against the emulator
// with the ledger table and the failure queue as infra/template.yaml
// creates them (sandbox.CreateStack), latency on every call. Their figures
// come from the wall time of invocations and from the emulator's timed call
// log: what the function called, when, and how many round trips lay one
// after another.

// deployment is one configuration of the function, running.
type deployment struct {
	name string
	sb   *sandbox.Sandbox
}

// withoutLedger turns the ledger and the failure queue off, as a
// deployment without them would run.
var withoutLedger = []string{config.EnvLedgerTable + "=", config.EnvFailureQueueURL + "="}

// deployedLab is an emulator with a compliant account in every default
// Region and one running function per configuration.
type deployedLab struct {
	root    string
	emu     *awsemu.Server
	latency time.Duration
	deps    []*deployment
	rieBin  string
	boot    string
}

func newDeployedLab(ctx context.Context, env Env) (*deployedLab, error) {
	if env.ModuleRoot == "" {
		return nil, fmt.Errorf("no module root to build the bootstrap in")
	}
	pkg := "./functions/guard"
	rieBin, boot, err := rie.BuildWith(ctx, env.ModuleRoot, rie.SharedDir(env.ModuleRoot, pkg, true), pkg,
		rie.BuildOptions{Progress: env.Progress, Release: true})
	if err != nil {
		return nil, err
	}
	emu := awsemu.New()
	if err := emu.Start("127.0.0.1:0"); err != nil {
		return nil, err
	}
	return &deployedLab{root: env.ModuleRoot, emu: emu, latency: env.latency(), rieBin: rieBin, boot: boot}, nil
}

// deploy starts the function with extra environment and makes the account
// compliant in every default Region.
func (l *deployedLab) deploy(ctx context.Context, name string, env ...string) (*deployment, error) {
	sb, err := sandbox.Start(ctx, l.emu, sandbox.Options{RIE: l.rieBin, Bootstrap: l.boot, Env: env})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d := sandbox.Desired()
	for _, r := range awsemu.DefaultRegions {
		l.emu.SetSetting(sandbox.Account, r, d.SettingValue())
	}
	dep := &deployment{name: name, sb: sb}
	l.deps = append(l.deps, dep)
	return dep, nil
}

func (l *deployedLab) close() {
	for _, d := range l.deps {
		d.sb.Close()
	}
	_ = l.emu.Close()
}

// slow puts the latency on every call until the returned func is called.
func (l *deployedLab) slow() (fast func()) {
	return l.emu.Inject(awsemu.Fault{Op: "*", Kind: awsemu.FaultLatency, Latency: l.latency})
}

// invocation is one timed invocation and the function's calls during it.
type invocation struct {
	start, end time.Time
	payload    []byte
	calls      []awsemu.TimedCall
}

func (iv invocation) took() time.Duration { return iv.end.Sub(iv.start) }

// invoke runs one invocation with latency on, from a clean call log.
func (l *deployedLab) invoke(ctx context.Context, d *deployment, payload []byte) (invocation, error) {
	l.emu.ResetCalls()
	fast := l.slow()
	defer fast()
	start := time.Now()
	res, err := d.sb.Fn.Invoke(ctx, payload)
	end := time.Now()
	if err != nil {
		return invocation{}, fmt.Errorf("%s: %w", d.name, err)
	}
	if err := res.Err(); err != nil {
		return invocation{}, fmt.Errorf("%s: %w", d.name, err)
	}
	return invocation{start: start, end: end, payload: res.Payload, calls: byCaller(l.emu.TimedCalls(), sandbox.FunctionCaller)}, nil
}

func (l *deployedLab) event(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join(l.root, "events", name))
}

// sweep invokes a scheduled sweep that must find the account compliant in
// want Regions.
func (l *deployedLab) sweep(ctx context.Context, d *deployment, want int) (invocation, error) {
	ev, err := l.event("schedule.json")
	if err != nil {
		return invocation{}, err
	}
	iv, err := l.invoke(ctx, d, ev)
	if err != nil {
		return iv, err
	}
	_, rep, err := sandbox.ReportOf(iv.payload)
	switch {
	case err != nil:
		return iv, err
	case rep == nil || rep.Failed() || len(rep.Results) != 0 || len(rep.Regions) != want:
		return iv, fmt.Errorf("%s: not a compliant sweep of %d Regions: %s", d.name, want, iv.payload)
	}
	return iv, nil
}

// deployedSweeps are the figures of one deployed-sweep measurement.
type deployedSweeps struct {
	deployed, one []time.Duration
	waves         []int // per deployed sweep
	calls         int   // of the last deployed sweep
}

// measureDeployedSweeps times n warm compliant sweeps of the deployed
// default (17 discovered Regions, ledger and failure queue on) and of one
// configured Region without the ledger, interleaved.
func measureDeployedSweeps(ctx context.Context, env Env) (deployedSweeps, error) {
	var out deployedSweeps
	l, err := newDeployedLab(ctx, env)
	if err != nil {
		return out, err
	}
	defer l.close()
	dep, err := l.deploy(ctx, "deployed default", config.EnvRegions+"=all")
	if err != nil {
		return out, err
	}
	one, err := l.deploy(ctx, "1 Region without the ledger", append([]string{config.EnvRegions + "=eu-west-1"}, withoutLedger...)...)
	if err != nil {
		return out, err
	}
	for i := range env.sweeps() + 1 { // the first of each warms up
		a, err := l.sweep(ctx, dep, len(awsemu.DefaultRegions))
		if err != nil {
			return out, err
		}
		b, err := l.sweep(ctx, one, 1)
		if err != nil {
			return out, err
		}
		if i == 0 {
			continue
		}
		out.deployed = append(out.deployed, a.took())
		out.one = append(out.one, b.took())
		out.waves = append(out.waves, waves(a.calls))
		out.calls = len(a.calls)
	}
	return out, nil
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func measureDeployedRatio(ctx context.Context, env Env) (Attempt, error) {
	s, err := measureDeployedSweeps(ctx, env)
	if err != nil {
		return Attempt{}, err
	}
	n, d := median(s.deployed), median(s.one)
	if d <= 0 {
		return Attempt{}, fmt.Errorf("a sweep took no time")
	}
	return Attempt{
		Value: float64(n) / float64(d),
		Figures: []Figure{
			{Name: "1 configured Region, no ledger", Value: msOf(d), Unit: "ms"},
			{Name: "deployed default (17 Regions, ledger, queue)", Value: msOf(n), Unit: "ms"},
			{Name: "round trips", Value: float64(maxOf(s.waves))},
			{Name: "calls", Value: float64(s.calls)},
			{Name: "sweeps timed each", Value: float64(len(s.deployed))},
		},
	}, nil
}

// measureDeployedWaves is the most round trips any compliant sweep of the
// deployed default took one after another.
func measureDeployedWaves(ctx context.Context, env Env) (Attempt, error) {
	s, err := measureDeployedSweeps(ctx, Env{ModuleRoot: env.ModuleRoot, Latency: env.Latency, Sweeps: max(env.sweeps()/2, 1), Progress: env.Progress})
	if err != nil {
		return Attempt{}, err
	}
	return Attempt{
		Value: float64(maxOf(s.waves)),
		Figures: []Figure{
			{Name: "calls", Value: float64(s.calls)},
			{Name: "sweeps", Value: float64(len(s.waves))},
		},
	}, nil
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// freshEvent is a CloudTrail sample as a new delivery of a new call: its own
// event ID and the time now (the ledger's windows run on real time).
func freshEvent(raw []byte, n int) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, err
	}
	now := time.Now().UTC().Format(time.RFC3339)
	detail, ok := ev["detail"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("event has no detail")
	}
	detail["eventID"] = fmt.Sprintf("be9c4c7e-%04x-4d2c-9a51-%012x", n%0xffff, time.Now().UnixNano()&0xffffffffffff)
	detail["eventTime"] = now
	ev["id"] = fmt.Sprintf("be9c0000-%04x-4abc-8def-%012x", n%0xffff, time.Now().UnixNano()&0xffffffffffff)
	ev["time"] = now
	return json.Marshal(ev)
}

// detach removes the managed policy from the DHMC role as the user does,
// without latency.
func (l *deployedLab) detach(ctx context.Context, dep *deployment) error {
	d := sandbox.Desired()
	_, err := dep.sb.UserIAM().DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{
		RoleName: aws.String(d.RoleName), PolicyArn: aws.String(d.ManagedPolicyARN()),
	})
	return err
}

// clearLedger empties the ledger table (dropped and created again, as a
// new stack has it), so that every alert sample is a first alert of its
// group, not a repeat the windows count for a digest.
func (l *deployedLab) clearLedger(ctx context.Context, dep *deployment) error {
	if _, err := dynamodb.NewFromConfig(dep.sb.UserConfig(sandbox.HomeRegion)).DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(sandbox.LedgerTable)}); err != nil {
		return fmt.Errorf("dropping the ledger table: %w", err)
	}
	_, err := sandbox.CreateStack(ctx, l.emu)
	return err
}
