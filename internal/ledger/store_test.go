package ledger_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger/ledgertest"
)

func emuClient(s *awsemu.Server) *dynamodb.Client {
	return dynamodb.NewFromConfig(aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLEDGER", "secret", ""),
		BaseEndpoint: aws.String(s.URL()),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
			})
		},
	})
}

func TestLedgerSuiteOnTheEmulator(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) *dynamodb.Client { return emuClient(awsemu.StartTest(t)) })
}

func compose(d ledger.Decisions) *ledger.Alert {
	if !d.Send() {
		return nil
	}
	return &ledger.Alert{Subject: "DHMC drift", Body: string(d.Sending()[0].Reason), Severity: d.Severity()}
}

func driftInput(at time.Time) ledger.RunInput {
	return ledger.RunInput{Signals: ledger.SignalsOf(ledgertest.DriftReport(at, ""), nil, at), Now: at}
}

func TestWithTheLedgerDownAlertsFailOpen(t *testing.T) {
	emu := awsemu.StartTest(t)
	s, _ := ledgertest.NewTable(t, emuClient(emu), ledger.Options{})
	ctx := t.Context()
	// A first alert, so the group exists and a repeat would be suppressed.
	if _, err := s.Decide(ctx, driftInput(ledgertest.Base), compose); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []awsemu.FaultKind{awsemu.FaultServerError, awsemu.FaultThrottle, awsemu.FaultAccessDenied} {
		remove := emu.Inject(awsemu.Fault{Op: "dynamodb:*", Kind: kind})
		out, err := s.Decide(ctx, driftInput(ledgertest.Base.Add(time.Minute)), compose)
		remove()
		if !errors.Is(err, ledger.ErrUnavailable) {
			t.Errorf("%v: error %v, want ErrUnavailable", kind, err)
		}
		if out.Alert == nil || out.Recorded || out.Decisions.Groups[0].Reason != ledger.ReasonLedgerUnavailable {
			t.Errorf("%v: outcome %+v, want an unrecorded alert sent because the ledger is down", kind, out)
		}
		if s.Available() {
			t.Errorf("%v: Available() after a failed call", kind)
		}
		if _, err := s.Undelivered(ctx); err != nil || !s.Available() {
			t.Errorf("%v: the ledger did not recover: %v", kind, err)
		}
	}
}

func TestAThrottledCallIsRetriedBySDK(t *testing.T) {
	emu := awsemu.StartTest(t)
	s, _ := ledgertest.NewTable(t, emuClient(emu), ledger.Options{})
	emu.Inject(awsemu.Fault{Op: "dynamodb:TransactWriteItems", Kind: awsemu.FaultThrottle, Times: 2})
	out, err := s.Decide(t.Context(), driftInput(ledgertest.Base), compose)
	if err != nil || !out.Recorded {
		t.Fatalf("outcome %+v, %v; want recorded after the SDK's retries", out, err)
	}
}

func TestALostRaceIsRetriedFromAFreshRead(t *testing.T) {
	emu := awsemu.StartTest(t)
	c := emuClient(emu)
	s, calls := ledgertest.NewTable(t, c, ledger.Options{})
	other, err := ledger.New(c, ledgertest.TableName(t), ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	// Another writer records the same group's first alert just before ours.
	emu.Inject(awsemu.Fault{Op: "dynamodb:TransactWriteItems", Kind: awsemu.FaultConditionalRace, Times: 1, Race: func() {
		if _, err := other.Decide(context.Background(), driftInput(ledgertest.Base), compose); err != nil {
			t.Errorf("competing writer: %v", err)
		}
	}})
	calls.Total()
	out, err := s.Decide(ctx, driftInput(ledgertest.Base.Add(time.Second)), compose)
	if err != nil {
		t.Fatal(err)
	}
	if out.Alert != nil || out.Decisions.Groups[0].Reason != ledger.ReasonSuppressed {
		t.Errorf("after the race: %+v; want our repeat counted, not a second first alert", out.Decisions.Groups)
	}
	if n := calls.Total(); n != 4 {
		t.Errorf("%d calls, want 4 (read, lost write, read again, write)", n)
	}
	box, err := s.Undelivered(ctx)
	if err != nil || len(box.Alerts) != 1 || len(box.Digests) != 1 || box.Digests[0].Count != 1 {
		t.Errorf("outbox = %+v, %v; want the competitor's alert and our repeat counted once", box, err)
	}
}

func TestRacesLostEveryTimeFailOpen(t *testing.T) {
	emu := awsemu.StartTest(t)
	s, _ := ledgertest.NewTable(t, emuClient(emu), ledger.Options{Attempts: 2})
	emu.Inject(awsemu.Fault{Op: "dynamodb:TransactWriteItems", Kind: awsemu.FaultConditionalRace})
	out, err := s.Decide(t.Context(), driftInput(ledgertest.Base), compose)
	if !errors.Is(err, ledger.ErrUnavailable) || out.Alert == nil || out.Recorded {
		t.Errorf("outcome %+v, %v; want an unrecorded alert and ErrUnavailable", out, err)
	}
}

func TestRetentionIsConfigurable(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 90 * 24 * time.Hour, "7": 7 * 24 * time.Hour, "3650": 3650 * 24 * time.Hour} {
		if got, err := ledger.ParseRetentionDays(in); err != nil || got != want {
			t.Errorf("ParseRetentionDays(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"0", "-1", "3651", "ninety", "1.5"} {
		if _, err := ledger.ParseRetentionDays(bad); err == nil {
			t.Errorf("ParseRetentionDays(%q) accepted", bad)
		}
	}
}

func TestItemsExpireAfterTheRetention(t *testing.T) {
	emu := awsemu.StartTest(t)
	c := emuClient(emu)
	s, _ := ledgertest.NewTable(t, c, ledger.Options{Retention: 7 * 24 * time.Hour})
	if _, err := s.RecordRun(t.Context(), ledgertest.DriftReport(ledgertest.Base, "e-1"), ledgertest.Base); err != nil {
		t.Fatal(err)
	}
	items := emu.TableItems(awsemu.DefaultAccount, "eu-west-1", ledgertest.TableName(t))
	if len(items) != 3 {
		t.Fatalf("items = %v, want the run and its two history events", items)
	}
	want := `"expiresAt":{"N":"` + strconv.FormatInt(ledgertest.Base.Add(7*24*time.Hour).Unix(), 10) + `"}`
	for _, it := range items {
		if !strings.Contains(it, want) {
			t.Errorf("item %s has no %s", it, want)
		}
	}
}

// oneRun is the handler's sequence for one run, as the report to the lead
// describes it: outbox, window decisions (with the alert recorded), publish,
// delivered, record the run.
func oneRun(t testing.TB, s *ledger.Store, rep *dhmc.Report, now time.Time) (sent bool) {
	ctx := context.Background()
	if _, err := s.Undelivered(ctx); err != nil {
		t.Fatal(err)
	}
	sigs := ledger.SignalsOf(rep, nil, now)
	if len(sigs) == 0 {
		return false
	}
	out, err := s.Decide(ctx, ledger.RunInput{Signals: sigs, Claim: rep.Cause.EventID, Now: now}, compose)
	if err != nil && !errors.Is(err, ledger.ErrDuplicate) {
		t.Fatal(err)
	}
	if out.Alert != nil {
		if err := s.Delivered(ctx, *out.Alert, "msg", now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RecordRun(ctx, rep, now); err != nil {
		t.Fatal(err)
	}
	return out.Alert != nil
}

func TestCallsPerRun(t *testing.T) {
	emu := awsemu.StartTest(t)
	s, calls := ledgertest.NewTable(t, emuClient(emu), ledger.Options{})
	base := ledgertest.Base
	cases := []struct {
		name string
		rep  *dhmc.Report
		want int
	}{
		{"compliant sweep", &dhmc.Report{Cause: dhmc.Cause{Trigger: "schedule"}, StartedAt: base.Format(time.RFC3339)}, 1},
		{"drift, first alert", ledgertest.DriftReport(base, "e-1"), 5},
		{"drift repeated, suppressed", ledgertest.DriftReport(base.Add(time.Minute), "e-2"), 4},
		{"denied attempt, first alert", ledgertest.DeniedReport(base, "e-3"), 5},
		{"the same denied event again", ledgertest.DeniedReport(base, "e-3"), 4},
	}
	calls.Total()
	for _, tc := range cases {
		oneRun(t, s, tc.rep, base.Add(2*time.Minute))
		if got := calls.Total(); got != tc.want {
			t.Errorf("%s: %d DynamoDB calls, want %d", tc.name, got, tc.want)
		}
	}
}

func BenchmarkDriftRunLedger(b *testing.B) {
	emu := awsemu.New()
	if err := emu.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = emu.Close() })
	c := emuClient(emu)
	ctx := context.Background()
	if _, err := c.CreateTable(ctx, ledger.CreateTableInput("bench")); err != nil {
		b.Fatal(err)
	}
	s, err := ledger.New(c, "bench", ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		at := ledgertest.Base.Add(time.Duration(i) * 2 * time.Hour) // every run a first alert
		oneRun(b, s, ledgertest.DriftReport(at, "e-"+strconv.Itoa(i)), at)
	}
}
