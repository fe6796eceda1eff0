package fleet

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Policy kinds.
const (
	PolicyAWSManaged      = "AWS managed"
	PolicyCustomerManaged = "customer managed"
	PolicyInline          = "inline"
)

// Policy is one policy document that applies to a role of an instance
// profile: attached (AWS or customer managed, its default version) or
// inline.
type Policy struct {
	Name     string
	Kind     string // PolicyAWSManaged, PolicyCustomerManaged or PolicyInline
	Role     string // the role it is on
	Document string // plain JSON (already URL-decoded)
}

// Label names the policy for people.
func (p Policy) Label() string {
	if p.Kind == PolicyInline {
		return fmt.Sprintf("%s (inline on %s)", p.Name, p.Role)
	}
	return fmt.Sprintf("%s (%s)", p.Name, p.Kind)
}

// Profile is an instance profile with the policies of its roles, compiled
// for the one question the report asks of it.
type Profile struct {
	ARN, Name string
	Roles     []string
	// Err is set when the profile or a policy could not be read: whether it
	// grants is then unknown.
	Err   string
	stmts []statement
}

// statement is the part of a policy statement that decides whether it
// applies to ssm:UpdateInstanceInformation on an instance.
type statement struct {
	deny        bool
	conditional bool
	resources   []*regexp.Regexp
	notResource bool
	policy      string // Label of its policy
}

// NewProfile compiles the statements of policies that match
// ssm:UpdateInstanceInformation. A document that is not a policy is an
// error: the caller reports the profile as unreadable rather than guess.
func NewProfile(arn, name string, roles []string, policies []Policy) (*Profile, error) {
	p := &Profile{ARN: arn, Name: name, Roles: roles}
	for _, pol := range policies {
		stmts, err := compile(pol)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", pol.Label(), err)
		}
		p.stmts = append(p.stmts, stmts...)
	}
	return p, nil
}

// Grants reports whether the profile allows ssm:UpdateInstanceInformation
// on resource (an instance ARN), and which policies allow it. IAM's rules
// for identity policies: an explicit Deny wins over any Allow. Conditions
// cannot be evaluated here (they depend on the request), so the report errs
// towards "the profile wins": an Allow with a condition counts as an Allow,
// and a Deny with a condition is not trusted to deny. Permissions
// boundaries, session policies and SCPs are not read.
func (p *Profile) Grants(resource string) (bool, []string) {
	var via []string
	for _, st := range p.stmts {
		if !st.matchesResource(resource) {
			continue
		}
		if st.deny {
			if !st.conditional {
				return false, nil
			}
			continue
		}
		if !containsString(via, st.policy) {
			via = append(via, st.policy)
		}
	}
	return len(via) > 0, via
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (st statement) matchesResource(res string) bool {
	hit := false
	for _, re := range st.resources {
		if re.MatchString(res) {
			hit = true
			break
		}
	}
	return hit != st.notResource
}

type rawStatement struct {
	Effect      string          `json:"Effect"`
	Action      json.RawMessage `json:"Action"`
	NotAction   json.RawMessage `json:"NotAction"`
	Resource    json.RawMessage `json:"Resource"`
	NotResource json.RawMessage `json:"NotResource"`
	Condition   json.RawMessage `json:"Condition"`
}

func compile(pol Policy) ([]statement, error) {
	var doc struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(pol.Document), &doc); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	var raws []rawStatement
	switch t := strings.TrimSpace(string(doc.Statement)); {
	case strings.HasPrefix(t, "["):
		if err := json.Unmarshal(doc.Statement, &raws); err != nil {
			return nil, fmt.Errorf("statements: %w", err)
		}
	case strings.HasPrefix(t, "{"):
		var one rawStatement
		if err := json.Unmarshal(doc.Statement, &one); err != nil {
			return nil, fmt.Errorf("statement: %w", err)
		}
		raws = []rawStatement{one}
	default:
		return nil, errors.New("no Statement")
	}
	var out []statement
	for i, r := range raws {
		if r.Effect != "Allow" && r.Effect != "Deny" {
			return nil, fmt.Errorf("statement %d: Effect %q", i, r.Effect)
		}
		applies, err := actionApplies(r.Action, r.NotAction)
		if err != nil {
			return nil, fmt.Errorf("statement %d: %w", i, err)
		}
		if !applies {
			continue
		}
		st := statement{deny: r.Effect == "Deny", policy: pol.Label(), conditional: hasCondition(r.Condition)}
		patterns := r.Resource
		if len(r.NotResource) > 0 {
			patterns, st.notResource = r.NotResource, true
		}
		list, err := stringList(patterns)
		if err != nil {
			return nil, fmt.Errorf("statement %d: Resource: %w", i, err)
		}
		for _, p := range list {
			st.resources = append(st.resources, globRE(p, false))
		}
		out = append(out, st)
	}
	return out, nil
}

func hasCondition(raw json.RawMessage) bool {
	t := strings.TrimSpace(string(raw))
	return t != "" && t != "null" && t != "{}"
}

// actionApplies reports whether Action (or NotAction) covers
// ssm:UpdateInstanceInformation. Action names are case-insensitive and take
// the wildcards * and ?.
func actionApplies(action, notAction json.RawMessage) (bool, error) {
	raw, invert := action, false
	if len(notAction) > 0 {
		raw, invert = notAction, true
	}
	list, err := stringList(raw)
	if err != nil {
		return false, fmt.Errorf("action list: %w", err)
	}
	hit := false
	for _, a := range list {
		if globRE(a, true).MatchString(UpdateInstanceInformation) {
			hit = true
			break
		}
	}
	return hit != invert, nil
}

// stringList reads a string or an array of strings.
func stringList(raw json.RawMessage) ([]string, error) {
	t := strings.TrimSpace(string(raw))
	switch {
	case t == "" || t == "null":
		return nil, nil
	case strings.HasPrefix(t, "["):
		var l []string
		err := json.Unmarshal(raw, &l)
		return l, err
	default:
		var s string
		err := json.Unmarshal(raw, &s)
		return []string{s}, err
	}
}

// policyVariable matches ${aws:username} and the like: unknown here, so it
// matches anything.
var policyVariable = regexp.MustCompile(`\$\{[^}]*\}`)

// globRE turns an IAM pattern (* any run, ? one character) into an anchored
// regular expression.
func globRE(pattern string, fold bool) *regexp.Regexp {
	var b strings.Builder
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	rest := pattern
	for rest != "" {
		if loc := policyVariable.FindStringIndex(rest); loc != nil && loc[0] == 0 {
			b.WriteString(".*")
			rest = rest[loc[1]:]
			continue
		}
		switch c := rest[0]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
		rest = rest[1:]
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
