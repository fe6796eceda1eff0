package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/dhmc-guard/dhmc-guard/internal/dhmc"
)

// whatKinds are the kinds whose findings say what changed, so that a
// different change is a different group. The others repeat the same news
// whatever their text (an unreachable Region's error carries a request ID).
var whatKinds = map[dhmc.Kind]bool{
	dhmc.KindUnexpectedManagedPolicy:  true,
	dhmc.KindUnexpectedInlinePolicy:   true,
	dhmc.KindAllowedPolicyChanged:     true,
	dhmc.KindTrustPolicyDrift:         true,
	dhmc.KindTrustPolicyUnrecognised:  true,
	dhmc.KindPermissionsBoundaryDrift: true,
	dhmc.KindSettingWrongRole:         true,
	dhmc.KindManagedElsewhere:         true,
}

// maxWhat bounds What as kept in states and digests; the group key holds a
// hash of the whole.
const maxWhat = 300

// WhatOf is what changed in a finding, for its group: the policy ARN or
// inline policy name (with its document's hash: the same name with another
// statement is another change), the trust policy, the boundary, the
// setting's value. "" for kinds without one.
func WhatOf(f dhmc.Finding) string {
	if !whatKinds[f.Kind] {
		return ""
	}
	parts := []string{}
	for _, p := range []string{f.Target, f.Observed} {
		if p != "" && (len(parts) == 0 || parts[0] != p) {
			parts = append(parts, p)
		}
	}
	if f.Document != "" {
		sum := sha256.Sum256([]byte(f.Document))
		parts = append(parts, "document sha256:"+hex.EncodeToString(sum[:8]))
	}
	w := strings.Join(parts, " ")
	if len(w) > maxWhat {
		sum := sha256.Sum256([]byte(w))
		w = w[:maxWhat-28] + "… sha256:" + hex.EncodeToString(sum[:8])
	}
	return w
}

// whatKey is What as it goes into a group key: as written when it is
// short, printable ASCII and free of the key's separator, else a hash (a
// DynamoDB key is at most 2 KB, and a trust policy is longer).
func whatKey(w string) string {
	plain := len(w) <= 128
	for i := 0; plain && i < len(w); i++ {
		plain = w[i] > ' ' && w[i] < 0x7f && w[i] != '|'
	}
	if plain {
		return w
	}
	sum := sha256.Sum256([]byte(w))
	return "sha256:" + hex.EncodeToString(sum[:12])
}

// saneOr is the time v says when it parses and is plausible at now
// (dhmc.SaneTime), else now: an event "from 2099" happened, as far as the
// windows are concerned, when the run saw it; one "from year 1" at an
// unknown time, which the windows also take as the run's.
func saneOr(v string, now time.Time) time.Time {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil || dhmc.SaneTime(t, now) != dhmc.TimeOK {
		return now
	}
	return t
}

// plausible reports whether a stored sighting's time can be believed at
// now: states written before times were checked may hold one from 2099.
func plausible(at, now time.Time) bool { return !at.After(now.Add(dhmc.FutureSkew)) }
