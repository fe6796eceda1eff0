package dhmc

import (
	"fmt"
	"strings"
)

// StatusPendingUpdate is the setting status while SSM applies a change.
const StatusPendingUpdate = "PendingUpdate"

// Plan compares what was read with what is desired and returns one finding
// per difference: the desired roles first (in name order), then the other
// roles settings name, then the settings in the order observed, then
// unreachable Regions and watched policies. Role findings come first because
// repairs follow this order: a setting is written after its role is right.
//
// Plan never lets a setting be pointed at a role it has not seen: a write
// whose role was not read at exactly the configured path and name is
// planned with Blocked set (a role that is missing is created first, and the
// executor verifies it by reading it back). A setting that names another
// manager's working role (RecogniseManager) is left alone as
// managed-elsewhere unless d.TakeOver; one that names a role with more
// privileges than allowed is drift whoever seems to own it.
//
// It is pure: no AWS, no clock. It fails only when a policy document cannot
// be read, so that nothing is repaired on a guess.
func Plan(d Desired, o Observed) ([]Finding, error) {
	p := planner{d: d, o: o, needed: map[string]bool{}}
	settings := make([]Finding, 0, len(o.Settings))
	for _, s := range o.Settings {
		f, ok, err := p.setting(s)
		if err != nil {
			return nil, err
		}
		if ok {
			settings = append(settings, f)
		}
	}
	var out []Finding
	regions := make([]string, len(o.Settings))
	for i, s := range o.Settings {
		regions[i] = s.Region
	}
	for _, name := range sortedFold(d.RoleNames(regions)) {
		rf, err := p.desiredRole(name, len(o.Settings) == 0)
		if err != nil {
			return nil, err
		}
		out = append(out, rf...)
	}
	out = append(out, p.foreign...)
	out = append(out, settings...)
	for _, u := range o.Unreachable {
		out = append(out, Finding{
			Kind: KindRegionUnreachable, Region: u.Region, Role: d.RoleNameIn(u.Region),
			Observed: u.Error, Desired: "readable by the guard", Action: ActionNone,
		})
	}
	for _, pol := range o.Policies {
		out = append(out, Finding{
			Kind: KindAllowedPolicyChanged, Target: pol.ARN,
			Observed: "default version " + pol.DefaultVersion, Desired: "a default version a person has reviewed",
			Action: ActionNone, Document: CompactPolicy(pol.Document),
		})
	}
	return out, nil
}

type planner struct {
	d Desired
	o Observed
	// needed are the desired roles (lower-cased) that a setting names or
	// will be written to: a missing one must be created.
	needed map[string]bool
	// foreign are findings on roles the settings name that are not the
	// configured ones; each role once.
	foreign     []Finding
	foreignSeen map[string]roleVerdict
}

// setting plans one Region's setting; false means it is as desired.
func (p *planner) setting(s SettingState) (Finding, bool, error) {
	d := p.d
	role := d.RoleNameIn(s.Region)
	want := d.SettingValueIn(s.Region)
	f := Finding{
		Region: s.Region, Role: role, Observed: s.Value, Desired: want,
		LastModifiedUser: s.LastModifiedUser, LastModifiedDate: s.LastModifiedDate,
	}
	got := NormalizeSettingValue(d, s.Value)
	ours, ourRead := p.o.Role(role)
	switch {
	case s.Status == StatusPendingUpdate:
		// Someone's change is being applied: look again next time.
		f.Kind, f.Action = KindSettingPending, ActionNone
		return f, true, nil
	case got == "":
		f.Kind, f.Action = KindSettingDisabled, ActionUpdateSetting
		p.write(&f)
		return f, true, nil
	case got == want:
		switch {
		case ourRead && !ours.Exists:
			// Writing the value again after the role is created makes the
			// repair wait until SSM can see the new role.
			f.Kind, f.Action = KindSettingRoleMissing, ActionUpdateSetting
			p.write(&f)
			return f, true, nil
		case ourRead && ours.Path != d.RolePath:
			f.Kind, f.Action = KindSettingRoleMissing, ActionUpdateSetting
			p.write(&f)
			return f, true, nil
		}
		return f, false, nil
	}

	f.Kind, f.Action = KindSettingWrongRole, ActionUpdateSetting
	path, name := splitSettingValue(got)
	if strings.EqualFold(name, role) {
		if ourRead && ours.Exists && ours.Path == path {
			// The setting names the role where it really is; only the
			// configured path differs. Rewriting would name a role that
			// cannot exist (role names are unique across paths).
			if m, ok := RecogniseManager(ours, s.Region); ok {
				v, err := assessRole(d, ours, false)
				if err != nil {
					return Finding{}, false, err
				}
				f.Manager = m
				if v.working && !v.escalated {
					f.Kind, f.Action = KindManagedElsewhere, ActionNone
					f.Adopt = FormatParameters(AdoptParameters(ours, s.Region))
					return f, true, nil
				}
			}
			f.Blocked = fmt.Sprintf("the setting names role %s at path %s, where it is; IAM cannot move a role: set RolePath=%s to adopt it, or delete the role so the guard recreates it at %s",
				ours.Name, ours.Path, ours.Path, d.RolePath)
			f.Adopt = FormatParameters(AdoptParameters(ours, s.Region))
			return f, true, nil
		}
		p.write(&f)
		return f, true, nil
	}
	if name == "" {
		// An ARN of another account or partition: no role here to check.
		p.write(&f)
		return f, true, nil
	}

	v, err := p.foreignRole(name, path, s.Region)
	if err != nil {
		return Finding{}, false, err
	}
	f.Manager = v.manager
	switch {
	case v.unread != "":
		f.Blocked = fmt.Sprintf("role %s, which the setting names, could not be read (%s): the guard does not replace a setting whose role it could not check", name, v.unread)
	case v.escalated:
		// More privileges than allowed reach every instance: take them away
		// by pointing the setting at the configured role, whoever owns it.
		p.write(&f)
	case v.working && v.manager != "" && !d.TakeOver:
		f.Kind, f.Action = KindManagedElsewhere, ActionNone
		f.Adopt = FormatParameters(AdoptParameters(v.role, s.Region))
	default:
		p.write(&f)
	}
	return f, true, nil
}

// write marks f's role as needed and blocks f when the role is known to be
// unusable: the setting will only ever name a role read at exactly the
// configured path and name (a missing one is created and read back first).
func (p *planner) write(f *Finding) {
	key := strings.ToLower(f.Role)
	p.needed[key] = true
	if e, bad := p.o.RoleError(f.Role); bad {
		f.Blocked = fmt.Sprintf("role %s could not be read (%s): the guard never points a setting at a role it has not verified", f.Role, e)
		return
	}
	r, read := p.o.Role(f.Role)
	switch {
	case !read:
		f.Blocked = fmt.Sprintf("role %s was not read in this run: the guard never points a setting at a role it has not verified", f.Role)
	case r.Exists && r.Path != p.d.RolePath:
		f.Blocked = fmt.Sprintf("role %s exists at path %s, not %s (role-path-mismatch): the setting would name a role that does not exist", r.Name, r.Path, p.d.RolePath)
	}
}

// desiredRole plans a configured role. A missing role is created only when
// a setting needs it (or no setting could be compared), so that a Region
// managed elsewhere gets no role it would never use.
func (p *planner) desiredRole(name string, noSettings bool) ([]Finding, error) {
	r, read := p.o.Role(name)
	if !read {
		return nil, nil
	}
	d := p.d
	if !r.Exists {
		if !p.needed[strings.ToLower(name)] && !noSettings {
			return nil, nil
		}
		// Creating the role repairs everything else about it at once.
		return []Finding{{
			Kind: KindRoleMissing, Role: name, Observed: "absent", Desired: d.RoleARNIn(regionOf(d, name)), Action: ActionCreateRole,
		}}, nil
	}
	v, err := assessRole(d, r, true)
	if err != nil {
		return nil, err
	}
	if r.Path != d.RolePath {
		if m, ok := RecogniseManager(r, regionOf(d, name)); ok {
			// Another manager's role holds the name: the guard can neither
			// create its own nor change this one. Only what widens it is
			// worth a finding.
			me := Finding{
				Kind: KindManagedElsewhere, Role: name, Observed: r.Path, Desired: d.RolePath, Action: ActionNone,
				Manager: m, Adopt: FormatParameters(AdoptParameters(r, regionOf(d, name))),
			}
			out := []Finding{me}
			for _, f := range v.findings {
				if Escalates(f) {
					f.Action, f.Manager = ActionNone, m
					f.Blocked = fmt.Sprintf("role %s belongs to %s, at path %s outside the configured %s: the guard may not change it", r.Name, m, r.Path, d.RolePath)
					out = append(out, f)
				}
			}
			return out, nil
		}
		blocked := fmt.Sprintf("role %s is at path %s, outside the configured %s: the guard may only change the role at the configured path", r.Name, r.Path, d.RolePath)
		for i := range v.findings {
			v.findings[i].Blocked = blocked
		}
		pm := Finding{
			Kind: KindRolePathMismatch, Role: name, Observed: r.Path, Desired: d.RolePath, Action: ActionNone,
			Blocked: fmt.Sprintf("IAM cannot move role %s from %s to %s: set RolePath=%s to adopt it, or delete it so the guard recreates it at %s",
				r.Name, r.Path, d.RolePath, r.Path, d.RolePath),
			Adopt: "RolePath=" + r.Path,
		}
		return append([]Finding{pm}, v.findings...), nil
	}
	return v.findings, nil
}

// foreignRole judges, once per run, a role a setting names that is not the
// configured one.
func (p *planner) foreignRole(name, path, region string) (roleVerdict, error) {
	key := strings.ToLower(name)
	if v, ok := p.foreignSeen[key]; ok {
		return v, nil
	}
	if p.foreignSeen == nil {
		p.foreignSeen = map[string]roleVerdict{}
	}
	var v roleVerdict
	if e, bad := p.o.RoleError(name); bad {
		v.unread = e
	} else if r, read := p.o.Role(name); !read {
		v.unread = "it was not read in this run"
	} else if r.Exists && r.Path == path {
		var err error
		if v, err = assessRole(p.d, r, false); err != nil {
			return roleVerdict{}, err
		}
		v.manager, _ = RecogniseManager(r, region)
		blocked := fmt.Sprintf("role %s is not the configured role: the guard writes only to %s; the setting is pointed there instead", r.Name, p.d.RoleName)
		for _, f := range v.findings {
			if Escalates(f) {
				f.Blocked, f.Manager = blocked, v.manager
				p.foreign = append(p.foreign, f)
			}
		}
	}
	p.foreignSeen[key] = v
	return v, nil
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

// splitSettingValue splits a normalised value into the role's path and
// name; an ARN (another account or partition) has no name here.
func splitSettingValue(v string) (path, name string) {
	if strings.HasPrefix(v, "arn:") {
		return "", ""
	}
	i := strings.LastIndexByte(v, '/')
	if i < 0 {
		return "/", v
	}
	return "/" + v[:i+1], v[i+1:]
}

// regionOf finds a Region whose role is name, for per-Region role ARNs; ""
// for a single role.
func regionOf(d Desired, name string) string {
	base, ok := strings.CutSuffix(d.RoleName, RegionPlaceholder)
	if !ok || len(name) <= len(base) {
		return ""
	}
	return name[len(base):]
}
