// Package sandbox is a whole local deployment of dhmc-guard: the AWS
// emulator with a seeded account, and the built bootstrap running under the
// Lambda Runtime Interface Emulator pointed at it through AWS_ENDPOINT_URL,
// the way a user points the SDK at LocalStack. The end-to-end tests and
// `make demo` both stand on it; the function itself never imports it.
package sandbox

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/rie"
)

// The account the sandbox seeds. The function role's ARN is the one the
// sample events in events/ use for the function's own repairs.
const (
	Account         = awsemu.DefaultAccount
	HomeRegion      = "eu-west-1"
	FunctionRoleARN = "arn:aws:iam::" + Account + ":role/dhmc-guard-GuardFunctionRole-EXAMPLE"
	// functionSession is what IAM and SSM record as the caller of the
	// function's calls (LastModifiedUser), as for any assumed role.
	functionSession = "arn:aws:sts::" + Account + ":assumed-role/dhmc-guard-GuardFunctionRole-EXAMPLE/dhmc-guard"
	functionKey     = "ASIAGUARDFUNCTION000"
	// UserARN is the person who breaks things in the tests and the demo.
	UserARN = "arn:aws:iam::" + Account + ":user/alice"
	userKey = "AKIAALICE00000000000"
)

// Regions are the managed Regions: the demo's three.
var Regions = []string{"eu-central-1", "eu-west-1", "us-east-1"}

// Desired is the state the sandboxed function keeps (its defaults).
func Desired() dhmc.Desired {
	return dhmc.Desired{
		Partition: "aws", AccountID: Account,
		RoleName: dhmc.DefaultRoleName, RolePath: dhmc.DefaultRolePath,
		Regions: Regions, Mode: dhmc.ModeEnforce,
	}
}

// Seed puts a compliant account into emu: the role, the setting in every
// managed Region, and the alert topic, whose ARN it returns.
func Seed(emu *awsemu.Server) string {
	d := Desired()
	emu.SetCaller(functionKey, Account, functionSession)
	emu.SetCaller(userKey, Account, UserARN)
	emu.PutRole(Account, awsemu.Role{
		Name: d.RoleName, Path: d.RolePath,
		TrustPolicy:      d.TrustPolicy(),
		AttachedPolicies: []string{d.ManagedPolicyARN()},
	})
	for _, r := range Regions {
		emu.SetSetting(Account, r, d.SettingValue())
	}
	return emu.CreateTopic(Account, HomeRegion, "dhmc-guard-alerts")
}

// Sandbox is the running pair.
type Sandbox struct {
	Emu      *awsemu.Server
	Fn       *rie.Instance
	TopicARN string
}

// Options for Start.
type Options struct {
	RIE, Bootstrap string
	// Env adds to or overrides the function's environment (KEY=VALUE).
	Env []string
	// Log receives what RIE and the function print.
	Log io.Writer
	// State names the account's starting state (see States); empty is
	// StateCompliant.
	State string
}

// Start seeds emu, creates the stack (CreateStack), starts the function
// against it, and puts the account in the state o.State names. An Env entry
// such as "DHMC_LEDGER_TABLE=" runs the function without the ledger (or the
// failure queue).
func Start(ctx context.Context, emu *awsemu.Server, o Options) (*Sandbox, error) {
	state, err := LookupState(cmp.Or(o.State, StateCompliant))
	if err != nil {
		return nil, err
	}
	topic := Seed(emu)
	stack, err := CreateStack(ctx, emu)
	if err != nil {
		return nil, err
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.TempDir(),
		"AWS_ENDPOINT_URL=" + emu.URL(),
		"AWS_ACCESS_KEY_ID=" + functionKey,
		"AWS_SECRET_ACCESS_KEY=sandbox",
		"AWS_SESSION_TOKEN=sandbox",
		"AWS_REGION=" + HomeRegion,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_LAMBDA_FUNCTION_NAME=dhmc-guard",
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"AWS_LAMBDA_LOG_LEVEL=INFO",
		"DHMC_TOPIC_ARN=" + topic,
		"DHMC_FUNCTION_ROLE_ARN=" + FunctionRoleARN,
		"DHMC_REGIONS=" + strings.Join(Regions, ","),
	}
	env = mergeEnv(mergeEnv(append(env, stack.Env()...), state.Env), o.Env)
	fn, err := rie.Start(ctx, rie.Options{RIE: o.RIE, Bootstrap: o.Bootstrap, Env: env, Log: o.Log})
	if err != nil {
		return nil, err
	}
	sb := &Sandbox{Emu: emu, Fn: fn, TopicARN: topic}
	if state.Apply != nil {
		if err := state.Apply(ctx, sb); err != nil {
			sb.Close()
			return nil, fmt.Errorf("putting the account in state %s: %w", state.Name, err)
		}
	}
	return sb, nil
}

// Close stops the function (the emulator belongs to the caller).
func (s *Sandbox) Close() { s.Fn.Close() }

// InvokeFile invokes the function with a file from events/.
func (s *Sandbox) InvokeFile(ctx context.Context, path string) (rie.Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return rie.Result{}, err
	}
	return s.Fn.Invoke(ctx, b)
}

// UserConfig is an SDK configuration for the human user, to break things
// through the real APIs so the emulator records them as alice's.
func (s *Sandbox) UserConfig(region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(userKey, "sandbox", ""),
		BaseEndpoint: aws.String(s.Emu.URL()),
	}
}

// UserIAM and UserSSM are the user's clients.
func (s *Sandbox) UserIAM() *iam.Client { return iam.NewFromConfig(s.UserConfig("us-east-1")) }
func (s *Sandbox) UserSSM(region string) *ssm.Client {
	return ssm.NewFromConfig(s.UserConfig(region))
}

// Drift is what the emulator's state differs from the desired state, as the
// product's own planner sees it; empty means compliant.
func Drift(emu *awsemu.Server) ([]dhmc.Finding, error) {
	d := Desired()
	rs := dhmc.RoleState{Name: d.RoleName}
	if r, ok := emu.Role(Account, d.RoleName); ok {
		names := make([]string, 0, len(r.InlinePolicies))
		for n := range r.InlinePolicies {
			names = append(names, n)
		}
		slices.Sort(names)
		rs = dhmc.RoleState{
			Name: r.Name, Exists: true, ARN: r.ARN, Path: r.Path, TrustPolicy: r.TrustPolicy,
			PermissionsBoundaryARN: r.PermissionsBoundary,
			AttachedPolicyARNs:     r.AttachedPolicies,
			InlinePolicyNames:      names,
			Tags:                   r.Tags,
		}
	}
	obs := dhmc.Observed{Roles: map[string]dhmc.RoleState{strings.ToLower(d.RoleName): rs}}
	for _, region := range Regions {
		st := emu.Setting(Account, region)
		obs.Settings = append(obs.Settings, dhmc.SettingState{Region: region, Value: st.Value, Status: st.Status})
	}
	return dhmc.Plan(d, obs)
}

// Writes counts the calls that changed the DHMC setting or role (SSM and
// IAM writes the emulator accepted) made by caller (empty: anyone). Alerts
// are counted apart, through Messages.
func Writes(emu *awsemu.Server, caller string) int {
	return emu.CountCalls(func(c awsemu.Call) bool {
		return c.Write && c.ErrorCode == "" && (c.Service == "ssm" || c.Service == "iam") &&
			(caller == "" || c.Caller == caller)
	})
}

// FunctionCaller is the caller ARN the emulator records for the function.
const FunctionCaller = functionSession

// EventsDir finds events/ from a directory inside the module.
func EventsDir(from string) (string, error) {
	dir, err := filepath.Abs(from)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "events"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", from)
		}
		dir = parent
	}
}

// ReportOf decodes a manual invocation's result (a bare report) or an event
// invocation's result (a response wrapping one).
func ReportOf(payload []byte) (status string, r *dhmc.Report, err error) {
	var resp struct {
		Status string       `json:"status"`
		Report *dhmc.Report `json:"report"`
	}
	if err := json.Unmarshal(payload, &resp); err != nil {
		return "", nil, fmt.Errorf("decoding invocation result %s: %w", payload, err)
	}
	if resp.Status != "" {
		return resp.Status, resp.Report, nil
	}
	var rep dhmc.Report
	if err := json.Unmarshal(payload, &rep); err != nil {
		return "", nil, err
	}
	return "report", &rep, nil
}

func mergeEnv(base, extra []string) []string {
	out := slices.Clone(base)
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		out = slices.DeleteFunc(out, func(e string) bool { return strings.HasPrefix(e, k+"=") })
		out = append(out, kv)
	}
	return out
}
