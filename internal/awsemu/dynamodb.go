package awsemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DynamoDB: the subset the run ledger uses, on the JSON 1.0 protocol
// (X-Amz-Target: DynamoDB_20120810.<Op>). Tables live per account and
// Region. Tables have a partition key and an optional sort key; secondary
// indexes, streams and Scan are not emulated.
//
// TTL is recorded (DescribeTimeToLive answers it) but items are never
// expired: DynamoDB deletes expired items lazily, up to days after they
// expire, so a reader must filter by time itself. moto does the same.

const ddbTargetPrefix = "DynamoDB_20120810."

// ddbFail is a DynamoDB error answer; extra fields (CancellationReasons,
// Item) go into the JSON body beside __type and message.
type ddbFail struct {
	status int
	code   string
	msg    string
	extra  map[string]any
}

func ddbErrOf(e *ddbError) *ddbFail { return &ddbFail{status: 400, code: e.code, msg: e.msg} }

func ddbNotFound() *ddbFail {
	return &ddbFail{status: 400, code: "ResourceNotFoundException", msg: "Requested resource not found"}
}

func ddbValidation(format string, args ...any) *ddbFail {
	return ddbErrOf(validationErr(format, args...))
}

// ddbNamespaces are the __type prefixes DynamoDB answers with: coral's for
// the generic errors, DynamoDB's own for the service's.
var ddbNamespaces = map[string]string{
	"ValidationException":                 "com.amazon.coral.validate#",
	"SerializationException":              "com.amazon.coral.service#",
	"UnknownOperationException":           "com.amazon.coral.service#",
	"AccessDeniedException":               "com.amazon.coral.service#",
	"UnrecognizedClientException":         "com.amazon.coral.service#",
	"MissingAuthenticationTokenException": "com.amazon.coral.service#",
	"IncompleteSignatureException":        "com.amazon.coral.service#",
	"ThrottlingException":                 "com.amazon.coral.availability#",
}

func ddbType(code string) string {
	if ns, ok := ddbNamespaces[code]; ok {
		return ns + code
	}
	return "com.amazonaws.dynamodb.v20120810#" + code
}

type ddbHandler struct {
	write bool
	fn    func(s *Server, req *request) (any, *ddbFail)
}

var ddbOps = map[string]ddbHandler{
	"CreateTable":        {write: true, fn: (*Server).ddbCreateTable},
	"DescribeTable":      {fn: (*Server).ddbDescribeTable},
	"DeleteTable":        {write: true, fn: (*Server).ddbDeleteTable},
	"UpdateTimeToLive":   {write: true, fn: (*Server).ddbUpdateTimeToLive},
	"DescribeTimeToLive": {fn: (*Server).ddbDescribeTimeToLive},
	"PutItem":            {write: true, fn: (*Server).ddbPutItem},
	"GetItem":            {fn: (*Server).ddbGetItem},
	"UpdateItem":         {write: true, fn: (*Server).ddbUpdateItem},
	"DeleteItem":         {write: true, fn: (*Server).ddbDeleteItem},
	"Query":              {fn: (*Server).ddbQuery},
	"BatchWriteItem":     {write: true, fn: (*Server).ddbBatchWriteItem},
	"BatchGetItem":       {fn: (*Server).ddbBatchGetItem},
	"TransactWriteItems": {write: true, fn: (*Server).ddbTransactWriteItems},
}

// serveDynamoDB answers one DynamoDB call: faults first, then the operation,
// then the answer with DynamoDB's headers and error shape.
func (s *Server) serveDynamoDB(w http.ResponseWriter, req *request) {
	req.protocol = protoJSON
	target := req.r.Header.Get("X-Amz-Target")
	req.op = strings.TrimPrefix(target, ddbTargetPrefix)
	h, ok := ddbOps[req.op]
	if !ok || !strings.HasPrefix(target, ddbTargetPrefix) {
		s.ddbFinish(w, req, nil, &ddbFail{status: 400, code: "UnknownOperationException", msg: ""}, false)
		return
	}
	if e := s.applyFaults(req); e != nil {
		s.ddbFinish(w, req, nil, &ddbFail{status: e.status, code: e.code, msg: e.message}, h.write)
		return
	}
	if e := regionCheckJSON(s, req); e != nil {
		s.ddbFinish(w, req, nil, &ddbFail{status: e.status, code: e.code, msg: e.message}, h.write)
		return
	}
	out, f := h.fn(s, req)
	s.ddbFinish(w, req, out, f, h.write)
}

func (s *Server) ddbFinish(w http.ResponseWriter, req *request, out any, f *ddbFail, write bool) {
	status, code := http.StatusOK, ""
	var body []byte
	if f != nil {
		status, code = f.status, f.code
		m := map[string]any{"__type": ddbType(f.code)}
		for k, v := range f.extra {
			m[k] = v
		}
		// TransactionCanceledException spells its message "Message"; every
		// other DynamoDB error "message".
		if f.code == "TransactionCanceledException" {
			m["Message"] = f.msg
		} else if f.msg != "" {
			m["message"] = f.msg
		}
		body, _ = json.Marshal(m)
	} else {
		if out == nil {
			out = struct{}{}
		}
		var err error
		body, err = json.Marshal(out)
		if err != nil {
			status, code = 500, "InternalServerError"
			body = []byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}`)
		}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-RequestId", req.id)
	// The SDK checks this header against the body when present.
	w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	s.logCall(req, Call{
		Service: req.service, Operation: req.op, Region: req.region, Account: req.account,
		Caller: req.caller, Status: status, ErrorCode: code, Write: write,
	})
}

// decodeDDB decodes a request body, keeping DynamoDB's own validation
// errors (an empty AttributeValue, a bad number) as they are.
func decodeDDB(req *request, into any) *ddbFail {
	if len(req.body) == 0 {
		return &ddbFail{status: 400, code: "SerializationException", msg: "Start of structure or map found where not expected"}
	}
	if err := json.Unmarshal(req.body, into); err != nil {
		var de *ddbError
		if errors.As(err, &de) {
			return ddbErrOf(de)
		}
		return &ddbFail{status: 400, code: "SerializationException", msg: "Start of structure or map found where not expected"}
	}
	return nil
}

// --- tables ----------------------------------------------------------------

type ddbTableKey struct{ account, region, name string }

type ddbTable struct {
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

// ddbTables returns the table map, creating it; callers hold s.mu.
func (s *Server) ddbTables() map[ddbTableKey]*ddbTable {
	if s.dynamo == nil {
		s.dynamo = map[ddbTableKey]*ddbTable{}
	}
	return s.dynamo
}

// table finds a table of the caller's account and Region; callers hold s.mu.
func (s *Server) table(req *request, name string) (*ddbTable, *ddbFail) {
	if name == "" {
		return nil, ddbValidation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	t, ok := s.ddbTables()[ddbTableKey{req.account, req.region, tableNameOf(name)}]
	if !ok {
		return nil, ddbNotFound()
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

func (s *Server) ddbCreateTable(req *request) (any, *ddbFail) {
	var in createTableInput
	if f := decodeDDB(req, &in); f != nil {
		return nil, f
	}
	if !tableNameRE.MatchString(in.TableName) {
		return nil, ddbValidation("1 validation error detected: Value '%s' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", in.TableName)
	}
	if in.GlobalSecondaryIndexes != nil || in.LocalSecondaryIndexes != nil {
		return nil, ddbValidation("secondary indexes are not emulated")
	}
	switch in.BillingMode {
	case "PAY_PER_REQUEST":
		if in.ProvisionedThroughput != nil {
			return nil, ddbValidation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
	case "", "PROVISIONED":
		if in.ProvisionedThroughput == nil {
			return nil, ddbValidation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
		}
		in.BillingMode = "PROVISIONED"
	default:
		return nil, ddbValidation("1 validation error detected: Value '%s' at 'billingMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", in.BillingMode)
	}
	t := &ddbTable{
		name: in.TableName, billing: in.BillingMode, types: map[string]string{},
		defs: in.AttributeDefinitions, protected: in.DeletionProtectionEnabled,
		items: map[string]map[string]map[string]*av{}, tokens: map[string]txToken{},
		created: time.Now().UTC(), id: newRequestID(),
	}
	t.arn = fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", partitionOf(req.region), req.region, req.account, in.TableName)
	if in.SSESpecification != nil && in.SSESpecification.Enabled != nil && *in.SSESpecification.Enabled {
		t.sse = true
	}
	if f := t.setKeySchema(in.KeySchema, in.AttributeDefinitions); f != nil {
		return nil, f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := ddbTableKey{req.account, req.region, in.TableName}
	if _, ok := s.ddbTables()[k]; ok {
		return nil, &ddbFail{status: 400, code: "ResourceInUseException", msg: "Table already exists: " + in.TableName}
	}
	s.ddbTables()[k] = t
	d := t.describe()
	// DynamoDB answers CREATING and the table turns ACTIVE moments later;
	// here it is usable at once, and DescribeTable already says ACTIVE.
	d["TableStatus"] = "CREATING"
	return map[string]any{"TableDescription": d}, nil
}

func (t *ddbTable) setKeySchema(ks []keyElem, defs []attrDef) *ddbFail {
	if len(ks) == 0 || len(ks) > 2 {
		return ddbValidation("1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2")
	}
	for i, k := range ks {
		switch {
		case k.KeyType == "HASH" && i == 0:
			t.hash = k.AttributeName
		case k.KeyType == "RANGE" && i == 1:
			t.rng = k.AttributeName
		case k.KeyType != "HASH" && k.KeyType != "RANGE":
			return ddbValidation("1 validation error detected: Value '%s' at 'keySchema.%d.member.keyType' failed to satisfy constraint: Member must satisfy enum value set: [HASH, RANGE]", k.KeyType, i+1)
		default:
			return ddbValidation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
		}
	}
	for _, d := range defs {
		if !slices.Contains([]string{"S", "N", "B"}, d.AttributeType) {
			return ddbValidation("1 validation error detected: Value '%s' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]", d.AttributeType)
		}
		t.types[d.AttributeName] = d.AttributeType
	}
	keys := []string{t.hash}
	if t.rng != "" {
		keys = append(keys, t.rng)
	}
	for _, k := range keys {
		if _, ok := t.types[k]; !ok {
			return ddbValidation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: [%s]", strings.Join(keys, ", "), defNames(defs))
		}
	}
	if len(defs) != len(keys) {
		return ddbValidation("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
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

func (t *ddbTable) keyNames() []string {
	if t.rng == "" {
		return []string{t.hash}
	}
	return []string{t.hash, t.rng}
}

// describe renders a TableDescription; callers hold s.mu.
func (t *ddbTable) describe() map[string]any {
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

func (s *Server) ddbDescribeTable(req *request) (any, *ddbFail) {
	var in tableNameInput
	if f := decodeDDB(req, &in); f != nil {
		return nil, f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, f := s.table(req, in.TableName)
	if f != nil {
		f.msg = "Requested resource not found: Table: " + in.TableName + " not found"
		return nil, f
	}
	return map[string]any{"Table": t.describe()}, nil
}

func (s *Server) ddbDeleteTable(req *request) (any, *ddbFail) {
	var in tableNameInput
	if f := decodeDDB(req, &in); f != nil {
		return nil, f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, f := s.table(req, in.TableName)
	if f != nil {
		f.msg = "Requested resource not found: Table: " + in.TableName + " not found"
		return nil, f
	}
	if t.protected {
		return nil, ddbValidation("1 validation error detected: Table '%s' can't be deleted while DeletionProtectionEnabled is set to True", t.name)
	}
	delete(s.ddbTables(), ddbTableKey{req.account, req.region, t.name})
	d := t.describe()
	d["TableStatus"] = "DELETING"
	return map[string]any{"TableDescription": d}, nil
}

func (s *Server) ddbUpdateTimeToLive(req *request) (any, *ddbFail) {
	var in struct {
		TableName string `json:"TableName"`
		Spec      *struct {
			Enabled       *bool  `json:"Enabled"`
			AttributeName string `json:"AttributeName"`
		} `json:"TimeToLiveSpecification"`
	}
	if f := decodeDDB(req, &in); f != nil {
		return nil, f
	}
	if in.Spec == nil || in.Spec.Enabled == nil || in.Spec.AttributeName == "" {
		return nil, ddbValidation("1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, f := s.table(req, in.TableName)
	if f != nil {
		return nil, f
	}
	switch {
	case *in.Spec.Enabled && t.ttlEnabled:
		return nil, ddbValidation("TimeToLive is already enabled")
	case !*in.Spec.Enabled && !t.ttlEnabled:
		return nil, ddbValidation("TimeToLive is already disabled")
	case !*in.Spec.Enabled && in.Spec.AttributeName != t.ttlAttr:
		return nil, ddbValidation("TimeToLive is enabled on a different attribute name")
	}
	t.ttlEnabled, t.ttlAttr = *in.Spec.Enabled, in.Spec.AttributeName
	return map[string]any{"TimeToLiveSpecification": map[string]any{"Enabled": t.ttlEnabled, "AttributeName": t.ttlAttr}}, nil
}

func (s *Server) ddbDescribeTimeToLive(req *request) (any, *ddbFail) {
	var in tableNameInput
	if f := decodeDDB(req, &in); f != nil {
		return nil, f
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, f := s.table(req, in.TableName)
	if f != nil {
		return nil, f
	}
	// DynamoDB reports ENABLING for up to an hour; here the change is immediate.
	d := map[string]any{"TimeToLiveStatus": "DISABLED"}
	if t.ttlEnabled {
		d = map[string]any{"TimeToLiveStatus": "ENABLED", "AttributeName": t.ttlAttr}
	}
	return map[string]any{"TimeToLiveDescription": d}, nil
}

// TableItems returns a copy of every item of a table as plain JSON
// (DynamoDB's wire form, {"pk":{"S":"..."}}), for tests to inspect state.
func (s *Server) TableItems(account, region, table string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.ddbTables()[ddbTableKey{account, region, table}]
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
