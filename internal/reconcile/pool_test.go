package reconcile_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/reconcile"
)

// slowSettings answers every read after a pause and records how many reads
// were in flight at once.
type slowSettings struct {
	mu             sync.Mutex
	inFlight, peak int
}

func (s *slowSettings) GetServiceSetting(ctx context.Context, in *ssm.GetServiceSettingInput, _ ...func(*ssm.Options)) (*ssm.GetServiceSettingOutput, error) {
	s.mu.Lock()
	s.inFlight++
	s.peak = max(s.peak, s.inFlight)
	s.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	s.mu.Lock()
	s.inFlight--
	s.mu.Unlock()
	return &ssm.GetServiceSettingOutput{ServiceSetting: &types.ServiceSetting{
		SettingValue: aws.String("service-role/AWSSystemsManagerDefaultEC2InstanceManagementRole"), Status: aws.String("Customized"),
	}}, nil
}

func (s *slowSettings) UpdateServiceSetting(context.Context, *ssm.UpdateServiceSettingInput, ...func(*ssm.Options)) (*ssm.UpdateServiceSettingOutput, error) {
	return &ssm.UpdateServiceSettingOutput{}, nil
}

func TestRegionsAreReadInParallelWithinTheBound(t *testing.T) {
	for _, par := range []int{1, 3, 17} {
		e := newEnv(t, awsemu.DefaultRegions...)
		e.seedCompliant()
		fake := &slowSettings{}
		e.clients.SSM = func(string) reconcile.SettingsAPI { return fake }
		rep, err := e.reconciler(reconcile.Options{Parallelism: par}).Run(t.Context(), reconcile.Scope{})
		if err != nil || len(rep.Results) != 0 || len(rep.Regions) != 17 {
			t.Fatalf("parallelism %d: %v, findings %q", par, err, kinds(rep))
		}
		if fake.peak != par {
			t.Errorf("parallelism %d: %d reads in flight at most, want exactly %d", par, fake.peak, par)
		}
	}
}
