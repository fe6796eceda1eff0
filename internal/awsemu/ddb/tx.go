package ddb

import (
	"time"
)

// TransactWriteItems: all or nothing. Every condition is checked against
// the state before the transaction; one failed condition cancels it with a
// reason per item, in request order, as DynamoDB reports them.

type txOp struct {
	exprInput
	TableName        string  `json:"TableName"`
	Key              item    `json:"Key"`
	Item             item    `json:"Item"`
	UpdateExpression *string `json:"UpdateExpression"`
	ReturnOnFail     string  `json:"ReturnValuesOnConditionCheckFailure"`
}

type txItem struct {
	ConditionCheck *txOp `json:"ConditionCheck"`
	Put            *txOp `json:"Put"`
	Delete         *txOp `json:"Delete"`
	Update         *txOp `json:"Update"`
}

// txStep is one parsed transaction item.
type txStep struct {
	verb    string // check put delete update
	op      *txOp
	cond    *condNode
	actions []updateAction
	t       *table
	key     item
}

// idempotencyWindow is how long DynamoDB remembers a ClientRequestToken.
const idempotencyWindow = 10 * time.Minute

func (db *Service) transactWriteItems(call *Call) (any, *Fail) {
	var in struct {
		TransactItems      []txItem `json:"TransactItems"`
		ClientRequestToken *string  `json:"ClientRequestToken"`
	}
	if f := decode(call, &in); f != nil {
		return nil, f
	}
	if len(in.TransactItems) == 0 {
		return nil, invalid("1 validation error detected at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(in.TransactItems) > 100 {
		return nil, invalid("1 validation error detected at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100.")
	}
	steps, conditional, f := parseTx(in.TransactItems)
	if f != nil {
		return nil, f
	}
	forced := call.lostRace(conditional)

	db.mu.Lock()
	defer db.mu.Unlock()
	seen := map[string]bool{}
	for i := range steps {
		st := &steps[i]
		t, f := db.table(call, st.op.TableName)
		if f != nil {
			return nil, f
		}
		st.t = t
		if st.verb == "put" {
			if f := t.checkItem(st.op.Item); f != nil {
				return nil, f
			}
			st.key = t.keyOf(st.op.Item)
		} else {
			if f := t.checkKey(st.op.Key); f != nil {
				return nil, f
			}
			st.key = st.op.Key
		}
		k := t.arn + "\x00" + keyString(st.key[t.hash]) + "\x00" + keyString(st.key[t.rng])
		if seen[k] {
			return nil, invalid("Transaction request cannot include multiple operations on one item")
		}
		seen[k] = true
	}

	if in.ClientRequestToken != nil {
		tokens := steps[0].t.tokens
		now := time.Now()
		for tok, v := range tokens {
			if now.Sub(v.at) > idempotencyWindow {
				delete(tokens, tok)
			}
		}
		if prev, ok := tokens[*in.ClientRequestToken]; ok {
			if prev.body != string(call.Body) {
				return nil, &Fail{status: 400, code: "IdempotentParameterMismatchException", msg: "Request token was used with different parameters"}
			}
			// The same request again: it already happened.
			return struct{}{}, nil
		}
		defer func() { tokens[*in.ClientRequestToken] = txToken{at: now, body: string(call.Body)} }()
	}

	next := make([]item, len(steps))
	reasons := make([]map[string]any, len(steps))
	failed := false
	for i, st := range steps {
		old := st.t.get(st.key)
		reasons[i] = map[string]any{"Code": "None"}
		if st.cond != nil && (forced || !st.cond.holds(old)) {
			r := map[string]any{"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
			if st.op.ReturnOnFail == "ALL_OLD" && old != nil {
				r["Item"] = cloneItem(old)
			}
			reasons[i], failed = r, true
			continue
		}
		switch st.verb {
		case "put":
			next[i] = cloneItem(st.op.Item)
		case "update":
			base := old
			if base == nil {
				base = cloneItem(st.key)
			}
			n, err := applyUpdate(base, st.actions, st.t.keyNames())
			if err != nil {
				reasons[i], failed = map[string]any{"Code": "ValidationError", "Message": err.msg}, true
				continue
			}
			next[i] = n
		}
	}
	if failed {
		codes := make([]string, len(reasons))
		for i, r := range reasons {
			codes[i] = r["Code"].(string)
		}
		return nil, &Fail{
			status: 400, code: "TransactionCanceledException",
			msg:   "Transaction cancelled, please refer cancellation reasons for specific reasons [" + joinComma(codes) + "]",
			extra: map[string]any{"CancellationReasons": reasons},
		}
	}
	for i, st := range steps {
		switch st.verb {
		case "put", "update":
			st.t.put(next[i])
		case "delete":
			st.t.remove(st.key)
		}
	}
	return struct{}{}, nil
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// parseTx parses each item's expressions before any state is read.
func parseTx(items []txItem) ([]txStep, bool, *Fail) {
	steps := make([]txStep, 0, len(items))
	conditional := false
	for _, ti := range items {
		var st txStep
		n := 0
		for verb, op := range map[string]*txOp{"check": ti.ConditionCheck, "put": ti.Put, "delete": ti.Delete, "update": ti.Update} {
			if op != nil {
				n++
				st.verb, st.op = verb, op
			}
		}
		if n != 1 {
			return nil, false, invalid("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		if f := checkReturnOnFailure(st.op.ReturnOnFail); f != nil {
			return nil, false, f
		}
		env, f := st.op.env()
		if f != nil {
			return nil, false, f
		}
		if st.verb == "update" {
			if st.op.UpdateExpression == nil {
				return nil, false, invalid("1 validation error detected: Value null at 'transactItems.1.member.update.updateExpression' failed to satisfy constraint: Member must not be null")
			}
			a, err := parseUpdate(*st.op.UpdateExpression, env)
			if err != nil {
				return nil, false, failOf(err)
			}
			st.actions = a
		}
		if st.verb == "check" && st.op.ConditionExpression == nil {
			return nil, false, invalid("1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null")
		}
		cond, f := st.op.condition(env)
		if f != nil {
			return nil, false, f
		}
		if e := env.unused(); e != nil {
			return nil, false, failOf(e)
		}
		st.cond = cond
		conditional = conditional || cond != nil
		steps = append(steps, st)
	}
	return steps, conditional, nil
}
