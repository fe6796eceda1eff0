package infra_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/dhmc-guard/dhmc-guard/infra"
	"github.com/dhmc-guard/dhmc-guard/internal/ledger"
)

func TestLedgerTableIsDurableEncryptedAndExpires(t *testing.T) {
	r := render(t, mainTemplate, infra.DefaultEnv())
	tbl := resource(t, r, "LedgerTable", "AWS::DynamoDB::Table")
	p := tbl.Properties
	checks := []struct {
		name string
		got  any
		want string
	}{
		{"BillingMode", p["BillingMode"], "PAY_PER_REQUEST"},
		{"PointInTimeRecovery", get(t, p, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"), "true"},
		{"SSEEnabled", get(t, p, "SSESpecification", "SSEEnabled"), "true"},
		{"TimeToLive.Enabled", get(t, p, "TimeToLiveSpecification", "Enabled"), "true"},
		{"TimeToLive.AttributeName", get(t, p, "TimeToLiveSpecification", "AttributeName"), ledger.TTLAttribute},
		{"DeletionPolicy", tbl.Other["DeletionPolicy"], "Retain"},
		{"UpdateReplacePolicy", tbl.Other["UpdateReplacePolicy"], "Retain"},
	}
	for _, c := range checks {
		if str(c.got) != c.want {
			t.Errorf("%s = %v, want %s", c.name, c.got, c.want)
		}
	}
	if p["ProvisionedThroughput"] != nil || p["GlobalSecondaryIndexes"] != nil {
		t.Error("the ledger is on demand and needs no index")
	}

	// The key schema is the one the ledger (and its tests) create.
	want := ledger.CreateTableInput("x")
	ks, _ := p["KeySchema"].([]any)
	defs, _ := p["AttributeDefinitions"].([]any)
	if len(ks) != len(want.KeySchema) || len(defs) != len(want.AttributeDefinitions) {
		t.Fatalf("KeySchema %v, AttributeDefinitions %v", ks, defs)
	}
	for i, k := range want.KeySchema {
		if str(get(t, ks[i], "AttributeName")) != aws.ToString(k.AttributeName) || str(get(t, ks[i], "KeyType")) != string(k.KeyType) {
			t.Errorf("KeySchema[%d] = %v, want %s %s", i, ks[i], aws.ToString(k.AttributeName), k.KeyType)
		}
	}
	for i, d := range want.AttributeDefinitions {
		if str(get(t, defs[i], "AttributeName")) != aws.ToString(d.AttributeName) || str(get(t, defs[i], "AttributeType")) != string(d.AttributeType) {
			t.Errorf("AttributeDefinitions[%d] = %v", i, defs[i])
		}
	}
}

func TestFunctionMayCallOnlyTheLedgersItemActionsOnItsTable(t *testing.T) {
	st, ok := functionStatements(t, nil)["RunLedger"]
	if !ok {
		t.Fatal("no RunLedger statement on the function role")
	}
	if got := strs(st["Resource"]); !slices.Equal(got, []string{"getatt:LedgerTable.Arn"}) {
		t.Errorf("RunLedger on %v, want the ledger table only", got)
	}
	got := strs(st["Action"])
	want := slices.Clone(ledger.Actions)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("RunLedger actions = %v, want exactly the ledger's %v", got, want)
	}
	for _, a := range got {
		switch a {
		case "dynamodb:Scan", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:CreateTable", "dynamodb:PartiQLSelect":
			t.Errorf("the function may %s", a)
		}
	}
}

func TestLedgerRetentionIsAParameter(t *testing.T) {
	r := render(t, mainTemplate, infra.DefaultEnv())
	days, err := strconv.Atoi(r.Params["LedgerRetentionDays"])
	if err != nil || time.Duration(days)*24*time.Hour != ledger.DefaultRetention {
		t.Errorf("LedgerRetentionDays default = %q, want the ledger's default (%v)", r.Params["LedgerRetentionDays"], ledger.DefaultRetention)
	}
	r = render(t, mainTemplate, envWith("", map[string]string{"LedgerRetentionDays": "30"}))
	fn := resource(t, r, "GuardFunction", "AWS::Serverless::Function")
	vars, _ := get(t, fn.Properties, "Environment", "Variables").(map[string]any)
	if got := str(vars["DHMC_LEDGER_TTL_DAYS"]); got != "30" {
		t.Errorf("DHMC_LEDGER_TTL_DAYS = %s, want the parameter", got)
	}
	if _, err := ledger.ParseRetentionDays(str(vars["DHMC_LEDGER_TTL_DAYS"])); err != nil {
		t.Errorf("the ledger refuses what the template passes: %v", err)
	}
	if got := str(vars["DHMC_LEDGER_TABLE"]); got != "ref:LedgerTable" {
		t.Errorf("DHMC_LEDGER_TABLE = %s", got)
	}
}
