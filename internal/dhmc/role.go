package dhmc

import (
	"fmt"
	"strings"
)

// roleVerdict is what assessRole found.
type roleVerdict struct {
	role     RoleState
	findings []Finding
	// working: SSM may assume the role and it carries the managed policy.
	working bool
	// escalated: the role lets more in, or may do more, than allowed.
	escalated bool
	manager   string
	unread    string
}

// assessRole checks a role's trust and privileges. ours says whether the
// findings get repair actions (the configured role) or none (another's).
func assessRole(d Desired, r RoleState, ours bool) (roleVerdict, error) {
	v := roleVerdict{role: r}
	add := func(f Finding) {
		f.Role = r.Name
		if !ours {
			f.Action = ActionNone
		}
		v.findings = append(v.findings, f)
	}
	trust, err := CheckTrust(r.TrustPolicy, d)
	if err != nil {
		return roleVerdict{}, fmt.Errorf("reading trust policy of role %s: %w", r.Name, err)
	}
	if len(trust.Drift) > 0 {
		add(Finding{
			Kind: KindTrustPolicyDrift, Observed: CompactPolicy(r.TrustPolicy), Desired: trust.Repaired,
			Action: ActionUpdateTrustPolicy, Target: strings.Join(trust.Drift, "; "),
		})
	}
	if len(trust.Unrecognised) > 0 {
		add(Finding{
			Kind: KindTrustPolicyUnrecognised, Observed: CompactPolicy(r.TrustPolicy),
			Desired: "conditions the guard can verify", Action: ActionNone, Target: strings.Join(trust.Unrecognised, "; "),
		})
	}
	required := d.ManagedPolicyARN()
	hasRequired := containsFold(r.AttachedPolicyARNs, required)
	if !hasRequired {
		add(Finding{
			Kind: KindManagedPolicyMissing, Observed: "not attached", Desired: required,
			Action: ActionAttachPolicy, Target: required,
		})
	}
	allowed := d.AllowedPolicyARNs()
	for _, arn := range sorted(r.AttachedPolicyARNs) {
		if !containsFold(allowed, arn) {
			add(Finding{
				Kind: KindUnexpectedManagedPolicy, Observed: arn, Desired: "not attached",
				Action: ActionDetachPolicy, Target: arn,
			})
		}
	}
	for _, name := range sorted(r.InlinePolicyNames) {
		add(Finding{
			Kind: KindUnexpectedInlinePolicy, Observed: name, Desired: "no inline policies",
			Action: ActionDeleteInlinePolicy, Target: name,
		})
	}
	// Another manager's boundary only narrows its role; only ours must match.
	if ours && r.PermissionsBoundaryARN != d.PermissionsBoundaryARN {
		f := Finding{
			Kind: KindPermissionsBoundaryDrift, Observed: orNone(r.PermissionsBoundaryARN),
			Desired: orNone(d.PermissionsBoundaryARN),
		}
		if d.PermissionsBoundaryARN == "" {
			f.Action, f.Target = ActionDeleteBoundary, r.PermissionsBoundaryARN
		} else {
			f.Action, f.Target = ActionPutPermissionsBoundary, d.PermissionsBoundaryARN
		}
		add(f)
	}
	for _, f := range v.findings {
		if Escalates(f) {
			v.escalated = true
		}
	}
	v.working = hasRequired && len(trust.Drift) == 0
	return v, nil
}

// Escalates reports a finding that widens what the role (and so every
// instance in the account) may do, or who may assume it: left in place, it
// is what on-call must be woken for.
func Escalates(f Finding) bool {
	switch f.Kind {
	case KindUnexpectedManagedPolicy, KindUnexpectedInlinePolicy, KindAllowedPolicyChanged:
		return true
	case KindTrustPolicyDrift:
		// A trust policy that only names another account keeps SSM out
		// (DHMC breaks) without letting anyone else in.
		return strings.Contains(f.Target, " lets ") || strings.Contains(f.Target, " allows ") ||
			strings.Contains(f.Target, "NotPrincipal") || strings.Contains(f.Target, "NotAction")
	case KindPermissionsBoundaryDrift:
		// A removed or different boundary can widen the role; adding one
		// where none is wanted cannot.
		return f.Action == ActionPutPermissionsBoundary
	}
	return false
}
