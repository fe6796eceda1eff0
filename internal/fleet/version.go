package fleet

import (
	"strconv"
	"strings"
)

// CompareVersions compares two dotted versions numerically, segment by
// segment ("3.2.1000.0" is newer than "3.2.582.0", which text order gets
// wrong); a missing segment counts as 0. ok is false when either is not a
// version (an empty or non-numeric segment).
func CompareVersions(a, b string) (cmp int, ok bool) {
	as, aok := segments(a)
	bs, bok := segments(b)
	if !aok || !bok {
		return 0, false
	}
	for i := range max(len(as), len(bs)) {
		var x, y uint64
		if i < len(as) {
			x = as[i]
		}
		if i < len(bs) {
			y = bs[i]
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
	}
	return 0, true
}

func segments(v string) ([]uint64, bool) {
	if v == "" {
		return nil, false
	}
	parts := strings.Split(v, ".")
	out := make([]uint64, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// agentTooOld reports whether an agent version is older than
// MinAgentVersion. A version SSM reports that is not a version at all is
// counted as too old: DHMC's support for it cannot be shown.
func agentTooOld(v string) bool {
	c, ok := CompareVersions(v, MinAgentVersion)
	return !ok || c < 0
}
