package infra

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
)

// noValue marks AWS::NoValue: the enclosing key or list element disappears.
type noValue struct{}

// Render evaluates the template for env.
func (t *Template) Render(env Env) (*Rendered, error) {
	r := &renderer{env: env, params: map[string]string{}, conds: map[string]bool{}}
	if err := r.loadParams(t.doc["Parameters"]); err != nil {
		return nil, err
	}
	if err := r.loadConditions(t.doc["Conditions"]); err != nil {
		return nil, err
	}
	resources, _ := t.doc["Resources"].(map[string]any)
	if len(resources) == 0 {
		return nil, errors.New("template has no Resources")
	}
	r.resources = resources
	out := &Rendered{Params: r.params, Conditions: r.conds, Resources: map[string]Resource{}, Outputs: map[string]any{}}
	for name, raw := range resources {
		res, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("resource %s is not a mapping", name)
		}
		if c, ok := res["Condition"]; ok {
			on, err := r.condition(c)
			if err != nil {
				return nil, fmt.Errorf("resource %s: %w", name, err)
			}
			if !on {
				continue
			}
		}
		typ, _ := res["Type"].(string)
		if typ == "" {
			return nil, fmt.Errorf("resource %s has no Type", name)
		}
		rr := Resource{Type: typ, Other: map[string]any{}}
		for k, v := range res {
			switch k {
			case "Type", "Condition":
				continue
			}
			ev, err := r.eval(v)
			if err != nil {
				return nil, fmt.Errorf("resource %s.%s: %w", name, k, err)
			}
			switch k {
			case "Properties":
				rr.Properties, _ = ev.(map[string]any)
			case "Metadata":
				rr.Metadata, _ = ev.(map[string]any)
			default:
				rr.Other[k] = ev
			}
		}
		if rr.Properties == nil {
			rr.Properties = map[string]any{}
		}
		out.Resources[name] = rr
	}
	outputs, _ := t.doc["Outputs"].(map[string]any)
	for name, raw := range outputs {
		o, _ := raw.(map[string]any)
		if c, ok := o["Condition"]; ok {
			on, err := r.condition(c)
			if err != nil {
				return nil, fmt.Errorf("output %s: %w", name, err)
			}
			if !on {
				continue
			}
		}
		v, err := r.eval(o["Value"])
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", name, err)
		}
		out.Outputs[name] = v
	}
	return out, nil
}

type renderer struct {
	env       Env
	params    map[string]string
	paramType map[string]string
	conds     map[string]bool
	rawConds  map[string]any
	resources map[string]any
}

func (r *renderer) loadParams(section any) error {
	params, _ := section.(map[string]any)
	r.paramType = map[string]string{}
	for name, raw := range params {
		p, _ := raw.(map[string]any)
		typ, _ := p["Type"].(string)
		r.paramType[name] = typ
		v, given := r.env.Params[name]
		if !given {
			d, ok := p["Default"]
			if !ok {
				return fmt.Errorf("parameter %s has no default and was not given", name)
			}
			v = fmt.Sprint(d)
		}
		if allowed, ok := p["AllowedValues"].([]any); ok {
			found := false
			for _, a := range allowed {
				if fmt.Sprint(a) == v {
					found = true
				}
			}
			if !found {
				return fmt.Errorf("parameter %s: %q is not an allowed value", name, v)
			}
		}
		if pat, ok := p["AllowedPattern"].(string); ok {
			re, err := regexp.Compile("^(?:" + pat + ")$")
			if err != nil {
				return fmt.Errorf("parameter %s: AllowedPattern: %w", name, err)
			}
			if !re.MatchString(v) {
				return fmt.Errorf("parameter %s: %q does not match AllowedPattern %s", name, v, pat)
			}
		}
		r.params[name] = v
	}
	for name := range r.env.Params {
		if _, ok := params[name]; !ok {
			return fmt.Errorf("parameter %s is not in the template", name)
		}
	}
	return nil
}

func (r *renderer) loadConditions(section any) error {
	r.rawConds, _ = section.(map[string]any)
	names := make([]string, 0, len(r.rawConds))
	for name := range r.rawConds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := r.namedCondition(name, nil); err != nil {
			return err
		}
	}
	return nil
}

func (r *renderer) namedCondition(name string, seen []string) (bool, error) {
	if v, ok := r.conds[name]; ok {
		return v, nil
	}
	for _, s := range seen {
		if s == name {
			return false, fmt.Errorf("condition %s refers to itself", name)
		}
	}
	raw, ok := r.rawConds[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %q", name)
	}
	v, err := r.condExpr(raw, append(seen, name))
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	r.conds[name] = v
	return v, nil
}

// condition evaluates a resource's or output's Condition attribute (a name).
func (r *renderer) condition(c any) (bool, error) {
	name, ok := c.(string)
	if !ok {
		return false, fmt.Errorf("condition must be a name, got %v", c)
	}
	return r.namedCondition(name, nil)
}

func (r *renderer) condExpr(v any, seen []string) (bool, error) {
	// The long form of a condition reference, {"Condition": name}, as
	// generated templates (infra/org) write it.
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if name, ok := m["Condition"].(string); ok {
			return r.namedCondition(name, seen)
		}
	}
	in, ok := v.(Intrinsic)
	if !ok {
		return false, fmt.Errorf("condition must be a function, got %v", v)
	}
	args, _ := in.Arg.([]any)
	switch in.Fn {
	case "Condition":
		name, _ := in.Arg.(string)
		return r.namedCondition(name, seen)
	case "Fn::Equals":
		if len(args) != 2 {
			return false, errors.New("Fn::Equals takes two values")
		}
		a, err := r.eval(args[0])
		if err != nil {
			return false, err
		}
		b, err := r.eval(args[1])
		if err != nil {
			return false, err
		}
		return fmt.Sprint(a) == fmt.Sprint(b), nil
	case "Fn::Not":
		if len(args) != 1 {
			return false, errors.New("Fn::Not takes one condition")
		}
		b, err := r.condExpr(args[0], seen)
		return !b, err
	case "Fn::And", "Fn::Or":
		if len(args) < 2 {
			return false, fmt.Errorf("%s takes at least two conditions", in.Fn)
		}
		and := in.Fn == "Fn::And"
		for _, a := range args {
			b, err := r.condExpr(a, seen)
			if err != nil {
				return false, err
			}
			if and && !b {
				return false, nil
			}
			if !and && b {
				return true, nil
			}
		}
		return and, nil
	}
	return false, fmt.Errorf("%s is not a condition function", in.Fn)
}
