package fleetseed_test

import (
	"slices"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/fleetseed"
)

func TestSeedIsDeterministicAndExact(t *testing.T) {
	regions := []string{"eu-west-1", "us-east-1"}
	spec := fleetseed.Mixed(9, 200, regions)
	a, b := awsemu.New(), awsemu.New()
	ea, eb := fleetseed.Seed(a, spec), fleetseed.Seed(b, spec)
	for _, r := range regions {
		ia, ib := a.Instances(awsemu.DefaultAccount, r), b.Instances(awsemu.DefaultAccount, r)
		if len(ia) != len(ib) || len(ia) != 100+spec.StoppedPerRegion {
			t.Fatalf("%s: %d and %d instances", r, len(ia), len(ib))
		}
		for i := range ia {
			if ia[i].ID != ib[i].ID || ia[i].HTTPTokens != ib[i].HTTPTokens || ia[i].Name != ib[i].Name {
				t.Fatalf("%s: instance %d differs between two seeds of the same spec", r, i)
			}
		}
	}
	for why, share := range map[string]float64{fleetseed.OldAgent: 0.1, fleetseed.NotRegistered: 0.1, fleetseed.NotPinging: 0.1, fleetseed.ProfileSSM: 0.2} {
		if got, want := ea.Total.Reasons[why], int(share*200); got != want || len(ea.ByReason[why]) != want {
			t.Errorf("%s: %d, want %d", why, got, want)
		}
	}
	// IMDSv1 is hygiene: counted, never a reason, and those instances are
	// ready where DHMC is on.
	if got, want := ea.Total.Hygiene[fleetseed.IMDSv1], 20; got != want || ea.Total.Reasons[fleetseed.IMDSv1] != 0 {
		t.Errorf("imdsv1: hygiene %d (want %d), reasons %d", got, want, ea.Total.Reasons[fleetseed.IMDSv1])
	}
	us := ea.Regions["us-east-1"]
	if notReady := us.Reasons[fleetseed.OldAgent] + us.Reasons[fleetseed.NotRegistered] + us.Reasons[fleetseed.NotPinging] + us.Reasons[fleetseed.ProfileSSM]; us.Ready != us.Running-notReady {
		t.Errorf("us-east-1 ready %d, want running %d minus %d with a reason", us.Ready, us.Running, notReady)
	}
	// DHMC off in the first Region: nothing ready there, everything dhmc-off.
	if c := ea.Regions["eu-west-1"]; c.Ready != 0 || c.Reasons[fleetseed.DHMCOff] != c.Running {
		t.Errorf("eu-west-1 %+v", c)
	}
	if ea.Total.Ready != eb.Total.Ready || ea.Total.Ready != ea.Regions["us-east-1"].Ready {
		t.Errorf("ready %d / %d", ea.Total.Ready, eb.Total.Ready)
	}
	mig := 0
	for _, n := range ea.Migration {
		mig += n
	}
	if mig != ea.Total.Reasons[fleetseed.ProfileSSM] {
		t.Errorf("migration candidates hold %d instances, %d have the reason", mig, ea.Total.Reasons[fleetseed.ProfileSSM])
	}
	if a.Setting(awsemu.DefaultAccount, "us-east-1").Value != fleetseed.SettingValue || a.Setting(awsemu.DefaultAccount, "eu-west-1").Value != "$None" {
		t.Error("DHMC settings not seeded as specified")
	}
	other := fleetseed.Seed(awsemu.New(), fleetseed.Mixed(10, 200, regions))
	if slices.Equal(other.ByReason[fleetseed.OldAgent], ea.ByReason[fleetseed.OldAgent]) {
		t.Error("another seed gave the same fleet")
	}
}
