package fleet_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/fleet"
)

// TestFleetDigestReachesChat: the digest goes out with its chat card, and
// one whose JSON report would push the structured message past SNS's limit
// still goes out, the report left for the report action.
func TestFleetDigestReachesChat(t *testing.T) {
	emu := awsemu.StartTest(t)
	topic := emu.CreateTopic(awsemu.DefaultAccount, "eu-west-1", "fleet")
	p := sns.NewFromConfig(sdkConfig(emu, "eu-west-1"))
	small := fleet.Digest{Subject: "DHMC fleet: 3 of 4 instances ready", Body: "3 of 4 ready\n",
		Attributes: map[string]string{"kind": fleet.ReportKind, "severity": "medium", "account": awsemu.DefaultAccount}}
	report := `{"regions":[` + strings.Repeat(`{"region":"eu-west-1","reason":"\"not pinging\""},`, 5000) + `{}]}`
	big := small
	big.Body = "3 of 4 ready\n\n" + fleet.JSONMarker + "\n" + report[:min(len(report), fleet.MaxBody-200)] + "\n"
	for _, d := range []fleet.Digest{small, big} {
		if err := fleet.SendWithCard(t.Context(), p, topic, d); err != nil {
			t.Fatalf("%d-byte digest: %v", len(d.Body), err)
		}
	}
	msgs := emu.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	for i, m := range msgs {
		var card map[string]any
		if err := json.Unmarshal([]byte(m.Protocols["https"]), &card); err != nil || card["version"] != "1.0" || card["source"] != "custom" {
			t.Errorf("message %d has no valid chat card: %v", i, err)
		}
	}
	if msgs[0].Body != small.Body || strings.Contains(msgs[1].Body, fleet.JSONMarker) || !strings.Contains(msgs[1].Body, "report") {
		t.Errorf("bodies: %q / %.200q", msgs[0].Body, msgs[1].Body)
	}
}
