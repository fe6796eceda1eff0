package ddb

import (
	"slices"
	"strings"
)

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
func (t *table) keyCondition(n *condNode) (keyCond, *Fail) {
	var parts []*condNode
	var flatten func(n *condNode) *Fail
	flatten = func(n *condNode) *Fail {
		switch n.op {
		case "and":
			for _, k := range n.kids {
				if f := flatten(k); f != nil {
					return f
				}
			}
		case "or", "not":
			return invalid("Invalid operator used in KeyConditionExpression: %s", strings.ToUpper(n.op))
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
				return keyCond{}, invalid("One or more parameter values were invalid: Condition parameter type does not match schema type")
			}
		}
		switch {
		case attr == t.hash:
			if kc.hash != nil {
				return keyCond{}, invalid("KeyConditionExpressions must only contain one condition per key")
			}
			if p.op != "cmp" || p.cmp != "=" {
				return keyCond{}, invalid("Query key condition not supported")
			}
			kc.hash = p.operands[1].value
		default:
			if kc.sort != nil {
				return keyCond{}, invalid("KeyConditionExpressions must only contain one condition per key")
			}
			kc.sort = p
		}
	}
	if kc.hash == nil {
		return keyCond{}, invalid("Query condition missed key schema element: %s", t.hash)
	}
	return kc, nil
}

// keyAttrOf returns the key attribute a single key condition is about.
func (t *table) keyAttrOf(p *condNode) (string, *Fail) {
	switch {
	case p.op == "cmp" && p.cmp == "<>":
		return "", invalid("Unsupported operator on KeyConditionExpression: operator: <>")
	case p.op == "cmp", p.op == "between", p.op == "func" && p.fn == "begins_with":
	default:
		return "", invalid("Query key condition not supported")
	}
	lhs := p.operands[0]
	if lhs.kind != opdPath || len(lhs.path) != 1 || lhs.path[0].isIdx {
		return "", invalid("Query key condition not supported")
	}
	for _, o := range p.operands[1:] {
		if o.kind != opdValue {
			return "", invalid("Query key condition not supported")
		}
	}
	attr := lhs.path[0].name
	if attr != t.hash && attr != t.rng {
		return "", invalid("Query condition missed key schema element: %s", t.hash)
	}
	if attr == t.hash && p.op == "func" {
		return "", invalid("Query key condition not supported")
	}
	return attr, nil
}

// maxPage is DynamoDB's 1 MB limit on the data one Query evaluates.
const maxPage = 1 << 20

func (db *Service) query(call *Call) (any, *Fail) {
	var in queryInput
	if f := decode(call, &in); f != nil {
		return nil, f
	}
	if in.IndexName != nil {
		return nil, invalid("The table does not have the specified index: %s", *in.IndexName)
	}
	if in.KeyConditionExpression == nil {
		return nil, invalid("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
	}
	if in.Limit != nil && *in.Limit < 1 {
		return nil, invalid("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.Limit)
	}
	if in.ConditionExpression != nil {
		return nil, invalid("ConditionExpression is not a Query parameter")
	}
	env, f := in.env()
	if f != nil {
		return nil, f
	}
	kcNode, err := parseCondition(*in.KeyConditionExpression, "KeyConditionExpression", env)
	if err != nil {
		return nil, failOf(err)
	}
	var filter *condNode
	if in.FilterExpression != nil {
		if filter, err = parseCondition(*in.FilterExpression, "FilterExpression", env); err != nil {
			return nil, failOf(err)
		}
	}
	paths, f := projectionOf(in.ProjectionExpression, nil, env)
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
			return nil, invalid("The provided starting key is invalid: The provided key element does not match the schema")
		}
		if !equalAV(in.ExclusiveStartKey[t.hash], kc.hash) {
			// Unconfirmed how DynamoDB words this; it refuses the request.
			return nil, invalid("The provided starting key is outside query boundaries based on provided conditions")
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
func (t *table) filterOnKeys(n *condNode) *Fail {
	var walk func(n *condNode) *Fail
	walk = func(n *condNode) *Fail {
		for _, k := range n.kids {
			if f := walk(k); f != nil {
				return f
			}
		}
		for _, o := range n.operands {
			if (o.kind == opdPath || o.kind == opdSize) && len(o.path) == 1 && slices.Contains(t.keyNames(), o.path[0].name) {
				return invalid("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", o.path[0].name)
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
