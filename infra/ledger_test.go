package infra_test

import (
	"slices"
	"strconv"
	"strings"
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

// Only the function's role may write the ledger's items: a forged outbox
// entry would be published to the alert topic. The deny is on item writes
// only, so nobody is locked out of managing the table.
func TestOnlyTheFunctionRoleWritesLedgerItems(t *testing.T) {
	r := render(t, mainTemplate, infra.DefaultEnv())
	tbl := resource(t, r, "LedgerTable", "AWS::DynamoDB::Table")
	sts := statements(t, get(t, tbl.Properties, "ResourcePolicy", "PolicyDocument"))
	if len(sts) != 1 {
		t.Fatalf("resource policy statements %v, want the one deny", sts)
	}
	st := sts[0]
	if str(st["Effect"]) != "Deny" || str(st["Principal"]) != "*" || str(st["Resource"]) != "*" {
		t.Errorf("statement %v: want Deny to every principal on this table", st)
	}
	if got := str(get(t, st, "Condition", "ArnNotEquals", "aws:PrincipalArn")); got != "getatt:GuardFunctionRole.Arn" {
		t.Errorf("the deny spares %q, want the function role only", got)
	}
	denied := strs(st["Action"])
	// Every way to write an item: what the ledger needs, and PartiQL.
	for _, a := range append(slices.Clone(ledger.Actions), "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete") {
		write := a != "dynamodb:GetItem" && a != "dynamodb:Query" && a != "dynamodb:BatchGetItem"
		if write != slices.Contains(denied, a) {
			t.Errorf("%s denied: %v, want %v", a, !write, write)
		}
	}
	// Never the table's management: administrators, CloudFormation's
	// updates and the retained table after a stack delete stay manageable.
	for _, a := range denied {
		if strings.Contains(a, "*") || strings.Contains(a, "Table") || strings.Contains(a, "ResourcePolicy") {
			t.Errorf("the deny covers %s: it would lock out the table's administrators", a)
		}
	}
	// The role names the table through a policy of its own: the table's
	// policy names the role, and a role policy naming the table would be a
	// dependency cycle.
	pol := resource(t, r, "GuardLedgerAccess", "AWS::IAM::RolePolicy")
	if str(pol.Properties["RoleName"]) != "ref:GuardFunctionRole" {
		t.Errorf("GuardLedgerAccess on %v", pol.Properties["RoleName"])
	}
	fn := resource(t, r, "GuardFunction", "AWS::Serverless::Function")
	if !slices.Contains(strs(fn.Other["DependsOn"]), "GuardLedgerAccess") {
		t.Errorf("the function does not wait for its ledger policy: DependsOn %v", fn.Other["DependsOn"])
	}
}
