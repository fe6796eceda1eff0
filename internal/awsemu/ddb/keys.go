package ddb

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
