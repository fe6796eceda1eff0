package ddb

// Time to live: recorded and answered, never acted on (see the package doc).

func (db *Service) updateTimeToLive(call *Call) (any, *Fail) {
	var in struct {
		TableName string `json:"TableName"`
		Spec      *struct {
			Enabled       *bool  `json:"Enabled"`
			AttributeName string `json:"AttributeName"`
		} `json:"TimeToLiveSpecification"`
	}
	if f := decode(call, &in); f != nil {
		return nil, f
	}
	if in.Spec == nil || in.Spec.Enabled == nil || in.Spec.AttributeName == "" {
		return nil, invalid("1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null")
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	t, f := db.table(call, in.TableName)
	if f != nil {
		return nil, f
	}
	switch {
	case *in.Spec.Enabled && t.ttlEnabled:
		return nil, invalid("TimeToLive is already enabled")
	case !*in.Spec.Enabled && !t.ttlEnabled:
		return nil, invalid("TimeToLive is already disabled")
	case !*in.Spec.Enabled && in.Spec.AttributeName != t.ttlAttr:
		return nil, invalid("TimeToLive is enabled on a different attribute name")
	}
	t.ttlEnabled, t.ttlAttr = *in.Spec.Enabled, in.Spec.AttributeName
	return map[string]any{"TimeToLiveSpecification": map[string]any{"Enabled": t.ttlEnabled, "AttributeName": t.ttlAttr}}, nil
}

func (db *Service) describeTimeToLive(call *Call) (any, *Fail) {
	var in tableNameInput
	if f := decode(call, &in); f != nil {
		return nil, f
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	t, f := db.table(call, in.TableName)
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
