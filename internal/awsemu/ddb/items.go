package ddb

import (
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
func (t *table) checkKey(key item) *Fail {
	if len(key) != len(t.keyNames()) {
		return invalid("The provided key element does not match the schema")
	}
	for _, k := range t.keyNames() {
		v, ok := key[k]
		if !ok || v.t != t.types[k] {
			return invalid("The provided key element does not match the schema")
		}
		if (v.t == "S" || v.t == "B") && v.s == "" {
			return invalid("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", k)
		}
	}
	return t.checkKeySize(key)
}

func (t *table) checkKeySize(it item) *Fail {
	if len(it[t.hash].s) > 2048 {
		return invalid("One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes")
	}
	if t.rng != "" && len(it[t.rng].s) > 1024 {
		return invalid("One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
	}
	return nil
}

// checkItem validates a whole item for PutItem.
func (t *table) checkItem(it item) *Fail {
	for _, k := range t.keyNames() {
		v, ok := it[k]
		if !ok {
			return invalid("One or more parameter values were invalid: Missing the key %s in the item", k)
		}
		if v.t != t.types[k] {
			return invalid("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s", k, t.types[k], v.t)
		}
		if (v.t == "S" || v.t == "B") && v.s == "" {
			return invalid("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", k)
		}
	}
	if itemSize(it) > maxItemSize {
		return invalid("Item size has exceeded the maximum allowed size")
	}
	return t.checkKeySize(it)
}

func (t *table) keyOf(it item) item {
	k := item{t.hash: it[t.hash].clone()}
	if t.rng != "" {
		k[t.rng] = it[t.rng].clone()
	}
	return k
}

func (t *table) get(key item) item {
	part := t.items[keyString(key[t.hash])]
	if part == nil {
		return nil
	}
	return part[keyString(key[t.rng])]
}

func (t *table) put(it item) {
	pk := keyString(it[t.hash])
	part := t.items[pk]
	if part == nil {
		part = map[string]item{}
		t.items[pk] = part
	}
	part[keyString(it[t.rng])] = it
}

func (t *table) remove(key item) {
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
func (in *exprInput) env() (*exprEnv, *Fail) {
	if in.ExpressionAttributeNames != nil && len(in.ExpressionAttributeNames) == 0 {
		return nil, invalid("ExpressionAttributeNames must not be empty")
	}
	if in.ExpressionAttributeValues != nil && len(in.ExpressionAttributeValues) == 0 {
		return nil, invalid("ExpressionAttributeValues must not be empty")
	}
	for k := range in.ExpressionAttributeNames {
		if len(k) < 2 || k[0] != '#' || strings.IndexFunc(k[1:], func(r rune) bool { return r > 127 || !isWordByte(byte(r)) }) >= 0 {
			return nil, invalid("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k)
		}
	}
	for k := range in.ExpressionAttributeValues {
		if len(k) < 2 || k[0] != ':' || strings.IndexFunc(k[1:], func(r rune) bool { return r > 127 || !isWordByte(byte(r)) }) >= 0 {
			return nil, invalid("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k)
		}
	}
	return newExprEnv(in.ExpressionAttributeNames, in.ExpressionAttributeValues), nil
}

// condition parses the optional ConditionExpression.
func (in *exprInput) condition(env *exprEnv) (*condNode, *Fail) {
	if in.ConditionExpression == nil {
		return nil, nil
	}
	c, err := parseCondition(*in.ConditionExpression, "ConditionExpression", env)
	if err != nil {
		return nil, failOf(err)
	}
	return c, nil
}

func conditionFailed(old item, returnOld string) *Fail {
	f := &Fail{status: 400, code: "ConditionalCheckFailedException", msg: "The conditional request failed"}
	if returnOld == "ALL_OLD" && old != nil {
		f.extra = map[string]any{"Item": old}
	}
	return f
}

func checkReturnOnFailure(v string) *Fail {
	if v != "" && v != "NONE" && v != "ALL_OLD" {
		return invalid("1 validation error detected: Value '%s' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]", v)
	}
	return nil
}

// writeCondition checks what PutItem and DeleteItem share (ReturnValues is
// NONE or ALL_OLD) and compiles their condition, nil for none.
func (in *exprInput) writeCondition(returnValues, returnOnFail string) (*condNode, *Fail) {
	if returnValues != "" && returnValues != "NONE" && returnValues != "ALL_OLD" {
		return nil, invalid("ReturnValues can only be ALL_OLD or NONE")
	}
	if f := checkReturnOnFailure(returnOnFail); f != nil {
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
		return nil, failOf(e)
	}
	return cond, nil
}

// allOld is a PutItem or DeleteItem answer: the old item when asked for.
func allOld(returnValues string, old item) any {
	if returnValues == "ALL_OLD" && old != nil {
		return map[string]any{"Attributes": old}
	}
	return struct{}{}
}

type putInput struct {
	exprInput
	TableName    string `json:"TableName"`
	Item         item   `json:"Item"`
	ReturnValues string `json:"ReturnValues"`
	ReturnOnFail string `json:"ReturnValuesOnConditionCheckFailure"`
}

func (db *Service) putItem(call *Call) (any, *Fail) {
	var in putInput
	if f := decode(call, &in); f != nil {
		return nil, f
	}
	cond, f := in.writeCondition(in.ReturnValues, in.ReturnOnFail)
	if f != nil {
		return nil, f
	}
	forced := call.lostRace(cond != nil)
	db.mu.Lock()
	defer db.mu.Unlock()
	t, f := db.table(call, in.TableName)
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
	return allOld(in.ReturnValues, old), nil
}

type getInput struct {
	TableName                string            `json:"TableName"`
	Key                      item              `json:"Key"`
	ConsistentRead           bool              `json:"ConsistentRead"`
	ProjectionExpression     *string           `json:"ProjectionExpression"`
	ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames"`
}

func projectionOf(expr *string, names map[string]string, env *exprEnv) ([]docPath, *Fail) {
	if expr == nil {
		if names != nil {
			return nil, invalid("ExpressionAttributeNames can only be specified when using expressions")
		}
		return nil, nil
	}
	paths, err := parseProjection(*expr, env)
	if err != nil {
		return nil, failOf(err)
	}
	return paths, nil
}

func (db *Service) getItem(call *Call) (any, *Fail) {
	var in getInput
	if f := decode(call, &in); f != nil {
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
		return nil, failOf(e)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	t, f := db.table(call, in.TableName)
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
func (in *updateInput) parsed() (*condNode, []updateAction, *Fail) {
	env, f := in.env()
	if f != nil {
		return nil, nil, f
	}
	var actions []updateAction
	if in.UpdateExpression != nil {
		a, err := parseUpdate(*in.UpdateExpression, env)
		if err != nil {
			return nil, nil, failOf(err)
		}
		actions = a
	}
	cond, f := in.condition(env)
	if f != nil {
		return nil, nil, f
	}
	if e := env.unused(); e != nil {
		return nil, nil, failOf(e)
	}
	return cond, actions, nil
}

func (db *Service) updateItem(call *Call) (any, *Fail) {
	var in updateInput
	if f := decode(call, &in); f != nil {
		return nil, f
	}
	switch in.ReturnValues {
	case "", "NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW":
	default:
		return nil, invalid("1 validation error detected: Value '%s' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]", in.ReturnValues)
	}
	if f := checkReturnOnFailure(in.ReturnOnFail); f != nil {
		return nil, f
	}
	cond, actions, f := in.parsed()
	if f != nil {
		return nil, f
	}
	forced := call.lostRace(cond != nil)
	db.mu.Lock()
	defer db.mu.Unlock()
	t, f := db.table(call, in.TableName)
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
		return nil, failOf(err)
	}
	if itemSize(next) > maxItemSize {
		return nil, invalid("Item size to update has exceeded the maximum allowed size")
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

func (db *Service) deleteItem(call *Call) (any, *Fail) {
	var in deleteInput
	if f := decode(call, &in); f != nil {
		return nil, f
	}
	cond, f := in.writeCondition(in.ReturnValues, in.ReturnOnFail)
	if f != nil {
		return nil, f
	}
	forced := call.lostRace(cond != nil)
	db.mu.Lock()
	defer db.mu.Unlock()
	t, f := db.table(call, in.TableName)
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
	return allOld(in.ReturnValues, old), nil
}
