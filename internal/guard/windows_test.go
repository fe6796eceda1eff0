package guard_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// eventAt is a sample CloudTrail event with its own event ID, at t.
func eventAt(t *testing.T, name string, n int, at time.Time) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(event(t, name), &ev); err != nil {
		t.Fatal(err)
	}
	detail := ev["detail"].(map[string]any)
	detail["eventID"] = fmt.Sprintf("0000%04d-1111-4222-8333-444455556666", n)
	detail["eventTime"] = at.UTC().Format(time.RFC3339)
	b, _ := json.Marshal(ev)
	return b
}

// clock is a settable Handler.Now.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// detach removes the managed policy from the DHMC role through IAM, as a user would.
func detach(t *testing.T, c *iam.Client) {
	t.Helper()
	d := sandbox.Desired()
	if _, err := c.DetachRolePolicy(t.Context(), &iam.DetachRolePolicyInput{RoleName: aws.String(d.RoleName), PolicyArn: aws.String(d.ManagedPolicyARN())}); err != nil {
		t.Fatal(err)
	}
}

func userIAM(emu *awsemu.Server) *iam.Client {
	return iam.NewFromConfig(aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(emu.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDUSER", "x", ""),
	})
}

// With back-off on, the escalation of a flapping item says the guard
// stops repairing it for the window, and the next drift is left alone.
func TestAFlapEscalationSaysTheItemIsHeldBack(t *testing.T) {
	for _, backoff := range []bool{false, true} {
		t.Run(fmt.Sprintf("backoff %v", backoff), func(t *testing.T) {
			h, emu := newLedgerHandler(t, ledger.Policy{Backoff: backoff})
			c := &clock{now: time.Now()}
			h.Now = c.Now
			user := userIAM(emu)
			for i := range 3 {
				detach(t, user)
				if _, err := h.Handle(t.Context(), eventAt(t, "iam-detach-role-policy.json", i, c.now)); err != nil {
					t.Fatal(err)
				}
				c.now = c.now.Add(time.Minute)
			}
			var flap *awsemu.Message
			for _, m := range emu.Messages() {
				if strings.HasPrefix(m.Subject, "FLAPPING") {
					flap = &m
				}
			}
			if flap == nil {
				t.Fatalf("no escalation among %d messages", len(emu.Messages()))
			}
			if got := strings.Contains(flap.Body, "stops repairing it"); got != backoff {
				t.Errorf("escalation says it is held back: %v, want %v:\n%s", got, backoff, flap.Body)
			}
		})
	}
}

// countSubjects counts the messages whose subject starts with prefix.
func countSubjects(msgs []awsemu.Message, prefix string) int {
	n := 0
	for _, m := range msgs {
		if strings.HasPrefix(m.Subject, prefix) {
			n++
		}
	}
	return n
}

// The same drift 30 times within an hour (one every two minutes), then the
// hourly sweeps: the first alert, one escalation, and one digest when the
// window closes, counting the 27 repeats in between. Never one each.
func TestThirtyRepeatsThenTheWindowClosesWithOneDigest(t *testing.T) {
	h, emu := newLedgerHandler(t, ledger.Policy{})
	c := &clock{now: time.Now()}
	h.Now = c.Now
	user := userIAM(emu)
	for i := range 30 {
		detach(t, user)
		if _, err := h.Handle(t.Context(), eventAt(t, "iam-detach-role-policy.json", i, c.now)); err != nil {
			t.Fatal(err)
		}
		c.now = c.now.Add(2 * time.Minute)
	}
	if n := len(emu.Messages()); n != 2 {
		t.Fatalf("within the hour: %d messages, want the first and the escalation", n)
	}
	// Sweeps every 30 minutes until two hours after the last repeat.
	for range 4 {
		c.now = c.now.Add(30 * time.Minute)
		if _, err := h.Handle(t.Context(), event(t, "schedule.json")); err != nil {
			t.Fatal(err)
		}
	}
	msgs := emu.Messages()
	t.Logf("30 repeats, then the window closes: %d messages", len(msgs))
	// The flapping item, left alone since, is verified compliant by the
	// first sweep: its escalation ends with one RESOLVED (resolved.go).
	if len(msgs) != 4 || countSubjects(msgs, "DHMC digest") != 1 || countSubjects(msgs, "RESOLVED: DHMC") != 1 {
		t.Fatalf("messages %d %q, want first, escalation, one RESOLVED and one digest", len(msgs), subjectsOf(msgs))
	}
	for _, m := range msgs {
		if strings.HasPrefix(m.Subject, "DHMC digest") && !strings.Contains(m.Body, "27 more since") {
			t.Errorf("the digest does not count the 27 repeats:\n%s", m.Body)
		}
		if strings.HasPrefix(m.Subject, "RESOLVED: DHMC") && (m.Attributes["status"] != "resolved" || m.Attributes["dedupKey"] != msgs[1].Attributes["alertId"]) {
			t.Errorf("RESOLVED %v, want status resolved and the escalation's alertId %q as dedup key", m.Attributes, msgs[1].Attributes["alertId"])
		}
	}
}

// 100 denied attempts by one actor in 50 minutes, then the sweeps: one
// alert, and one digest of the other 99 when the window closes.
func TestAHundredDeniedAttemptsThenTheWindowClosesWithOneDigest(t *testing.T) {
	h, emu := newLedgerHandler(t, ledger.Policy{})
	c := &clock{now: time.Now()}
	h.Now = c.Now
	for i := range 100 {
		if _, err := h.Handle(t.Context(), eventAt(t, "denied-detach-role-policy.json", i, c.now)); err != nil {
			t.Fatal(err)
		}
		c.now = c.now.Add(30 * time.Second)
	}
	for range 3 {
		c.now = c.now.Add(30 * time.Minute)
		if _, err := h.Handle(t.Context(), event(t, "schedule.json")); err != nil {
			t.Fatal(err)
		}
	}
	msgs := emu.Messages()
	t.Logf("100 denied attempts, then the window closes: %d messages", len(msgs))
	if len(msgs) != 2 || countSubjects(msgs, "DHMC digest") != 1 {
		t.Fatalf("messages %d, want the alert and one digest", len(msgs))
	}
	if d := msgs[1].Body; !strings.Contains(d, "99 more since") {
		t.Errorf("the digest does not count the 99 repeats:\n%s", d)
	}
}
