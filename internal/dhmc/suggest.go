package dhmc

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Suggest returns the configuration that would adopt the DHMC setup found
// when it is consistent — every Region read has DHMC on, naming an existing,
// working role with no more privileges than allowed, all by one name (or one
// name per Region) at one path — and differs from d. Otherwise nil: a
// half-configured account is drift to repair, not a setup to adopt.
func Suggest(d Desired, o Observed) *SuggestedConfig {
	if len(o.Settings) == 0 {
		return nil
	}
	var (
		params   map[string]string
		managers []string
		roles    []string
	)
	for _, s := range o.Settings {
		got := NormalizeSettingValue(d, s.Value)
		if got == "" || s.Status == StatusPendingUpdate {
			return nil
		}
		path, name := splitSettingValue(got)
		r, read := o.Role(name)
		if name == "" || !read || !r.Exists || r.Path != path {
			return nil
		}
		v, err := assessRole(d, r, false)
		if err != nil || !v.working || v.escalated {
			return nil
		}
		p := AdoptParameters(r, s.Region)
		if params == nil {
			params = p
		} else if !maps.Equal(params, p) {
			return nil
		}
		if m, ok := RecogniseManager(r, s.Region); ok && !slices.Contains(managers, m) {
			managers = append(managers, m)
		}
		if !slices.Contains(roles, r.Name) {
			roles = append(roles, r.Name)
		}
	}
	sameName := strings.EqualFold(params["RoleName"], d.RoleName)
	if sameName && params["RolePath"] == d.RolePath && (params["Mode"] == "" || params["Mode"] == string(d.Mode)) {
		return nil
	}
	reason := fmt.Sprintf("DHMC is on in all %d Regions checked, naming %s at path %s", len(o.Settings), listNames(roles), params["RolePath"])
	if len(managers) > 0 {
		reason += ", managed by " + strings.Join(managers, " and ")
	}
	reason += ". Deploy with these parameters to keep it as it is"
	if params["Mode"] == string(ModeDetect) {
		reason += " (in detect mode: IAM lets nobody change a role in the reserved path)"
	}
	switch {
	case sameName && params["RolePath"] == d.RolePath:
		// Only the mode differs: there is nothing else to keep instead.
		reason += "."
	case sameName:
		// IAM role names are unique across paths: while that role exists,
		// the guard can create none of its own, TakeOver or not.
		reason += fmt.Sprintf("; or, to keep yours at %s, remove that role (SSM's own: deregister the SERVICE_MANAGED configuration first) and the guard creates it there: TakeOver cannot, since IAM role names are unique across paths.", d.RolePath)
	default:
		reason += "; or keep yours and set TakeOver=true to replace it."
	}
	return &SuggestedConfig{Parameters: params, Reason: reason}
}

func listNames(names []string) string {
	if len(names) <= 3 {
		return "role " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("%d roles (%s, ...)", len(names), strings.Join(names[:2], ", "))
}
