package fleet_test

import (
	"maps"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/fleet"
	"github.com/dhmc-guard/dhmc-guard/internal/fleetseed"
)

func sdkConfig(emu *awsemu.Server, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFLEET", "secret", ""),
		BaseEndpoint: aws.String(emu.URL()),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 2
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
			})
		},
	}
}

func newReader(t testing.TB, emu *awsemu.Server, regions []string, o fleet.Options) *fleet.Reader {
	t.Helper()
	r, err := fleet.New(fleet.Clients{
		EC2:     func(region string) fleet.InstancesAPI { return ec2.NewFromConfig(sdkConfig(emu, region)) },
		SSM:     func(region string) fleet.NodesAPI { return ssm.NewFromConfig(sdkConfig(emu, region)) },
		IAM:     iam.NewFromConfig(sdkConfig(emu, "us-east-1")),
		Regions: account.NewFromConfig(sdkConfig(emu, "us-east-1")),
	}, awsemu.DefaultAccount, "aws", regions, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkAgainstSeed compares a report with the generator's expectations,
// reason by reason and Region by Region.
func checkAgainstSeed(t testing.TB, r *fleet.Report, exp fleetseed.Expected) {
	t.Helper()
	if len(r.Regions) != len(exp.Regions) {
		t.Fatalf("%d Regions reported, want %d", len(r.Regions), len(exp.Regions))
	}
	for _, x := range r.Regions {
		want := exp.Regions[x.Region]
		if x.Error != "" {
			t.Errorf("%s: %s", x.Region, x.Error)
		}
		if x.Running != want.Running || x.ManagedNodes != want.ManagedNodes || x.Ready != want.Ready || x.NotReady != want.Running-want.Ready {
			t.Errorf("%s: running %d nodes %d ready %d not ready %d; want %d %d %d %d", x.Region, x.Running, x.ManagedNodes, x.Ready, x.NotReady,
				want.Running, want.ManagedNodes, want.Ready, want.Running-want.Ready)
		}
		got := map[string]int{}
		for why, s := range x.Reasons {
			got[string(why)] = s.Count
		}
		for why, n := range want.Reasons {
			if got[why] != n {
				t.Errorf("%s: %s = %d, want %d", x.Region, why, got[why], n)
			}
			delete(got, why)
		}
		for why, n := range got {
			t.Errorf("%s: %s = %d, want none", x.Region, why, n)
		}
		for _, h := range fleet.Hygiene {
			got := 0
			if s := x.Hygiene[h]; s != nil {
				got = s.Count
			}
			if got != want.Hygiene[string(h)] {
				t.Errorf("%s: hygiene %s = %d, want %d", x.Region, h, got, want.Hygiene[string(h)])
			}
		}
	}
	if r.Totals.Running != exp.Total.Running || r.Totals.Ready != exp.Total.Ready || r.Totals.ManagedNodes != exp.Total.ManagedNodes {
		t.Errorf("totals %+v, want %+v", r.Totals, exp.Total)
	}
	gotMig := map[string]int{}
	for _, c := range r.MigrationCandidates {
		gotMig[c.InstanceProfile] = c.Count
		if len(c.GrantedBy) == 0 || len(c.Roles) != 1 {
			t.Errorf("candidate %s: granted by %v, roles %v", c.Name, c.GrantedBy, c.Roles)
		}
	}
	for arn, n := range exp.Migration {
		if gotMig[arn] != n {
			t.Errorf("migration candidate %s: %d instances, want %d", arn, gotMig[arn], n)
		}
	}
	if len(gotMig) != len(exp.Migration) {
		t.Errorf("candidates %v, want %v", gotMig, exp.Migration)
	}
	if len(r.UnreadableProfiles) != 0 {
		t.Errorf("unreadable profiles %+v", r.UnreadableProfiles)
	}
}

func TestReportCountsEveryReasonAsSeeded(t *testing.T) {
	emu := awsemu.StartTest(t)
	regions := []string{"eu-central-1", "eu-west-1", "us-east-1"}
	spec := fleetseed.Mixed(7, 1200, regions)
	exp := fleetseed.Seed(emu, spec)
	if exp.Total.Hygiene[fleetseed.IMDSv1] == 0 {
		t.Fatal("the seed has no IMDSv1 instance: the test would prove nothing")
	}
	for _, why := range []string{fleetseed.OldAgent, fleetseed.NotRegistered, fleetseed.NotPinging, fleetseed.ProfileSSM, fleetseed.DHMCOff} {
		if exp.Total.Reasons[why] == 0 {
			t.Fatalf("the seed has no %s: the test would prove nothing", why)
		}
	}
	r, err := newReader(t, emu, regions, fleet.Options{Sample: 5}).Run(t.Context(), nil, fleet.Cause{Trigger: fleet.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstSeed(t, r, exp)

	// Sampled IDs are real ones with that reason, and the rest is counted.
	for _, x := range r.Regions {
		for why, s := range mergedSamples(x) {
			if len(s.InstanceIDs) > 5 || len(s.InstanceIDs)+s.More != s.Count {
				t.Errorf("%s %s sample %+v", x.Region, why, s)
			}
			for _, id := range s.InstanceIDs {
				if !slices.Contains(exp.ByReason[string(why)], id) {
					t.Errorf("%s listed under %s, which the seed did not give it", id, why)
				}
			}
		}
	}
	if got := r.Regions[0].DHMC; got.State != fleet.DHMCOff {
		t.Errorf("%s DHMC %+v, want off", r.Regions[0].Region, got)
	}
	if got := r.Regions[1].DHMC; got.State != fleet.DHMCOn || got.Role != fleetseed.SettingValue {
		t.Errorf("%s DHMC %+v, want on", r.Regions[1].Region, got)
	}
}

func TestIAMIsReadOncePerProfileRoleAndPolicy(t *testing.T) {
	emu := awsemu.StartTest(t)
	regions := awsemu.DefaultRegions
	exp := fleetseed.Seed(emu, fleetseed.Mixed(3, 3400, regions))
	emu.ResetCalls()
	r, err := newReader(t, emu, nil, fleet.Options{}).Run(t.Context(), nil, fleet.Cause{Trigger: fleet.TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstSeed(t, r, exp)
	// 7 profiles, 7 roles; managed policies: Core, CloudWatchAgentServer,
	// EC2RoleforSSM, the customer one, Administrator, S3ReadOnly = 6.
	want := map[string]int{
		"iam:GetInstanceProfile": 7, "iam:ListAttachedRolePolicies": 7, "iam:ListRolePolicies": 7,
		"iam:GetRolePolicy": 3, "iam:GetPolicy": 6, "iam:GetPolicyVersion": 6,
		"account:ListRegions": 1, "ssm:GetServiceSetting": 17, "ec2:DescribeInstances": 17,
	}
	for op, n := range want {
		if r.APICalls[op] != n {
			t.Errorf("%s: %d calls, want %d", op, r.APICalls[op], n)
		}
	}
	// The emulator saw what the report says it made.
	for op, n := range r.APICalls {
		if got := emu.CountCalls(func(c awsemu.Call) bool { return c.Service+":"+c.Operation == op }); got != n {
			t.Errorf("%s: emulator logged %d, report says %d", op, got, n)
		}
	}
	if w := emu.CountCalls(func(c awsemu.Call) bool { return c.Write }); w != 0 {
		t.Errorf("%d writes: the report must only read", w)
	}
}

func TestARegionThatFailsIsReportedAndTheOthersStillCount(t *testing.T) {
	emu := awsemu.StartTest(t)
	regions := []string{"eu-west-1", "us-east-1"}
	exp := fleetseed.Seed(emu, fleetseed.Mixed(5, 200, regions))
	emu.Inject(awsemu.Fault{Op: "ec2:DescribeInstances", Region: "us-east-1", Kind: awsemu.FaultAccessDenied})
	remove := emu.Inject(awsemu.Fault{Op: "iam:GetPolicyVersion", Kind: awsemu.FaultAccessDenied, Times: 1})
	defer remove()
	r, err := newReader(t, emu, regions, fleet.Options{}).Run(t.Context(), nil, fleet.Cause{Trigger: fleet.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Failed() || r.Regions[1].Error == "" || r.Regions[0].Error != "" {
		t.Fatalf("errors %q / %q", r.Regions[0].Error, r.Regions[1].Error)
	}
	if r.Regions[0].Running != exp.Regions["eu-west-1"].Running {
		t.Errorf("eu-west-1 running %d, want %d", r.Regions[0].Running, exp.Regions["eu-west-1"].Running)
	}
	// The one policy read that was denied makes its profiles unreadable,
	// not ready and not silently clean.
	if len(r.UnreadableProfiles) == 0 || r.Totals.Reasons[fleet.ReasonProfileUnreadable] == 0 {
		t.Errorf("unreadable profiles %+v, reasons %v", r.UnreadableProfiles, r.Totals.Reasons)
	}
	var names []string
	for _, c := range r.UnreadableProfiles {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	t.Logf("unreadable: %v", names)
}

// mergedSamples is a Region's reason and hygiene samples in one map (their
// codes do not overlap).
func mergedSamples(x fleet.RegionReport) map[fleet.Reason]*fleet.Sample {
	out := maps.Clone(x.Reasons)
	maps.Copy(out, x.Hygiene)
	return out
}
