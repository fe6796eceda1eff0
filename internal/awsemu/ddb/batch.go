package ddb

import (
	"cmp"
	"maps"
	"slices"
)

// --- batches -------------------------------------------------------------------

type writeRequest struct {
	PutRequest *struct {
		Item item `json:"Item"`
	} `json:"PutRequest"`
	DeleteRequest *struct {
		Key item `json:"Key"`
	} `json:"DeleteRequest"`
}

func (db *Service) batchWriteItem(call *Call) (any, *Fail) {
	var in struct {
		RequestItems map[string][]writeRequest `json:"RequestItems"`
	}
	if f := decode(call, &in); f != nil {
		return nil, f
	}
	total := 0
	for _, reqs := range in.RequestItems {
		total += len(reqs)
	}
	if total == 0 {
		return nil, invalid("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if total > 25 {
		return nil, invalid("Too many items requested for the BatchWriteItem call")
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	type op struct {
		t   *table
		put item
		key item
	}
	var ops []op
	for _, name := range slices.Sorted(maps.Keys(in.RequestItems)) {
		t, f := db.table(call, name)
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
				return nil, invalid("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")
			}
			k := keyString(o.key[t.hash]) + "\x00" + keyString(o.key[t.rng])
			if seen[k] {
				return nil, invalid("Provided list of item keys contains duplicates")
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

func (db *Service) batchGetItem(call *Call) (any, *Fail) {
	var in struct {
		RequestItems map[string]struct {
			Keys                     []item            `json:"Keys"`
			ConsistentRead           bool              `json:"ConsistentRead"`
			ProjectionExpression     *string           `json:"ProjectionExpression"`
			ExpressionAttributeNames map[string]string `json:"ExpressionAttributeNames"`
		} `json:"RequestItems"`
	}
	if f := decode(call, &in); f != nil {
		return nil, f
	}
	total := 0
	for _, r := range in.RequestItems {
		total += len(r.Keys)
	}
	if total == 0 {
		return nil, invalid("1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if total > 100 {
		return nil, invalid("Too many items requested for the BatchGetItem call")
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	responses := map[string][]item{}
	for _, name := range slices.Sorted(maps.Keys(in.RequestItems)) {
		r := in.RequestItems[name]
		t, f := db.table(call, name)
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
			return nil, failOf(e)
		}
		seen := map[string]bool{}
		found := []item{}
		for _, k := range r.Keys {
			if f := t.checkKey(k); f != nil {
				return nil, f
			}
			ks := keyString(k[t.hash]) + "\x00" + keyString(k[t.rng])
			if seen[ks] {
				return nil, invalid("Provided list of item keys contains duplicates")
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
