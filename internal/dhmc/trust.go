package dhmc

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// TrustVerdict is what CheckTrust found in a role's trust policy.
type TrustVerdict struct {
	// Drift lists why the policy lets more than SSM assume the role, or
	// keeps SSM from assuming it for this account (which breaks DHMC), or
	// lacks a required condition. Non-empty: Repaired is the fix.
	Drift []string
	// Unrecognised lists what the guard cannot verify (an unknown condition
	// key, an organisation it was not told): reported, never rewritten.
	Unrecognised []string
	// Narrowed is true when a verified condition limits SSM to this account
	// or organisation.
	Narrowed bool
	// Repaired is the document to write when Drift is not empty: the same
	// policy with what widens or breaks it taken out, every condition that
	// narrows it (or that the guard cannot judge) kept.
	Repaired string
}

// Compliant reports whether the policy needs neither repair nor a report.
func (v TrustVerdict) Compliant() bool { return len(v.Drift) == 0 && len(v.Unrecognised) == 0 }

// trustCondKeys are the confused-deputy condition keys AWS recommends on
// service-role trust policies; each can be checked against this account or
// organisation. Lower case: condition keys are case-insensitive.
const (
	keySourceAccount  = "aws:sourceaccount"
	keySourceArn      = "aws:sourcearn"
	keySourceOrgID    = "aws:sourceorgid"
	keySourceOrgPaths = "aws:sourceorgpaths"
)

// CheckTrust judges a trust policy by meaning: statements that let
// ssm.amazonaws.com call sts:AssumeRole, with conditions that only narrow
// that to this account or organisation, are what DHMC needs. Anything that
// lets another principal in or allows another action is drift; a condition
// naming another account or organisation is drift too (SSM could no longer
// assume the role for this account); a condition the guard cannot verify is
// reported. A document that is not a policy is an error: nothing is repaired
// on a guess.
func CheckTrust(doc string, d Desired) (TrustVerdict, error) {
	stmts, err := rawStatements(doc)
	if err != nil {
		return TrustVerdict{}, err
	}
	var (
		v      TrustVerdict
		allows []keptAllow
		denies []map[string]any
	)
	for i, raw := range stmts {
		ts, err := readTrustStatement(raw)
		if err != nil {
			return TrustVerdict{}, fmt.Errorf("parsing trust policy statement %d: %w", i+1, err)
		}
		n := i + 1
		if ts.Effect == "Deny" {
			// A Deny can only take away; whether it takes DHMC away with it
			// is not something to guess at.
			v.Unrecognised = append(v.Unrecognised, fmt.Sprintf("statement %d is a Deny", n))
			denies = append(denies, ts.raw)
			continue
		}
		for _, w := range ts.widening() {
			v.Drift = append(v.Drift, fmt.Sprintf("statement %d %s", n, w))
		}
		if !ts.trustsSSM() {
			continue
		}
		j := judgeConditions(ts.Condition, d)
		for _, c := range j.drift {
			v.Drift = append(v.Drift, fmt.Sprintf("statement %d: %s", n, c))
		}
		for _, c := range j.unknown {
			v.Unrecognised = append(v.Unrecognised, fmt.Sprintf("statement %d: %s", n, c))
		}
		v.Narrowed = v.Narrowed || j.narrowed
		allows = append(allows, keptAllow{conds: j.kept, emptied: len(ts.Condition) > 0 && len(j.kept) == 0})
	}
	if len(allows) == 0 {
		v.Drift = append(v.Drift, TrustedService+" may not assume the role: DHMC cannot work")
	}
	if d.Trust.RequireCondition && !v.Narrowed {
		v.Drift = append(v.Drift, "no aws:SourceAccount, aws:SourceArn, aws:SourceOrgID or aws:SourceOrgPaths condition limits it to this account or organisation (required)")
	}
	if len(v.Drift) > 0 {
		if v.Repaired, err = repairedTrust(allows, denies, d, v.Narrowed); err != nil {
			return TrustVerdict{}, err
		}
	}
	return v, nil
}

// keptAllow is an Allow statement for SSM as a repair keeps it.
type keptAllow struct {
	conds map[string]map[string][]string
	// emptied: every condition it had named another account or
	// organisation, so nothing of them is left.
	emptied bool
}

// repairedTrust writes the statements worth keeping: SSM → AssumeRole with
// the conditions that narrow it (or that the guard cannot judge), and the
// Deny statements; with the account condition when one is required.
func repairedTrust(allows []keptAllow, denies []map[string]any, d Desired, narrowed bool) (string, error) {
	// A statement stripped of foreign conditions would let SSM in for any
	// account; keep it only when nothing else lets SSM in.
	if slices.ContainsFunc(allows, func(a keptAllow) bool { return !a.emptied }) {
		allows = slices.DeleteFunc(allows, func(a keptAllow) bool { return a.emptied })
	}
	if len(allows) == 0 || (len(denies) == 0 && !slices.ContainsFunc(allows, func(a keptAllow) bool { return len(a.conds) > 0 })) {
		// Nothing worth keeping: the policy the guard creates roles with.
		return d.TrustPolicy(), nil
	}
	var stmts []map[string]any
	for _, a := range allows {
		conds := a.conds
		if d.Trust.RequireCondition && !narrowed {
			if conds == nil {
				conds = map[string]map[string][]string{}
			}
			if conds["StringEquals"] == nil {
				conds["StringEquals"] = map[string][]string{}
			}
			conds["StringEquals"]["aws:SourceAccount"] = []string{d.AccountID}
		}
		stmts = append(stmts, ssmStatement(conds))
	}
	stmts = append(stmts, denies...)
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	if err != nil {
		return "", fmt.Errorf("writing repaired trust policy: %w", err)
	}
	return string(b), nil
}

func ssmStatement(conds map[string]map[string][]string) map[string]any {
	s := map[string]any{
		"Effect":    "Allow",
		"Principal": map[string]any{"Service": TrustedService},
		"Action":    "sts:AssumeRole",
	}
	if len(conds) > 0 {
		s["Condition"] = conds
	}
	return s
}

// rawStatements returns the Statement element as a list, however written.
func rawStatements(doc string) ([]json.RawMessage, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var p policyDoc
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parsing trust policy: %w", err)
	}
	if len(p.Statement) == 0 || string(p.Statement) == "null" {
		return nil, errors.New("parsing trust policy: no Statement")
	}
	if p.Statement[0] != '[' {
		return []json.RawMessage{p.Statement}, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(p.Statement, &raws); err != nil {
		return nil, fmt.Errorf("parsing trust policy statements: %w", err)
	}
	return raws, nil
}

// trustStatement is a statement as read, with its raw form for a repair
// that keeps it as written.
type trustStatement struct {
	statement
	raw map[string]any
}

func readTrustStatement(raw json.RawMessage) (trustStatement, error) {
	s, err := readStatement(raw)
	if err != nil {
		return trustStatement{}, err
	}
	ts := trustStatement{statement: s}
	if err := json.Unmarshal(raw, &ts.raw); err != nil {
		return trustStatement{}, err
	}
	return ts, nil
}

// widening lists what an Allow statement grants beyond SSM → AssumeRole.
func (ts trustStatement) widening() []string {
	var out []string
	if len(ts.NotPrincipal) > 0 {
		out = append(out, "uses NotPrincipal (everyone but the listed principals may assume the role)")
	}
	if len(ts.NotAction) > 0 {
		out = append(out, "uses NotAction (every action but the listed ones)")
	}
	if len(ts.Resource) > 0 || len(ts.NotResource) > 0 {
		out = append(out, "names a Resource, which a trust policy must not")
	}
	for _, typ := range sortedKeys(ts.Principal) {
		for _, p := range ts.Principal[typ] {
			if typ != "Service" || p != TrustedService {
				out = append(out, fmt.Sprintf("lets %s %s assume the role", typ, p))
			}
		}
	}
	if len(ts.Principal) == 0 && len(ts.NotPrincipal) == 0 {
		out = append(out, "names no principal")
	}
	for _, a := range ts.Action {
		if a != "sts:assumerole" {
			out = append(out, fmt.Sprintf("allows %s", a))
		}
	}
	return out
}

// trustsSSM reports whether the statement lets SSM call sts:AssumeRole.
func (ts trustStatement) trustsSSM() bool {
	return slices.Contains(ts.Principal["Service"], TrustedService) && slices.Contains(ts.Action, "sts:assumerole") && len(ts.NotPrincipal) == 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
