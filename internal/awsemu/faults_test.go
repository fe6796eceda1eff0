package awsemu_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
)

func TestSDKRetryerRecoversFromInjectedFaults(t *testing.T) {
	s := awsemu.StartTest(t)
	s.PutRole(awsemu.DefaultAccount, awsemu.Role{Name: "R", TrustPolicy: trustDoc})
	topic := s.CreateTopic(awsemu.DefaultAccount, "eu-west-1", "t")
	cl := newClients(s, "eu-west-1")
	ctx := t.Context()
	tests := []struct {
		op, code string
		kind     awsemu.FaultKind
		call     func() error
	}{
		{"ssm:GetServiceSetting", "ThrottlingException", awsemu.FaultThrottle, func() error {
			_, err := cl.ssm.GetServiceSetting(ctx, &ssm.GetServiceSettingInput{SettingId: aws.String(settingID)})
			return err
		}},
		{"ssm:UpdateServiceSetting", "InternalServerError", awsemu.FaultServerError, func() error {
			_, err := cl.ssm.UpdateServiceSetting(ctx, &ssm.UpdateServiceSettingInput{SettingId: aws.String(settingID), SettingValue: aws.String("R")})
			return err
		}},
		{"iam:GetRole", "Throttling", awsemu.FaultThrottle, func() error {
			_, err := cl.iam.GetRole(ctx, iamGet("R"))
			return err
		}},
		{"iam:ListAttachedRolePolicies", "ServiceFailure", awsemu.FaultServerError, func() error {
			_, err := cl.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("R")})
			return err
		}},
		{"sns:Publish", "Throttling", awsemu.FaultThrottle, func() error {
			_, err := cl.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("m")})
			return err
		}},
		{"sns:Publish", "InternalError", awsemu.FaultServerError, func() error {
			_, err := cl.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("m")})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.op+" "+tt.code, func(t *testing.T) {
			s.ResetCalls()
			remove := s.Inject(awsemu.Fault{Op: tt.op, Kind: tt.kind, Times: 2})
			defer remove()
			if err := tt.call(); err != nil {
				t.Fatalf("call after 2 faults: %v, want the retryer to recover", err)
			}
			service, op, _ := strings.Cut(tt.op, ":")
			attempts := s.CountCalls(func(c awsemu.Call) bool { return c.Service == service && c.Operation == op })
			failed := s.CountCalls(func(c awsemu.Call) bool { return c.ErrorCode == tt.code })
			if attempts != 3 || failed != 2 {
				t.Errorf("attempts = %d (failed %d), want 3 (2)", attempts, failed)
			}
		})
	}
}

func TestPermanentFaultExhaustsRetriesUntilRemoved(t *testing.T) {
	s := awsemu.StartTest(t)
	c := newClients(s, "eu-west-1").ssm
	remove := s.Inject(awsemu.Fault{Op: "ssm:*", Kind: awsemu.FaultThrottle})
	_, err := c.GetServiceSetting(t.Context(), &ssm.GetServiceSettingInput{SettingId: aws.String(settingID)})
	var throttled *ssmtypes.ThrottlingException
	if !errors.As(err, &throttled) {
		t.Fatalf("err = %v, want ThrottlingException", err)
	}
	if n := s.CountCalls(nil); n != 3 {
		t.Errorf("attempts = %d, want the SDK default of 3", n)
	}
	remove()
	if _, err := c.GetServiceSetting(t.Context(), &ssm.GetServiceSettingInput{SettingId: aws.String(settingID)}); err != nil {
		t.Errorf("after remove: %v", err)
	}
}

func TestFaultsCanTargetOneRegion(t *testing.T) {
	s := awsemu.StartTest(t)
	s.Inject(awsemu.Fault{Op: "ssm:GetServiceSetting", Region: "eu-west-1", Kind: awsemu.FaultAccessDenied})
	get := func(region string) error {
		_, err := newClients(s, region).ssm.GetServiceSetting(t.Context(), &ssm.GetServiceSettingInput{SettingId: aws.String(settingID)})
		return err
	}
	var denied *ssmtypes.AccessDeniedException
	if err := get("eu-west-1"); !errors.As(err, &denied) {
		t.Errorf("eu-west-1: err = %v, want AccessDeniedException", err)
	}
	if err := get("us-east-1"); err != nil {
		t.Errorf("us-east-1: %v", err)
	}
}

func TestAccessDeniedAndTooManyUpdatesFaultsUseEachServicesCode(t *testing.T) {
	s := awsemu.StartTest(t)
	topic := s.CreateTopic(awsemu.DefaultAccount, "eu-west-1", "t")
	cl := newClients(s, "eu-west-1")
	ctx := t.Context()
	s.Inject(awsemu.Fault{Op: "iam:GetRole", Kind: awsemu.FaultAccessDenied})
	s.Inject(awsemu.Fault{Op: "sns:Publish", Kind: awsemu.FaultAccessDenied})
	s.Inject(awsemu.Fault{Op: "ssm:UpdateServiceSetting", Kind: awsemu.FaultTooManyUpdates})

	_, err := cl.iam.GetRole(ctx, iamGet("R"))
	if apiCode(err) != "AccessDenied" {
		t.Errorf("iam: err = %v, want AccessDenied", err)
	}
	_, err = cl.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String("m")})
	var authz *snstypes.AuthorizationErrorException
	if !errors.As(err, &authz) {
		t.Errorf("sns: err = %v, want AuthorizationError", err)
	}
	_, err = cl.ssm.UpdateServiceSetting(ctx, &ssm.UpdateServiceSettingInput{SettingId: aws.String(settingID), SettingValue: aws.String("x")})
	var tooMany *ssmtypes.TooManyUpdates
	if !errors.As(err, &tooMany) {
		t.Errorf("ssm: err = %v, want TooManyUpdates", err)
	}
	if n := s.CountCalls(func(c awsemu.Call) bool { return c.Operation == "UpdateServiceSetting" }); n != 1 {
		t.Errorf("TooManyUpdates was retried: %d attempts, want 1", n)
	}
}

func TestLatencyFaultDelaysTheCall(t *testing.T) {
	s := awsemu.StartTest(t)
	s.Inject(awsemu.Fault{Op: "ssm:GetServiceSetting", Kind: awsemu.FaultLatency, Latency: 80 * time.Millisecond, Times: 1})
	c := newClients(s, "eu-west-1").ssm
	start := time.Now()
	if _, err := c.GetServiceSetting(t.Context(), &ssm.GetServiceSettingInput{SettingId: aws.String(settingID)}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("call took %v, want at least 80ms", d)
	}
	start = time.Now()
	if _, err := c.GetServiceSetting(t.Context(), &ssm.GetServiceSettingInput{SettingId: aws.String(settingID)}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= 80*time.Millisecond {
		t.Errorf("second call took %v; the fault was for one call", d)
	}
}

func TestUnsignedRequestsAreRejected(t *testing.T) {
	s := awsemu.StartTest(t)
	anon := aws.Config{Region: "eu-west-1", Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String(s.URL()), Retryer: fastRetryer(1)}
	_, err := ssm.NewFromConfig(anon).GetServiceSetting(t.Context(), &ssm.GetServiceSettingInput{SettingId: aws.String(settingID)})
	if apiCode(err) != "MissingAuthenticationTokenException" {
		t.Errorf("ssm unsigned: err = %v", err)
	}
	_, err = iam.NewFromConfig(anon).GetRole(t.Context(), iamGet("R"))
	if apiCode(err) != "MissingAuthenticationToken" {
		t.Errorf("iam unsigned: err = %v", err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+"/", strings.NewReader("Action=GetRole&RoleName=R&Version=2010-05-08"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-RequestId") == "" {
		t.Errorf("non-SigV4 authorization: status %d", resp.StatusCode)
	}
	if n := s.CountCalls(func(c awsemu.Call) bool { return c.Status == http.StatusForbidden }); n != 3 {
		t.Errorf("rejected calls logged = %d, want 3", n)
	}
}

func TestUnknownOperationsAreErrors(t *testing.T) {
	s := awsemu.StartTest(t)
	cl := newClients(s, "eu-west-1")
	_, err := cl.ssm.GetParameter(t.Context(), &ssm.GetParameterInput{Name: aws.String("p")})
	if apiCode(err) != "UnknownOperationException" {
		t.Errorf("ssm: err = %v", err)
	}
	_, err = cl.iam.ListRoles(t.Context(), &iam.ListRolesInput{})
	if apiCode(err) != "InvalidAction" {
		t.Errorf("iam: err = %v", err)
	}
	_, err = cl.sns.ListPlatformApplications(t.Context(), &sns.ListPlatformApplicationsInput{})
	if apiCode(err) != "InvalidAction" {
		t.Errorf("sns: err = %v", err)
	}
}

func TestDisabledOptInRegionRejectsCredentials(t *testing.T) {
	s := awsemu.StartTest(t)
	_, err := newClients(s, "af-south-1").ssm.GetServiceSetting(t.Context(), &ssm.GetServiceSettingInput{SettingId: aws.String(settingID)})
	if apiCode(err) != "UnrecognizedClientException" {
		t.Errorf("disabled Region: err = %v", err)
	}
	s.SetEnabledRegions(awsemu.DefaultAccount, append([]string{"af-south-1"}, awsemu.DefaultRegions...))
	if _, err := newClients(s, "af-south-1").ssm.GetServiceSetting(t.Context(), &ssm.GetServiceSettingInput{SettingId: aws.String(settingID)}); err != nil {
		t.Errorf("enabled Region: %v", err)
	}
}

func TestCallLogRecordsEveryRequest(t *testing.T) {
	s := awsemu.StartTest(t)
	s.SetCaller("AKIDA", "111111111111", "arn:aws:iam::111111111111:user/a")
	c := cfg(s, "eu-west-1", "AKIDA")
	_, _ = ssm.NewFromConfig(c).UpdateServiceSetting(t.Context(), &ssm.UpdateServiceSettingInput{SettingId: aws.String(settingID), SettingValue: aws.String("x")})
	_, _ = iam.NewFromConfig(c).GetRole(t.Context(), iamGet("missing"))
	got := s.Calls()
	want := []awsemu.Call{
		{Service: "ssm", Operation: "UpdateServiceSetting", Region: "eu-west-1", Account: "111111111111", Caller: "arn:aws:iam::111111111111:user/a", Status: 200, Write: true, Attempt: 1},
		{Service: "iam", Operation: "GetRole", Region: "", Account: "111111111111", Caller: "arn:aws:iam::111111111111:user/a", Status: 404, ErrorCode: "NoSuchEntity", Attempt: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("calls = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if st := s.Setting("111111111111", "eu-west-1"); st.Value != "x" {
		t.Errorf("the mapped account's setting = %+v", st)
	}
	if st := s.Setting(awsemu.DefaultAccount, "eu-west-1"); st.Value != "$None" {
		t.Errorf("the default account's setting changed: %+v", st)
	}
}

func TestConcurrentClientsAcrossRegionsAndIAM(t *testing.T) {
	s := awsemu.StartTest(t)
	s.PutRole(awsemu.DefaultAccount, awsemu.Role{Name: "R", TrustPolicy: trustDoc})
	regions := awsemu.DefaultRegions
	var wg sync.WaitGroup
	errs := make(chan error, len(regions)*3)
	for _, region := range regions {
		wg.Go(func() {
			cl := newClients(s, region)
			ctx := t.Context()
			for range 3 {
				if _, err := cl.ssm.UpdateServiceSetting(ctx, &ssm.UpdateServiceSettingInput{SettingId: aws.String(settingID), SettingValue: aws.String(region)}); err != nil {
					errs <- err
				}
				if _, err := cl.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("R"), PolicyName: aws.String(region), PolicyDocument: aws.String(inlineDoc)}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, region := range regions {
		if got := s.Setting(awsemu.DefaultAccount, region).Value; got != region {
			t.Errorf("%s = %q", region, got)
		}
	}
	if r, _ := s.Role(awsemu.DefaultAccount, "R"); len(r.InlinePolicies) != len(regions) {
		t.Errorf("inline policies = %d, want %d", len(r.InlinePolicies), len(regions))
	}
	if n := s.CountCalls(nil); n != len(regions)*6 {
		t.Errorf("calls = %d, want %d", n, len(regions)*6)
	}
}

func TestEndpointFromAWSEndpointURLEnvironment(t *testing.T) {
	s := awsemu.StartTest(t)
	s.SetSetting(awsemu.DefaultAccount, "eu-north-1", "service-role/X")
	t.Setenv("AWS_ENDPOINT_URL", s.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "eu-north-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	c, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ssm.NewFromConfig(c).GetServiceSetting(ctx, &ssm.GetServiceSettingInput{SettingId: aws.String(settingID)})
	if err != nil {
		t.Fatalf("GetServiceSetting via AWS_ENDPOINT_URL: %v", err)
	}
	if got := aws.ToString(out.ServiceSetting.SettingValue); got != "service-role/X" {
		t.Errorf("value = %q", got)
	}
	if u := aws.ToString(out.ServiceSetting.LastModifiedUser); u != "System" {
		t.Errorf("seeded modifier = %q", u)
	}
}

func TestTimedCallsSpanTheInjectedLatency(t *testing.T) {
	s := awsemu.StartTest(t)
	s.SetCaller("AKIDA", "111111111111", "arn:aws:iam::111111111111:user/a")
	s.Inject(awsemu.Fault{Op: "iam:*", Kind: awsemu.FaultLatency, Latency: 30 * time.Millisecond})
	_, _ = iam.NewFromConfig(cfg(s, "eu-west-1", "AKIDA")).GetRole(t.Context(), iamGet("missing"))
	got := s.TimedCalls()
	if len(got) != 1 || got[0].Operation != "GetRole" || got[0].Status != 404 {
		t.Fatalf("timed calls = %+v", got)
	}
	if d := got[0].End.Sub(got[0].Start); d < 30*time.Millisecond {
		t.Errorf("the call spans %s, less than its injected latency", d)
	}
	s.ResetCalls()
	if len(s.TimedCalls()) != 0 {
		t.Error("ResetCalls kept timed calls")
	}
}
