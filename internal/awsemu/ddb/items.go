package ddb

import (
	"strings"
)

// PutItem, GetItem and DeleteItem, and what every operation that takes
// expressions shares.

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
