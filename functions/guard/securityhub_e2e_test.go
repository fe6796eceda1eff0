package main_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu"
	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
	"github.com/dhmc-guard/dhmc-guard/internal/sandbox"
	"github.com/dhmc-guard/dhmc-guard/internal/securityhub"
)

// securityHubCalls counts the function's Security Hub calls by operation
// since the last ResetCalls.
func securityHubCalls(emu *awsemu.Server) map[string]int {
	out := map[string]int{}
	for _, c := range emu.Calls() {
		if c.Service == "securityhub" {
			out[c.Operation]++
		}
	}
	return out
}

// hubFindings are the stored findings by Id.
func hubFindings(emu *awsemu.Server) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, f := range emu.SecurityHubFindings(sandbox.Account, sandbox.HomeRegion) {
		out[f["Id"].(string)] = f
	}
	return out
}

func complianceAndWorkflow(f map[string]any) string {
	return f["Compliance"].(map[string]any)["Status"].(string) + "/" + f["Workflow"].(map[string]any)["Status"].(string)
}

// ageSecurityHubMemory moves every item's last send back by d in the
// ledger: the fake clock of this test (the function runs on the real one).
func ageSecurityHubMemory(t *testing.T, emu *awsemu.Server, d time.Duration) {
	t.Helper()
	db := dynamodb.NewFromConfig(aws.Config{
		Region: sandbox.HomeRegion, Credentials: credentials.NewStaticCredentialsProvider("AKIDCLOCK", "x", ""),
		BaseEndpoint: aws.String(emu.URL()),
	})
	key := map[string]dbtypes.AttributeValue{
		"pk": &dbtypes.AttributeValueMemberS{Value: "SECURITYHUB"}, "sk": &dbtypes.AttributeValueMemberS{Value: "MEMORY"},
	}
	out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(sandbox.LedgerTable), Key: key})
	if err != nil || out.Item == nil {
		t.Fatalf("reading the Security Hub memory: %v (item %v)", err, out.Item)
	}
	mem, err := securityhub.DecodeMemory([]byte(out.Item["doc"].(*dbtypes.AttributeValueMemberS).Value))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range mem.Items {
		v.SentAt = v.SentAt.Add(-d)
		mem.Items[k] = v
	}
	doc, _ := json.Marshal(mem)
	out.Item["doc"] = &dbtypes.AttributeValueMemberS{Value: string(doc)}
	if _, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(sandbox.LedgerTable), Item: out.Item}); err != nil {
		t.Fatal(err)
	}
}

// TestSecurityHubFindingsFollowTheItems: in detect mode a disabled setting
// is a FAILED finding (the other items PASSED and RESOLVED); the repair
// turns it PASSED and RESOLVED; an unchanged sweep sends nothing; a day
// later every item is refreshed, once.
func TestSecurityHubFindingsFollowTheItems(t *testing.T) {
	sb, emu := start(t, "DHMC_MODE=detect", "DHMC_SECURITY_HUB_FINDINGS=true")
	emu.EnableSecurityHub(sandbox.Account, sandbox.HomeRegion)
	emu.SetSetting(sandbox.Account, "eu-central-1", dhmc.SettingDisabled)
	target := securityhub.Target{AccountID: sandbox.Account}
	broken, role := target.FindingID("eu-central-1"), target.FindingID(securityhub.RoleItem)

	emu.ResetCalls()
	sweep(t, sb)
	got := hubFindings(emu)
	if len(got) != 4 {
		t.Fatalf("findings %d, want one per Region (3) and the role", len(got))
	}
	if s := complianceAndWorkflow(got[broken]); s != "FAILED/NEW" {
		t.Errorf("disabled setting: %s, want FAILED/NEW", s)
	}
	if s := complianceAndWorkflow(got[role]); s != "PASSED/RESOLVED" {
		t.Errorf("role: %s, want PASSED/RESOLVED", s)
	}
	if pf := got[broken]["ProductFields"].(map[string]any); pf["dhmc-guard/Kind"] != "setting-disabled" || pf["dhmc-guard/Outcome"] != "skipped" {
		t.Errorf("product fields %v", pf)
	}
	if c := securityHubCalls(emu); c["BatchImportFindings"] != 1 || c["BatchUpdateFindings"] != 1 {
		t.Errorf("first sweep calls %v, want one import and one update", c)
	}
	example, _ := json.MarshalIndent(got[broken], "", "  ")
	t.Logf("a finding as the emulator stores it:\n%s", example)
	firstUpdated := got[role]["UpdatedAt"]

	emu.ResetCalls()
	run(t, sb, readEvent(t, "manual-remediate.json"))
	got = hubFindings(emu)
	if s := complianceAndWorkflow(got[broken]); s != "PASSED/RESOLVED" {
		t.Errorf("after the repair: %s, want PASSED/RESOLVED", s)
	}
	if pf := got[broken]["ProductFields"].(map[string]any); pf["dhmc-guard/Outcome"] != "done" {
		t.Errorf("after the repair the outcome is %v, want done", pf["dhmc-guard/Outcome"])
	}
	if c := securityHubCalls(emu); c["BatchImportFindings"] != 1 || c["BatchUpdateFindings"] != 1 {
		t.Errorf("repair calls %v, want one import (the repaired item) and one update", c)
	}

	emu.ResetCalls()
	sweep(t, sb)
	if c := securityHubCalls(emu); len(c) != 0 {
		t.Errorf("an unchanged sweep called Security Hub: %v", c)
	}

	ageSecurityHubMemory(t, emu, securityhub.Refresh+time.Minute)
	time.Sleep(1100 * time.Millisecond) // UpdatedAt has whole seconds
	emu.ResetCalls()
	sweep(t, sb)
	if c := securityHubCalls(emu); c["BatchImportFindings"] != 1 || c["BatchUpdateFindings"] != 0 {
		t.Errorf("a day later: calls %v, want one import and nothing to resolve", c)
	}
	got = hubFindings(emu)
	if got[role]["UpdatedAt"] == firstUpdated || complianceAndWorkflow(got[broken]) != "PASSED/RESOLVED" {
		t.Errorf("refresh: role UpdatedAt %v (was %v), setting %s", got[role]["UpdatedAt"], firstUpdated, complianceAndWorkflow(got[broken]))
	}
	emu.ResetCalls()
	sweep(t, sb)
	if c := securityHubCalls(emu); len(c) != 0 {
		t.Errorf("refreshed twice: %v", c)
	}
}

// TestSecurityHubNotEnabledSaysSoOnce: Security Hub off in the account:
// one low message, DHMC still checked; the next sweep neither retries
// within the hour nor says it again.
func TestSecurityHubNotEnabledSaysSoOnce(t *testing.T) {
	sb, emu := start(t, "DHMC_SECURITY_HUB_FINDINGS=true")
	sweep(t, sb)
	sweep(t, sb)
	msgs := emu.Messages()
	if len(msgs) != 1 || msgs[0].Attributes["severity"] != "low" {
		t.Fatalf("messages %q, want the one low message", subjects(msgs))
	}
	if c := securityHubCalls(emu); c["BatchImportFindings"] != 1 {
		t.Errorf("calls %v, want one refused import (no retry within the hour)", c)
	}
	var card map[string]any
	if err := json.Unmarshal([]byte(msgs[0].Protocols["https"]), &card); err != nil || card["version"] != "1.0" {
		t.Errorf("the message carries no chat card: %v %v", err, msgs[0].Protocols)
	}
}
