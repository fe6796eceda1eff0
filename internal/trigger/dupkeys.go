package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// duplicateKey returns a key that appears twice in one object anywhere in
// raw, with the dotted path of the object holding it ("" at the top).
// encoding/json keeps the last of two equal keys silently, so
// {"action":"check","action":"remediate"} would remediate while the first
// key says check: an operator's payload must be unambiguous.
func duplicateKey(raw []byte) (key, path string, err error) {
	type frame struct {
		object    bool
		keys      map[string]bool
		expectKey bool
		last      string // the key whose value is being read
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return "", "", nil
		}
		if err != nil {
			return "", "", err
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		if top != nil && top.object && top.expectKey {
			k, _ := tok.(string) // in an object, a key or '}'
			if d, ok := tok.(json.Delim); !ok || d != '}' {
				if top.keys[k] {
					var names []string
					for _, f := range stack[:len(stack)-1] {
						if f.object {
							names = append(names, f.last)
						}
					}
					return k, strings.Join(names, "."), nil
				}
				top.keys[k], top.last, top.expectKey = true, k, false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, &frame{object: tok == json.Delim('{'), keys: map[string]bool{}, expectKey: tok == json.Delim('{')})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value (scalar or closed container) ended: its object wants a key.
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].expectKey = true
		}
	}
}
