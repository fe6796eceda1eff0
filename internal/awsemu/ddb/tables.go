package ddb

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/awsemu/wire"
)

// Tables: create, describe, delete, and the state read-out for tests.

type tableKey struct{ account, region, name string }

type table struct {
	name, arn, id string
	created       time.Time
	hash, rng     string            // key attribute names; rng "" when none
	types         map[string]string // key attribute -> S | N | B
	defs          []attrDef
	billing       string
	sse           bool
	protected     bool
	ttlAttr       string
	ttlEnabled    bool
	// items by partition key, then by sort key (both encoded by keyString).
	items map[string]map[string]map[string]*av
	// idempotency tokens of TransactWriteItems, for ten minutes.
	tokens map[string]txToken
}

type txToken struct {
	at   time.Time
	body string
}

type attrDef struct {
	AttributeName string `json:"AttributeName"`
	AttributeType string `json:"AttributeType"`
}

type keyElem struct {
	AttributeName string `json:"AttributeName"`
	KeyType       string `json:"KeyType"`
}

// tables returns the table map, creating it; callers hold db.mu.
func (db *Service) tables() map[tableKey]*table {
	if db.byKey == nil {
		db.byKey = map[tableKey]*table{}
	}
	return db.byKey
}

// table finds a table of the caller's account and Region; callers hold db.mu.
func (db *Service) table(call *Call, name string) (*table, *Fail) {
	if name == "" {
		return nil, invalid("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	t, ok := db.tables()[tableKey{call.Account, call.Region, tableNameOf(name)}]
	if !ok {
		return nil, notFound()
	}
	return t, nil
}

// tableNameOf accepts a table name or its ARN, as DynamoDB does.
func tableNameOf(s string) string {
	if strings.HasPrefix(s, "arn:") {
		if i := strings.LastIndex(s, ":table/"); i >= 0 {
			return s[i+len(":table/"):]
		}
	}
	return s
}

var tableNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

type createTableInput struct {
	TableName              string     `json:"TableName"`
	KeySchema              []keyElem  `json:"KeySchema"`
	AttributeDefinitions   []attrDef  `json:"AttributeDefinitions"`
	BillingMode            string     `json:"BillingMode"`
	ProvisionedThroughput  *struct{}  `json:"ProvisionedThroughput"`
	GlobalSecondaryIndexes []struct{} `json:"GlobalSecondaryIndexes"`
	LocalSecondaryIndexes  []struct{} `json:"LocalSecondaryIndexes"`
	SSESpecification       *struct {
		Enabled *bool `json:"Enabled"`
	} `json:"SSESpecification"`
	DeletionProtectionEnabled bool `json:"DeletionProtectionEnabled"`
}

func (db *Service) createTable(call *Call) (any, *Fail) {
	var in createTableInput
	if f := decode(call, &in); f != nil {
		return nil, f
	}
	if !tableNameRE.MatchString(in.TableName) {
		return nil, invalid("1 validation error detected: Value '%s' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", in.TableName)
	}
	if in.GlobalSecondaryIndexes != nil || in.LocalSecondaryIndexes != nil {
		return nil, invalid("secondary indexes are not emulated")
	}
	switch in.BillingMode {
	case "PAY_PER_REQUEST":
		if in.ProvisionedThroughput != nil {
			return nil, invalid("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
	case "", "PROVISIONED":
		if in.ProvisionedThroughput == nil {
			return nil, invalid("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
		in.BillingMode = "PROVISIONED"
	default:
		return nil, invalid("1 validation error detected: Value '%s' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", in.BillingMode)
	}
	t := &table{
		name: in.TableName, billing: in.BillingMode, types: map[string]string{},
		defs: in.AttributeDefinitions, protected: in.DeletionProtectionEnabled,
		items: map[string]map[string]map[string]*av{}, tokens: map[string]txToken{},
		created: time.Now().UTC(), id: wire.RequestID(),
	}
	t.arn = fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", wire.Partition(call.Region), call.Region, call.Account, in.TableName)
	if in.SSESpecification != nil && in.SSESpecification.Enabled != nil && *in.SSESpecification.Enabled {
		t.sse = true
	}
	if f := t.setKeySchema(in.KeySchema, in.AttributeDefinitions); f != nil {
		return nil, f
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	k := tableKey{call.Account, call.Region, in.TableName}
	if _, ok := db.tables()[k]; ok {
		return nil, &Fail{status: 400, code: "ResourceInUseException", msg: "Table already exists: " + in.TableName}
	}
	db.tables()[k] = t
	d := t.describe()
	// DynamoDB answers CREATING and the table turns ACTIVE moments later;
	// here it is usable at once, and DescribeTable already says ACTIVE.
	d["TableStatus"] = "CREATING"
	return map[string]any{"TableDescription": d}, nil
}

func (t *table) setKeySchema(ks []keyElem, defs []attrDef) *Fail {
	if len(ks) == 0 || len(ks) > 2 {
		return invalid("1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2")
	}
	for i, k := range ks {
		switch {
		case k.KeyType == "HASH" && i == 0:
			t.hash = k.AttributeName
		case k.KeyType == "RANGE" && i == 1:
			t.rng = k.AttributeName
		case k.KeyType != "HASH" && k.KeyType != "RANGE":
			return invalid("1 validation error detected: Value '%s' at 'keySchema.%d.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]", k.KeyType, i+1)
		default:
			return invalid("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
		}
	}
	for _, d := range defs {
		if !slices.Contains([]string{"S", "N", "B"}, d.AttributeType) {
			return invalid("1 validation error detected: Value '%s' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]", d.AttributeType)
		}
		t.types[d.AttributeName] = d.AttributeType
	}
	keys := []string{t.hash}
	if t.rng != "" {
		keys = append(keys, t.rng)
	}
	for _, k := range keys {
		if _, ok := t.types[k]; !ok {
			return invalid("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", strings.Join(keys, ", "), defNames(defs))
		}
	}
	if len(defs) != len(keys) {
		return invalid("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	return nil
}

func defNames(defs []attrDef) string {
	var n []string
	for _, d := range defs {
		n = append(n, d.AttributeName)
	}
	return strings.Join(n, ", ")
}

func (t *table) keyNames() []string {
	if t.rng == "" {
		return []string{t.hash}
	}
	return []string{t.hash, t.rng}
}

// describe renders a TableDescription; callers hold db.mu.
func (t *table) describe() map[string]any {
	count, size := 0, 0
	for _, part := range t.items {
		for _, it := range part {
			count++
			size += itemSize(it)
		}
	}
	ks := []keyElem{{t.hash, "HASH"}}
	if t.rng != "" {
		ks = append(ks, keyElem{t.rng, "RANGE"})
	}
	d := map[string]any{
		"TableName": t.name, "TableArn": t.arn, "TableId": t.id, "TableStatus": "ACTIVE",
		"KeySchema": ks, "AttributeDefinitions": t.defs,
		"CreationDateTime": float64(t.created.UnixMilli()) / 1000,
		"ItemCount":        count, "TableSizeBytes": size,
		"ProvisionedThroughput":     map[string]any{"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
		"DeletionProtectionEnabled": t.protected,
	}
	if t.billing == "PAY_PER_REQUEST" {
		d["BillingModeSummary"] = map[string]any{
			"BillingMode": "PAY_PER_REQUEST", "LastUpdateToPayPerRequestDateTime": float64(t.created.UnixMilli()) / 1000,
		}
	}
	if t.sse {
		d["SSEDescription"] = map[string]any{"Status": "ENABLED", "SSEType": "KMS"}
	}
	return d
}

type tableNameInput struct {
	TableName string `json:"TableName"`
}

func (db *Service) describeTable(call *Call) (any, *Fail) {
	var in tableNameInput
	if f := decode(call, &in); f != nil {
		return nil, f
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	t, f := db.table(call, in.TableName)
	if f != nil {
		f.msg = "Requested resource not found: Table: " + in.TableName + " not found"
		return nil, f
	}
	return map[string]any{"Table": t.describe()}, nil
}

func (db *Service) deleteTable(call *Call) (any, *Fail) {
	var in tableNameInput
	if f := decode(call, &in); f != nil {
		return nil, f
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	t, f := db.table(call, in.TableName)
	if f != nil {
		f.msg = "Requested resource not found: Table: " + in.TableName + " not found"
		return nil, f
	}
	if t.protected {
		return nil, invalid("1 validation error detected: Table '%s' can't be deleted while DeletionProtectionEnabled is set to True", t.name)
	}
	delete(db.tables(), tableKey{call.Account, call.Region, t.name})
	d := t.describe()
	d["TableStatus"] = "DELETING"
	return map[string]any{"TableDescription": d}, nil
}

// Items returns a copy of every item of a table as plain JSON (DynamoDB's
// wire form, {"pk":{"S":"..."}}), for tests to inspect state.
func (db *Service) Items(account, region, name string) []string {
	db.mu.Lock()
	defer db.mu.Unlock()
	t, ok := db.tables()[tableKey{account, region, name}]
	if !ok {
		return nil
	}
	var out []string
	for _, pk := range slices.Sorted(maps.Keys(t.items)) {
		part := t.items[pk]
		for _, sk := range slices.Sorted(maps.Keys(part)) {
			b, _ := json.Marshal(part[sk])
			out = append(out, string(b))
		}
	}
	return out
}
