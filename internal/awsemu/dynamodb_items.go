package awsemu

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// item is a DynamoDB item on the wire and in the table.
type item = map[string]*av

// keyString encodes a key attribute so equal keys compare equal (numbers
// are canonical, so equal numbers have one spelling).
func keyString(v *av) string {
	if v == nil {
		return ""
	}
	return v.t + ":" + v.s
}

// checkKey validates a Key parameter against the table's key schema.
func (t *ddbTable) checkKey(key item) *ddbFail {
	if len(key) != len(t.keyNames()) {
		return ddbValidation("The provided key element does not match the schema")
	}
	for _, k := range t.keyNames() {
		v, ok := key[k]
		if !ok || v.t != t.types[k] {
			return ddbValidation("The provided key element does not match the schema")
		}
		if (v.t == "S" || v.t == "B") && v.s == "" {
			return ddbValidation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", k)
		}
	}
	return t.checkKeySize(key)
}

func (t *ddbTable) checkKeySize(it item) *ddbFail {
	if len(it[t.hash].s) > 2048 {
		return ddbValidation("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes")
	}
	if t.rng != "" && len(it[t.rng].s) > 1024 {
		return ddbValidation("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
	}
	return nil
}

// checkItem validates a whole item for PutItem.
func (t *ddbTable) checkItem(it item) *ddbFail {
	for _, k := range t.keyNames() {
		v, ok := it[k]
		if !ok {
			return ddbValidation("One or more parameter values were invalid: Missing the key %s in the item", k)
		}
		if v.t != t.types[k] {
			return ddbValidation("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", k, t.types[k], v.t)
		}
		if (v.t == "S" || v.t == "B") && v.s == "" {
			return ddbValidation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", k)
		}
	}
	if itemSize(it) > maxItemSize {
		return ddbValidation("Item size has exceeded the maximum allowed size")
	}
	return t.checkKeySize(it)
}

func (t *ddbTable) keyOf(it item) item {
	k := item{t.hash: it[t.hash].clone()}
	if t.rng != "" {
		k[t.rng] = it[t.rng].clone()
	}
	return k
}

func (t *ddbTable) get(key item) item {
	part := t.items[keyString(key[t.hash])]
	if part == nil {
		return nil
	}
	return part[keyString(key[t.rng])]
}

func (t *ddbTable) put(it item) {
	pk := keyString(it[t.hash])
	part := t.items[pk]
	if part == nil {
		part = map[string]item{}
		t.items[pk] = part
	}
	part[keyString(it[t.rng])] = it
}

func (t *ddbTable) remove(key item) {
	pk := keyString(key[t.hash])
	part := t.items[pk]
	delete(part, keyString(key[t.rng]))
	if len(part) == 0 {
		delete(t.items, pk)
	}
}

// exprInput is what every expression-taking operation shares.
type exprInput struct {
	ConditionExpression       *string           `json:"ConditionExpression"`
	ExpressionAttributeNames  map[string]string `json:"ExpressionAttributeNames"`
	ExpressionAttributeValues map[string]*av    `json:"ExpressionAttributeValues"`
}

// env checks the placeholder maps and returns the environment to parse with.
func (in *exprInput) env() (*exprEnv, *ddbFail) {
	if in.ExpressionAttributeNames != nil && len(in.ExpressionAttributeNames) == 0 {
		return nil, ddbValidation("ExpressionAttributeNames must not be empty")
	}
	if in.ExpressionAttributeValues != nil && len(in.ExpressionAttributeValues) == 0 {
		return nil, ddbValidation("ExpressionAttributeValues must not be empty")
	}
	for k := range in.ExpressionAttributeNames {
		if len(k) < 2 || k[0] != '#' || strings.IndexFunc(k[1:], func(r rune) bool { return r > 127 || !isWordByte(byte(r)) }) >= 0 {
			return nil, ddbValidation("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k)
		}
	}
	for k := range in.ExpressionAttributeValues {
		if len(k) < 2 || k[0] != ':' || strings.IndexFunc(k[1:], func(r rune) bool { return r > 127 || !isWordByte(byte(r)) }) >= 0 {
			return nil, ddbValidation("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k)
		}
	}
	return newExprEnv(in.ExpressionAttributeNames, in.ExpressionAttributeValues), nil
}

// condition parses the optional ConditionExpression.
func (in *exprInput) condition(env *exprEnv) (*condNode, *ddbFail) {
	if in.ConditionExpression == nil {
		return nil, nil
	}
	c, err := parseCondition(*in.ConditionExpression, "ConditionExpression", env)
	if err != nil {
		return nil, ddbErrOf(err)
	}
	return c, nil
}

func conditionFailed(old item, returnOld string) *ddbFail {
	f := &ddbFail{status: 400, code: "ConditionalCheckFailedException", msg: "The conditional request failed"}
	if returnOld == "ALL_OLD" && old != nil {
		f.extra = map[string]any{"Item": old}
	}
	return f
}

func checkReturnOnFailure(v string) *ddbFail {
	if v != "" && v != "NONE" && v != "ALL_OLD" {
		return ddbValidation("1 validation error detected: Value '%s' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]", v)
	}
	return nil
}

type putInput struct {
	exprInput
	TableName    string `json:"TableName"`
	Item         item   `json:"Item"`
	ReturnValues string `json:"ReturnValues"`
	ReturnOnFail string `json:"ReturnValuesOnConditionCheckFailure"`
}

func (s *Server) ddbPutItem(req *request) (any, *ddbFail) {
	var in putInput
	if f := decodeDDB(req, &in); f != nil {
		return nil, f
	}
	if in.ReturnValues != "" && in.ReturnValues != "NONE" && in.ReturnValues != "ALL_OLD" {
		return nil, ddbValidation("ReturnValues can only be ALL_OLD or NONE")
	}
	if f := checkReturnOnFailure(in.ReturnOnFail); f != nil {
		return nil, f
	}
	env, f := in.env()
	if f != nil {
		return nil, f
	}
	cond, f := in.condition(env)
	if f != nil {
		return nil, f
	}
	if e := env.unused(); e != nil {
		return nil, ddbErrOf(e)
	}
	forced := s.raceIf(req, cond != nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, f := s.table(req, in.TableName)
	if f != nil {
		return nil, f
	}
	if f := t.checkItem(in.Item); f != nil {
		return nil, f
	}
	old := t.get(in.Item)
	if cond != nil && (forced || !cond.holds(old)) {
		return nil, conditionFailed(old, in.ReturnOnFail)
	}
	t.put(cloneItem(in.Item))
	if in.ReturnValues == "ALL_OLD" && old != nil {
		return map[string]any{"Attributes": old}, nil
	}
	return struct{}{}, nil
}

type getInput struct {
	TableName                string            `json:"TableName"`
	Key                      item              `json:"Key"`
	ConsistentRead           bool              `json:"ConsistentRead"`
	ProjectionExpression     *string           `json:"ProjectionExpression"`
	ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames"`
}

func projectionOf(expr *string, names map[string]string, env *exprEnv) ([]docPath, *ddbFail) {
	if expr == nil {
		if names != nil {
			return nil, ddbValidation("ExpressionAttributeNames can only be specified when using expressions")
		}
		return nil, nil
	}
	paths, err := parseProjection(*expr, env)
	if err != nil {
		return nil, ddbErrOf(err)
	}
	return paths, nil
}

func (s *Server) ddbGetItem(req *request) (any, *ddbFail) {
	var in getInput
	if f := decodeDDB(req, &in); f != nil {
		return nil, f
	}
	ei := exprInput{ExpressionAttributeNames: in.ExpressionAttributeNames}
	env, f := ei.env()
	if f != nil {
		return nil, f
	}
	paths, f := projectionOf(in.ProjectionExpression, in.ExpressionAttributeNames, env)
	if f != nil {
		return nil, f
	}
	if e := env.unused(); e != nil {
		return nil, ddbErrOf(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, f := s.table(req, in.TableName)
	if f != nil {
		return nil, f
	}
	if f := t.checkKey(in.Key); f != nil {
		return nil, f
	}
	it := t.get(in.Key)
	if it == nil {
		return struct{}{}, nil
	}
	return map[string]any{"Item": project(it, paths)}, nil
}

type updateInput struct {
	exprInput
	TableName        string  `json:"TableName"`
	Key              item    `json:"Key"`
	UpdateExpression *string `json:"UpdateExpression"`
	ReturnValues     string  `json:"ReturnValues"`
	ReturnOnFail     string  `json:"ReturnValuesOnConditionCheckFailure"`
}

// parsed parses an update's expressions and checks their placeholders.
func (in *updateInput) parsed() (*condNode, []updateAction, *ddbFail) {
	env, f := in.env()
	if f != nil {
		return nil, nil, f
	}
	var actions []updateAction
	if in.UpdateExpression != nil {
		a, err := parseUpdate(*in.UpdateExpression, env)
		if err != nil {
			return nil, nil, ddbErrOf(err)
		}
		actions = a
	}
	cond, f := in.condition(env)
	if f != nil {
		return nil, nil, f
	}
	if e := env.unused(); e != nil {
		return nil, nil, ddbErrOf(e)
	}
	return cond, actions, nil
}

func (s *Server) ddbUpdateItem(req *request) (any, *ddbFail) {
	var in updateInput
	if f := decodeDDB(req, &in); f != nil {
		return nil, f
	}
	switch in.ReturnValues {
	case "", "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW":
	default:
		return nil, ddbValidation("1 validation error detected: Value '%s' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]", in.ReturnValues)
	}
	if f := checkReturnOnFailure(in.ReturnOnFail); f != nil {
		return nil, f
	}
	cond, actions, f := in.parsed()
	if f != nil {
		return nil, f
	}
	forced := s.raceIf(req, cond != nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, f := s.table(req, in.TableName)
	if f != nil {
		return nil, f
	}
	if f := t.checkKey(in.Key); f != nil {
		return nil, f
	}
	old := t.get(in.Key)
	if cond != nil && (forced || !cond.holds(old)) {
		return nil, conditionFailed(old, in.ReturnOnFail)
	}
	base := old
	if base == nil {
		base = cloneItem(in.Key)
	}
	next, err := applyUpdate(base, actions, t.keyNames())
	if err != nil {
		return nil, ddbErrOf(err)
	}
	if itemSize(next) > maxItemSize {
		return nil, ddbValidation("Item size to update has exceeded the maximum allowed size")
	}
	t.put(next)
	return updateReturn(in.ReturnValues, old, next, actions), nil
}

// updateReturn renders ReturnValues. UPDATED_* return the updated top-level
// attributes whole (DynamoDB returns only the updated nested parts).
func updateReturn(rv string, old, next item, actions []updateAction) any {
	touched := func(src item) item {
		out := item{}
		for _, a := range actions {
			if v, ok := src[a.path[0].name]; ok {
				out[a.path[0].name] = v
			}
		}
		return out
	}
	var attrs item
	switch rv {
	case "ALL_OLD":
		attrs = old
	case "ALL_NEW":
		attrs = next
	case "UPDATED_OLD":
		if old != nil {
			attrs = touched(old)
		}
	case "UPDATED_NEW":
		attrs = touched(next)
	}
	if len(attrs) == 0 {
		return struct{}{}
	}
	return map[string]any{"Attributes": cloneItem(attrs)}
}

type deleteInput struct {
	exprInput
	TableName    string `json:"TableName"`
	Key          item   `json:"Key"`
	ReturnValues string `json:"ReturnValues"`
	ReturnOnFail string `json:"ReturnValuesOnConditionCheckFailure"`
}

func (s *Server) ddbDeleteItem(req *request) (any, *ddbFail) {
	var in deleteInput
	if f := decodeDDB(req, &in); f != nil {
		return nil, f
	}
	if in.ReturnValues != "" && in.ReturnValues != "NONE" && in.ReturnValues != "ALL_OLD" {
		return nil, ddbValidation("ReturnValues can only be ALL_OLD or NONE")
	}
	if f := checkReturnOnFailure(in.ReturnOnFail); f != nil {
		return nil, f
	}
	env, f := in.env()
	if f != nil {
		return nil, f
	}
	cond, f := in.condition(env)
	if f != nil {
		return nil, f
	}
	if e := env.unused(); e != nil {
		return nil, ddbErrOf(e)
	}
	forced := s.raceIf(req, cond != nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, f := s.table(req, in.TableName)
	if f != nil {
		return nil, f
	}
	if f := t.checkKey(in.Key); f != nil {
		return nil, f
	}
	old := t.get(in.Key)
	if cond != nil && (forced || !cond.holds(old)) {
		return nil, conditionFailed(old, in.ReturnOnFail)
	}
	if old != nil {
		t.remove(in.Key)
	}
	if in.ReturnValues == "ALL_OLD" && old != nil {
		return map[string]any{"Attributes": old}, nil
	}
	return struct{}{}, nil
}

// --- Query -------------------------------------------------------------------

type queryInput struct {
	exprInput
	TableName              string  `json:"TableName"`
	IndexName              *string `json:"IndexName"`
	KeyConditionExpression *string `json:"KeyConditionExpression"`
	FilterExpression       *string `json:"FilterExpression"`
	ProjectionExpression   *string `json:"ProjectionExpression"`
	ScanIndexForward       *bool   `json:"ScanIndexForward"`
	Limit                  *int    `json:"Limit"`
	ExclusiveStartKey      item    `json:"ExclusiveStartKey"`
	ConsistentRead         bool    `json:"ConsistentRead"`
	Select                 string  `json:"Select"`
}

// keyCond is a Query's key condition: the partition key value and an
// optional sort key condition.
type keyCond struct {
	hash *av
	sort *condNode // nil: the whole partition
}

// keyCondition checks a parsed KeyConditionExpression against the schema.
func (t *ddbTable) keyCondition(n *condNode) (keyCond, *ddbFail) {
	var parts []*condNode
	var flatten func(n *condNode) *ddbFail
	flatten = func(n *condNode) *ddbFail {
		switch n.op {
		case "and":
			for _, k := range n.kids {
				if f := flatten(k); f != nil {
					return f
				}
			}
		case "or", "not":
			return ddbValidation("Invalid operator used in KeyConditionExpression: %s", strings.ToUpper(n.op))
		default:
			parts = append(parts, n)
		}
		return nil
	}
	if f := flatten(n); f != nil {
		return keyCond{}, f
	}
	var kc keyCond
	for _, p := range parts {
		attr, f := t.keyAttrOf(p)
		if f != nil {
			return keyCond{}, f
		}
		for _, o := range p.operands[1:] {
			if o.kind == opdValue && o.value.t != t.types[attr] {
				return keyCond{}, ddbValidation("One or more parameter values were invalid: Condition parameter type does not match schema type")
			}
		}
		switch {
		case attr == t.hash:
			if kc.hash != nil {
				return keyCond{}, ddbValidation("KeyConditionExpressions must only contain one condition per key")
			}
			if p.op != "cmp" || p.cmp != "=" {
				return keyCond{}, ddbValidation("Query key condition not supported")
			}
			kc.hash = p.operands[1].value
		default:
			if kc.sort != nil {
				return keyCond{}, ddbValidation("KeyConditionExpressions must only contain one condition per key")
			}
			kc.sort = p
		}
	}
	if kc.hash == nil {
		return keyCond{}, ddbValidation("Query condition missed key schema element: %s", t.hash)
	}
	return kc, nil
}

// keyAttrOf returns the key attribute a single key condition is about.
func (t *ddbTable) keyAttrOf(p *condNode) (string, *ddbFail) {
	switch {
	case p.op == "cmp" && p.cmp == "<>":
		return "", ddbValidation("Unsupported operator on KeyConditionExpression: operator: <>")
	case p.op == "cmp", p.op == "between", p.op == "func" && p.fn == "begins_with":
	default:
		return "", ddbValidation("Query key condition not supported")
	}
	lhs := p.operands[0]
	if lhs.kind != opdPath || len(lhs.path) != 1 || lhs.path[0].isIdx {
		return "", ddbValidation("Query key condition not supported")
	}
	for _, o := range p.operands[1:] {
		if o.kind != opdValue {
			return "", ddbValidation("Query key condition not supported")
		}
	}
	attr := lhs.path[0].name
	if attr != t.hash && attr != t.rng {
		return "", ddbValidation("Query condition missed key schema element: %s", t.hash)
	}
	if attr == t.hash && p.op == "func" {
		return "", ddbValidation("Query key condition not supported")
	}
	return attr, nil
}

// maxPage is DynamoDB's 1 MB limit on the data one Query evaluates.
const maxPage = 1 << 20

func (s *Server) ddbQuery(req *request) (any, *ddbFail) {
	var in queryInput
	if f := decodeDDB(req, &in); f != nil {
		return nil, f
	}
	if in.IndexName != nil {
		return nil, ddbValidation("The table does not have the specified index: %s", *in.IndexName)
	}
	if in.KeyConditionExpression == nil {
		return nil, ddbValidation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	if in.Limit != nil && *in.Limit < 1 {
		return nil, ddbValidation("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit)
	}
	if in.ConditionExpression != nil {
		return nil, ddbValidation("ConditionExpression is not a Query parameter")
	}
	env, f := in.env()
	if f != nil {
		return nil, f
	}
	kcNode, err := parseCondition(*in.KeyConditionExpression, "KeyConditionExpression", env)
	if err != nil {
		return nil, ddbErrOf(err)
	}
	var filter *condNode
	if in.FilterExpression != nil {
		if filter, err = parseCondition(*in.FilterExpression, "FilterExpression", env); err != nil {
			return nil, ddbErrOf(err)
		}
	}
	paths, f := projectionOf(in.ProjectionExpression, nil, env)
	if f != nil {
		return nil, f
	}
	if e := env.unused(); e != nil {
		return nil, ddbErrOf(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, f := s.table(req, in.TableName)
	if f != nil {
		return nil, f
	}
	kc, f := t.keyCondition(kcNode)
	if f != nil {
		return nil, f
	}
	if filter != nil {
		if f := t.filterOnKeys(filter); f != nil {
			return nil, f
		}
	}
	forward := in.ScanIndexForward == nil || *in.ScanIndexForward
	var rows []item
	for _, it := range t.items[keyString(kc.hash)] {
		if kc.sort == nil || kc.sort.holds(it) {
			rows = append(rows, it)
		}
	}
	slices.SortFunc(rows, func(a, b item) int {
		c, _ := compareAV(a[t.rng], b[t.rng])
		if !forward {
			c = -c
		}
		return c
	})
	if in.ExclusiveStartKey != nil {
		if f := t.checkKey(in.ExclusiveStartKey); f != nil {
			return nil, ddbValidation("The provided starting key is invalid: The provided key element does not match the schema")
		}
		if !equalAV(in.ExclusiveStartKey[t.hash], kc.hash) {
			// Unconfirmed how DynamoDB words this; it refuses the request.
			return nil, ddbValidation("The provided starting key is outside query boundaries based on provided conditions")
		}
		start := in.ExclusiveStartKey[t.rng]
		rows = slices.DeleteFunc(rows, func(it item) bool {
			if t.rng == "" {
				return true
			}
			c, _ := compareAV(it[t.rng], start)
			if forward {
				return c <= 0
			}
			return c >= 0
		})
	}
	out := map[string]any{}
	var items []item
	scanned, size := 0, 0
	for _, it := range rows {
		// DynamoDB stops when the limit is reached, without looking further:
		// a page can carry a LastEvaluatedKey and the next page be empty.
		if in.Limit != nil && scanned == *in.Limit || size >= maxPage {
			break
		}
		scanned++
		size += itemSize(it)
		if filter == nil || filter.holds(it) {
			items = append(items, project(it, paths))
		}
		if in.Limit != nil && scanned == *in.Limit || size >= maxPage {
			out["LastEvaluatedKey"] = t.keyOf(it)
		}
	}
	out["Count"] = len(items)
	out["ScannedCount"] = scanned
	if in.Select != "COUNT" {
		if items == nil {
			items = []item{}
		}
		out["Items"] = cloneItems(items)
	}
	return out, nil
}

// filterOnKeys refuses a filter on a key attribute, as DynamoDB does.
func (t *ddbTable) filterOnKeys(n *condNode) *ddbFail {
	var walk func(n *condNode) *ddbFail
	walk = func(n *condNode) *ddbFail {
		for _, k := range n.kids {
			if f := walk(k); f != nil {
				return f
			}
		}
		for _, o := range n.operands {
			if (o.kind == opdPath || o.kind == opdSize) && len(o.path) == 1 && slices.Contains(t.keyNames(), o.path[0].name) {
				return ddbValidation("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", o.path[0].name)
			}
		}
		return nil
	}
	return walk(n)
}

func cloneItems(in []item) []item {
	out := make([]item, len(in))
	for i, it := range in {
		out[i] = cloneItem(it)
	}
	return out
}

// --- batches -------------------------------------------------------------------

type writeRequest struct {
	PutRequest *struct {
		Item item `json:"Item"`
	} `json:"PutRequest"`
	DeleteRequest *struct {
		Key item `json:"Key"`
	} `json:"DeleteRequest"`
}

func (s *Server) ddbBatchWriteItem(req *request) (any, *ddbFail) {
	var in struct {
		RequestItems map[string][]writeRequest `json:"RequestItems"`
	}
	if f := decodeDDB(req, &in); f != nil {
		return nil, f
	}
	total := 0
	for _, reqs := range in.RequestItems {
		total += len(reqs)
	}
	if total == 0 {
		return nil, ddbValidation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if total > 25 {
		return nil, ddbValidation("Too many items requested for the BatchWriteItem call")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	type op struct {
		t   *ddbTable
		put item
		key item
	}
	var ops []op
	for _, name := range slices.Sorted(maps.Keys(in.RequestItems)) {
		t, f := s.table(req, name)
		if f != nil {
			return nil, f
		}
		seen := map[string]bool{}
		for _, w := range in.RequestItems[name] {
			var o op
			switch {
			case w.PutRequest != nil && w.DeleteRequest == nil:
				if f := t.checkItem(w.PutRequest.Item); f != nil {
					return nil, f
				}
				o = op{t: t, put: w.PutRequest.Item, key: t.keyOf(w.PutRequest.Item)}
			case w.DeleteRequest != nil && w.PutRequest == nil:
				if f := t.checkKey(w.DeleteRequest.Key); f != nil {
					return nil, f
				}
				o = op{t: t, key: w.DeleteRequest.Key}
			default:
				return nil, ddbValidation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
			}
			k := keyString(o.key[t.hash]) + "\x00" + keyString(o.key[t.rng])
			if seen[k] {
				return nil, ddbValidation("Provided list of item keys contains duplicates")
			}
			seen[k] = true
			ops = append(ops, o)
		}
	}
	for _, o := range ops {
		if o.put != nil {
			o.t.put(cloneItem(o.put))
		} else {
			o.t.remove(o.key)
		}
	}
	return map[string]any{"UnprocessedItems": map[string]any{}}, nil
}

func (s *Server) ddbBatchGetItem(req *request) (any, *ddbFail) {
	var in struct {
		RequestItems map[string]struct {
			Keys                     []item            `json:"Keys"`
			ConsistentRead           bool              `json:"ConsistentRead"`
			ProjectionExpression     *string           `json:"ProjectionExpression"`
			ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames"`
		} `json:"RequestItems"`
	}
	if f := decodeDDB(req, &in); f != nil {
		return nil, f
	}
	total := 0
	for _, r := range in.RequestItems {
		total += len(r.Keys)
	}
	if total == 0 {
		return nil, ddbValidation("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if total > 100 {
		return nil, ddbValidation("Too many items requested for the BatchGetItem call")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	responses := map[string][]item{}
	for _, name := range slices.Sorted(maps.Keys(in.RequestItems)) {
		r := in.RequestItems[name]
		t, f := s.table(req, name)
		if f != nil {
			return nil, f
		}
		ei := exprInput{ExpressionAttributeNames: r.ExpressionAttributeNames}
		env, f := ei.env()
		if f != nil {
			return nil, f
		}
		paths, f := projectionOf(r.ProjectionExpression, r.ExpressionAttributeNames, env)
		if f != nil {
			return nil, f
		}
		if e := env.unused(); e != nil {
			return nil, ddbErrOf(e)
		}
		seen := map[string]bool{}
		found := []item{}
		for _, k := range r.Keys {
			if f := t.checkKey(k); f != nil {
				return nil, f
			}
			ks := keyString(k[t.hash]) + "\x00" + keyString(k[t.rng])
			if seen[ks] {
				return nil, ddbValidation("Provided list of item keys contains duplicates")
			}
			seen[ks] = true
			if it := t.get(k); it != nil {
				found = append(found, cloneItem(project(it, paths)))
			}
		}
		// DynamoDB answers a batch in no particular order.
		slices.SortFunc(found, func(a, b item) int {
			return cmp.Compare(keyString(a[t.hash])+"\x00"+keyString(a[t.rng]), keyString(b[t.hash])+"\x00"+keyString(b[t.rng]))
		})
		responses[t.name] = found
	}
	return map[string]any{"Responses": responses, "UnprocessedKeys": map[string]any{}}, nil
}
