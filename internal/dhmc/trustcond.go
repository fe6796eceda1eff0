package dhmc

import (
	"fmt"
	"slices"
	"strings"
)

// The confused-deputy conditions a trust policy may carry, and how each
// value is judged against this account or organisation.

type conditionJudgement struct {
	drift, unknown []string
	narrowed       bool
	// kept are the conditions a repair keeps: the ones that narrow to this
	// account or organisation and the ones the guard cannot judge.
	kept map[string]map[string][]string
}

func judgeConditions(conds map[string]map[string][]string, d Desired) conditionJudgement {
	j := conditionJudgement{kept: map[string]map[string][]string{}}
	for _, op := range sortedKeys(conds) {
		base := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(op, "ForAnyValue:"), "ForAllValues:"), "IfExists")
		for _, key := range sortedKeys(conds[op]) {
			vals := conds[op][key]
			lk := strings.ToLower(key)
			keep := func(vs []string) {
				if len(vs) == 0 {
					return
				}
				if j.kept[op] == nil {
					j.kept[op] = map[string][]string{}
				}
				j.kept[op][key] = vs
			}
			judge, known := conditionJudges[lk]
			if !known {
				j.unknown = append(j.unknown, fmt.Sprintf("condition %s %s is not one the guard can verify", op, key))
				keep(vals)
				continue
			}
			if !slices.Contains(judge.ops, base) {
				j.unknown = append(j.unknown, fmt.Sprintf("condition %s %s: operator %s is not one the guard can verify", op, key, op))
				keep(vals)
				continue
			}
			var good []string
			for _, val := range vals {
				switch verdict, why := judge.fn(val, d); verdict {
				case condNarrows:
					good = append(good, val)
					j.narrowed = true
				case condUnknown:
					good = append(good, val)
					j.unknown = append(j.unknown, fmt.Sprintf("condition %s %s %q: %s", op, key, val, why))
				case condForeign:
					j.drift = append(j.drift, fmt.Sprintf("condition %s %s %q %s: SSM cannot assume the role for this account", op, key, val, why))
				}
			}
			keep(good)
		}
	}
	return j
}

type condVerdict int

const (
	condNarrows condVerdict = iota
	condUnknown
	condForeign
)

type condJudge struct {
	ops []string
	fn  func(val string, d Desired) (condVerdict, string)
}

var (
	stringOps = []string{"StringEquals", "StringLike", "StringEqualsIgnoreCase"}
	arnOps    = []string{"ArnEquals", "ArnLike", "StringEquals", "StringLike"}
)

var conditionJudges = map[string]condJudge{
	keySourceAccount: {stringOps, func(v string, d Desired) (condVerdict, string) {
		return compareID(v, d.AccountID, "names account")
	}},
	keySourceArn: {arnOps, func(v string, d Desired) (condVerdict, string) {
		parts := strings.SplitN(v, ":", 6)
		if len(parts) != 6 || parts[0] != "arn" {
			return condUnknown, "is not an ARN"
		}
		if p := parts[1]; p != d.Partition && !strings.ContainsAny(p, "*?") {
			return condForeign, "names partition " + p
		}
		return compareID(parts[4], d.AccountID, "names account")
	}},
	keySourceOrgID: {stringOps, func(v string, d Desired) (condVerdict, string) {
		if d.Trust.OrganizationID == "" {
			return condUnknown, "no OrganizationId is configured to check it against"
		}
		return compareID(v, d.Trust.OrganizationID, "names organisation")
	}},
	keySourceOrgPaths: {stringOps, func(v string, d Desired) (condVerdict, string) {
		if d.Trust.OrganizationID == "" {
			return condUnknown, "no OrganizationId is configured to check it against"
		}
		org, _, _ := strings.Cut(v, "/")
		return compareID(org, d.Trust.OrganizationID, "names organisation")
	}},
}

// compareID tells a value equal to ours from a wildcard (which does not
// limit anything to us) and from someone else's ID.
func compareID(got, ours, what string) (condVerdict, string) {
	switch {
	case got == ours:
		return condNarrows, ""
	case strings.ContainsAny(got, "*?"):
		return condUnknown, "is a pattern, not this account or organisation"
	}
	return condForeign, what + " " + got
}
