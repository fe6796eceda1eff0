package main_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/dhmc-guard/dhmc-guard/internal/alert"
	"github.com/dhmc-guard/dhmc-guard/internal/alert/alerttest"
	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
)

// Hostile values of a CloudTrail event's fields: what an attacker who
// changes the DHMC role controls (the user agent, any string; the session
// name) or what a forged event could hold.
const (
	hostileSession = "[click](https://evil.example/login)\r\nWho:      root\u202egnp.exe"
	hostileARN     = "arn:aws:sts::" + acct + ":assumed-role/Admin/" + hostileSession
	hostileAgent   = "<!channel> aws-cli\u2028forged line\u0085 `code` *bold* <https://evil.example|console> \x1b[2J"
	hostileIP      = "203.0.113.10\u202e<@U0123ABCD> ![x](https://evil.example/p.png)"
	hostileTime    = "2026-03-10T09:14:03Z\r\n# heading | a | b |\u2029"
	// IAM allows [\w+=,.@-] in a policy name: an address and a bare domain
	// chat clients would link.
	hostilePolicy = "mallory@evil.example"
)

// hostileDocument is a valid policy whose condition values hold what the
// hostile strings do: IAM keeps a document as written.
func hostileDocument(t *testing.T) string {
	t.Helper()
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect": "Allow", "Action": "s3:*", "Resource": "*",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:UserAgent": []string{
				"[x](https://evil.example)", "<!here>", "bidi\u202eexe", "line\u2028sep", "nel\u0085x", "zw\u200bsp\ufeff", "cr\rlf\n",
			}}},
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hostileEvent is the PutRolePolicy sample with every field a caller or a
// forger controls made hostile.
func hostileEvent(t *testing.T) []byte {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(readEvent(t, "iam-put-role-policy.json"), &e); err != nil {
		t.Fatal(err)
	}
	d := e["detail"].(map[string]any)
	d["userIdentity"] = map[string]any{
		"type": "AssumedRole", "principalId": "AROA3EXAMPLEROLE0001:" + hostileSession, "arn": hostileARN, "accountId": acct,
		"sessionContext": map[string]any{"sessionIssuer": map[string]any{
			"type": "Role", "arn": "arn:aws:iam::" + acct + ":role/Admin", "accountId": acct, "userName": "Admin",
		}},
	}
	d["userAgent"], d["sourceIPAddress"], d["eventTime"] = hostileAgent, hostileIP, hostileTime
	d["requestParameters"].(map[string]any)["policyName"] = hostilePolicy
	d["requestParameters"].(map[string]any)["policyDocument"] = hostileDocument(t)
	d["recipientAccountId"] = acct
	e["account"] = acct
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHostileEventAndPolicyReachNoSinkLive puts a hostile inline policy on
// the DHMC role, delivers the CloudTrail event of it with hostile strings
// in every field, and reads what the emulator's SNS received: the subject,
// the e-mail (the default message) and the chat card are inert, and still
// say who, from where and what was deleted.
func TestHostileEventAndPolicyReachNoSinkLive(t *testing.T) {
	emu := awsemu.StartTest(t)
	var log bytes.Buffer
	sb, err := sandbox.Start(t.Context(), emu, sandbox.Options{RIE: rieBin, Bootstrap: bootstrap, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			sb.Close()
		}
	})
	doc := hostileDocument(t)
	must(t, func() error {
		_, err := sb.UserIAM().PutRolePolicy(t.Context(), &iam.PutRolePolicyInput{RoleName: aws.String(sandbox.Desired().RoleName),
			PolicyName: aws.String(hostilePolicy), PolicyDocument: aws.String(doc)})
		return err
	})
	emu.ResetCalls()
	run(t, sb, hostileEvent(t))

	m := oneMessage(t, emu)
	if m.Protocols == nil {
		t.Fatalf("the alert was published without a message structure: no chat card")
	}
	email, card := m.For("email"), m.For(alert.ProtocolChat)
	var problems []string
	problems = append(problems, alerttest.SubjectProblems(m.Subject)...)
	problems = append(problems, alerttest.TextProblems("e-mail", email)...)
	problems = append(problems, alerttest.CardProblems(card)...)
	for k, v := range m.Attributes {
		problems = append(problems, alerttest.LineProblems("attribute "+k, v)...)
	}
	for _, p := range problems {
		t.Error(p)
	}

	// The e-mail: one "Who:" line (a CR/LF in the session forges none),
	// and what was sent shown as escapes, not dropped.
	summary, _, _ := strings.Cut(email, alert.JSONMarker)
	if n := strings.Count(summary, "\nWho:"); n != 1 {
		t.Errorf("the e-mail has %d Who: lines, want 1:\n%s", n, summary)
	}
	for _, want := range []string{
		`root\u202egnp.exe`, `aws-cli\u2028forged line\u0085`, `\u001b[2J`, `203.0.113.10\u202e`,
		`2026-03-10T09:14:03Z\u000d\u000a# heading`, hostilePolicy, `bidi\u202eexe`, `line\u2028sep`,
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("the e-mail does not show %q:\n%s", want, summary)
		}
	}

	// The card: the caller, the agent's text and the policy as inline code.
	var c alert.Chat
	if err := json.Unmarshal([]byte(card), &c); err != nil {
		t.Fatalf("card: %v", err)
	}
	desc := c.Content.Description
	for _, want := range []string{"(session [click](https://evil.example/login)\\u000d\\u000aWho:      root\\u202egnp.exe)`"} {
		if !strings.Contains(desc, want) {
			t.Errorf("the card does not show %q as code:\n%s", want, desc)
		}
	}
	if strings.Contains(card, "<!channel>") || strings.Contains(card, "<@U0123ABCD>") || strings.Contains(desc, "\r") {
		t.Errorf("a mention or a raw control character reached the card:\n%s", card)
	}
	t.Logf("subject: %s\ncard description:\n%s\ne-mail (summary):\n%s", m.Subject, desc, summary)

	// The log: JSON lines (AWS_LAMBDA_LOG_FORMAT=JSON) stay valid JSON
	// whatever the event held.
	sb.Close()
	closed = true
	lines := 0
	for line := range strings.Lines(log.String()) {
		if !strings.HasPrefix(line, "{") {
			continue // RIE's own lines
		}
		lines++
		if !json.Valid([]byte(line)) {
			t.Errorf("a log line is not valid JSON: %q", line)
		}
	}
	if lines == 0 {
		t.Errorf("no JSON log line from the function:\n%s", log.String())
	}
}
