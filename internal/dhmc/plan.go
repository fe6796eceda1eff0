package dhmc

import (
	"fmt"
	"slices"
	"strings"
)

// StatusPendingUpdate is the setting status while SSM applies a change.
const StatusPendingUpdate = "PendingUpdate"

// Plan compares what was read with what is desired and returns one finding
// per difference, role findings first, then settings in the order observed.
// It is pure: no AWS, no clock. It fails only when a policy document cannot
// be read, so that nothing is repaired on a guess.
func Plan(d Desired, o Observed) ([]Finding, error) {
	var out []Finding
	roleMissing := false
	if o.Role != nil {
		rf, err := planRole(d, *o.Role)
		if err != nil {
			return nil, err
		}
		out = append(out, rf...)
		roleMissing = !o.Role.Exists
	}
	want := d.SettingValue()
	for _, s := range o.Settings {
		f := Finding{
			Region:           s.Region,
			Observed:         s.Value,
			Desired:          want,
			LastModifiedUser: s.LastModifiedUser,
			LastModifiedDate: s.LastModifiedDate,
		}
		got := NormalizeSettingValue(d, s.Value)
		switch {
		case s.Status == StatusPendingUpdate:
			// Someone's change is being applied: look again next time.
			f.Kind, f.Action = KindSettingPending, ActionNone
		case got == "":
			f.Kind, f.Action = KindSettingDisabled, ActionUpdateSetting
		case got != want:
			f.Kind, f.Action = KindSettingWrongRole, ActionUpdateSetting
		case roleMissing:
			// Writing the value again after the role is created makes the
			// repair wait until SSM can see the new role.
			f.Kind, f.Action = KindSettingRoleMissing, ActionUpdateSetting
		default:
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// NormalizeSettingValue returns a setting value as path+name without the
// leading slash, the form SSM stores, or "" when DHMC is off. A role ARN in
// d's partition and account becomes its path+name; any other ARN is kept
// whole, so it never compares equal to the desired value.
func NormalizeSettingValue(d Desired, v string) string {
	v = strings.TrimSpace(v)
	if v == "" || v == SettingDisabled {
		return ""
	}
	prefix := fmt.Sprintf("arn:%s:iam::%s:role/", d.Partition, d.AccountID)
	if rest, ok := strings.CutPrefix(v, prefix); ok {
		return rest
	}
	if strings.HasPrefix(v, "arn:") {
		return v
	}
	return strings.TrimPrefix(v, "/")
}

func planRole(d Desired, r RoleState) ([]Finding, error) {
	if !r.Exists {
		// Creating the role repairs everything else about it at once.
		return []Finding{{
			Kind: KindRoleMissing, Observed: "absent", Desired: d.RoleARN(), Action: ActionCreateRole,
		}}, nil
	}
	var out []Finding
	if r.Path != "" && r.Path != d.RolePath {
		out = append(out, Finding{
			Kind: KindRolePathMismatch, Observed: r.Path, Desired: d.RolePath, Action: ActionNone,
		})
	}
	same, err := SamePolicy(r.TrustPolicy, d.TrustPolicy())
	if err != nil {
		return nil, fmt.Errorf("reading trust policy of role %s: %w", d.RoleName, err)
	}
	if !same {
		out = append(out, Finding{
			Kind: KindTrustPolicyDrift, Observed: CompactPolicy(r.TrustPolicy), Desired: d.TrustPolicy(),
			Action: ActionUpdateTrustPolicy,
		})
	}
	required := d.ManagedPolicyARN()
	if !slices.Contains(r.AttachedPolicyARNs, required) {
		out = append(out, Finding{
			Kind: KindManagedPolicyMissing, Observed: "not attached", Desired: required,
			Action: ActionAttachPolicy, Target: required,
		})
	}
	allowed := d.AllowedPolicyARNs()
	for _, arn := range sorted(r.AttachedPolicyARNs) {
		if !slices.Contains(allowed, arn) {
			out = append(out, Finding{
				Kind: KindUnexpectedManagedPolicy, Observed: arn, Desired: "not attached",
				Action: ActionDetachPolicy, Target: arn,
			})
		}
	}
	for _, name := range sorted(r.InlinePolicyNames) {
		out = append(out, Finding{
			Kind: KindUnexpectedInlinePolicy, Observed: name, Desired: "no inline policies",
			Action: ActionDeleteInlinePolicy, Target: name,
		})
	}
	if r.PermissionsBoundaryARN != d.PermissionsBoundaryARN {
		f := Finding{
			Kind: KindPermissionsBoundaryDrift, Observed: orNone(r.PermissionsBoundaryARN),
			Desired: orNone(d.PermissionsBoundaryARN),
		}
		if d.PermissionsBoundaryARN == "" {
			f.Action, f.Target = ActionDeleteBoundary, r.PermissionsBoundaryARN
		} else {
			f.Action, f.Target = ActionPutPermissionsBoundary, d.PermissionsBoundaryARN
		}
		out = append(out, f)
	}
	return out, nil
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
