package ddb

// UpdateItem: the update and condition expressions parsed before the table
// is read, then applied to the old item (or to the key alone) in one step.

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
