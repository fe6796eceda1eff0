package fleet

import "strconv"

// nodeIndex is one Region's managed nodes by instance ID, held while the
// Region's instances are read: the one thing the report keeps per node. An
// instance ID (i- and 8 or 17 hex digits) is kept as a number and a node as
// an index into the few distinct (ping status, agent version) pairs, so a
// node costs some 30 bytes instead of a string, a map entry of two strings
// and the decoder's copies (~100 bytes): 50,000 nodes take ~1.5 MB.
type nodeIndex struct {
	byID   map[instanceKey]uint32
	other  map[string]uint32 // IDs of another shape, kept as they are
	kinds  []Node
	kindOf map[Node]uint32
}

// instanceKey is a parsed instance ID: 17 hex digits are 68 bits.
type instanceKey struct {
	hi uint8
	lo uint64
}

func newNodeIndex() *nodeIndex {
	return &nodeIndex{byID: map[instanceKey]uint32{}, kindOf: map[Node]uint32{}}
}

func parseInstanceID(id string) (instanceKey, bool) {
	if len(id) != 19 && len(id) != 10 || id[:2] != "i-" {
		return instanceKey{}, false
	}
	hex := id[2:]
	var k instanceKey
	if len(hex) == 17 {
		hi, err := strconv.ParseUint(hex[:1], 16, 8)
		if err != nil {
			return instanceKey{}, false
		}
		k.hi, hex = uint8(hi)|0x10, hex[1:] // 0x10 tells 17 digits from 8
	}
	lo, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return instanceKey{}, false
	}
	k.lo = lo
	return k, true
}

func (x *nodeIndex) put(id string, n Node) {
	kind, ok := x.kindOf[n]
	if !ok {
		kind = uint32(len(x.kinds))
		x.kinds = append(x.kinds, n)
		x.kindOf[n] = kind
	}
	if k, ok := parseInstanceID(id); ok {
		x.byID[k] = kind
		return
	}
	if x.other == nil {
		x.other = map[string]uint32{}
	}
	x.other[id] = kind
}

func (x *nodeIndex) get(id string) (Node, bool) {
	var kind uint32
	var ok bool
	if k, parsed := parseInstanceID(id); parsed {
		kind, ok = x.byID[k]
	} else {
		kind, ok = x.other[id]
	}
	if !ok {
		return Node{}, false
	}
	return x.kinds[kind], true
}

func (x *nodeIndex) len() int { return len(x.byID) + len(x.other) }
