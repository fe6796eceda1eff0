package fleet

import "testing"

func TestNodeIndexFindsEveryIDShape(t *testing.T) {
	x := newNodeIndex()
	online := Node{PingStatus: "Online", AgentVersion: "3.3.1611.0"}
	lost := Node{PingStatus: "ConnectionLost", AgentVersion: "3.2.582.0"}
	ids := map[string]Node{
		"i-0123456789abcdef0": online,
		"i-f123456789abcdef0": lost,   // the 17th digit matters
		"i-1234abcd":          lost,   // 8 digits
		"i-0000000001234abcd": online, // same value as the 8-digit one, another ID
		"i-NOT-HEX":           online, // kept as it is
	}
	for id, n := range ids {
		x.put(id, n)
	}
	for id, want := range ids {
		if got, ok := x.get(id); !ok || got != want {
			t.Errorf("get(%s) = %+v %v, want %+v", id, got, ok, want)
		}
	}
	for _, id := range []string{"i-1123456789abcdef0", "i-1234abce", "", "mi-0123456789abcdef0"} {
		if _, ok := x.get(id); ok {
			t.Errorf("get(%s) found a node never put", id)
		}
	}
	if x.len() != len(ids) || len(x.kinds) != 2 {
		t.Errorf("len %d kinds %d, want %d and 2", x.len(), len(x.kinds), len(ids))
	}
}
