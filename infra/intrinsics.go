package infra

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

func (r *renderer) pseudo(name string) (string, bool) {
	switch name {
	case "AWS::Region":
		return r.env.Region, true
	case "AWS::AccountId":
		return r.env.AccountID, true
	case "AWS::Partition":
		return r.env.Partition, true
	case "AWS::StackName":
		return r.env.StackName, true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	case "AWS::StackId":
		return "arn:" + r.env.Partition + ":cloudformation:" + r.env.Region + ":" + r.env.AccountID + ":stack/" + r.env.StackName + "/" + r.env.stackUUID(), true
	}
	return "", false
}

func (r *renderer) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	if v, ok := r.pseudo(name); ok {
		return v, nil
	}
	if v, ok := r.params[name]; ok {
		if r.paramType[name] == "CommaDelimitedList" {
			var out []any
			for _, s := range strings.Split(v, ",") {
				out = append(out, s)
			}
			return out, nil
		}
		return v, nil
	}
	if _, ok := r.resources[name]; ok {
		return "ref:" + name, nil
	}
	return nil, fmt.Errorf("!Ref %s: no such parameter or resource", name)
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

func (r *renderer) eval(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, c := range v {
			ev, err := r.eval(c)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, skip := ev.(noValue); skip {
				continue
			}
			out[k] = ev
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(v))
		for _, c := range v {
			ev, err := r.eval(c)
			if err != nil {
				return nil, err
			}
			if _, skip := ev.(noValue); skip {
				continue
			}
			out = append(out, ev)
		}
		return out, nil
	case Intrinsic:
		return r.intrinsic(v)
	}
	return v, nil
}

func (r *renderer) intrinsic(in Intrinsic) (any, error) {
	switch in.Fn {
	case "Ref":
		name, ok := in.Arg.(string)
		if !ok {
			return nil, errors.New("!Ref takes a name")
		}
		return r.ref(name)
	case "Fn::GetAtt":
		args, _ := in.Arg.([]any)
		if len(args) != 2 {
			return nil, errors.New("!GetAtt takes [Resource, Attribute]")
		}
		logical, _ := args[0].(string)
		attr, _ := args[1].(string)
		if _, ok := r.resources[logical]; !ok {
			return nil, fmt.Errorf("!GetAtt %s.%s: no such resource", logical, attr)
		}
		return "getatt:" + logical + "." + attr, nil
	case "Fn::Sub":
		var tmpl string
		vars := map[string]any{}
		switch a := in.Arg.(type) {
		case string:
			tmpl = a
		case []any:
			if len(a) != 2 {
				return nil, errors.New("!Sub takes a string or [string, variables]")
			}
			tmpl, _ = a[0].(string)
			m, _ := a[1].(map[string]any)
			for k, mv := range m {
				ev, err := r.eval(mv)
				if err != nil {
					return nil, err
				}
				vars[k] = ev
			}
		default:
			return nil, errors.New("!Sub takes a string or [string, variables]")
		}
		var firstErr error
		out := subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
			name := m[2 : len(m)-1]
			if v, ok := vars[name]; ok {
				return fmt.Sprint(v)
			}
			var v any
			var err error
			if logical, attr, found := strings.Cut(name, "."); found {
				v, err = r.intrinsic(Intrinsic{Fn: "Fn::GetAtt", Arg: []any{logical, attr}})
			} else {
				v, err = r.ref(name)
			}
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("!Sub %q: %w", tmpl, err)
			}
			return fmt.Sprint(v)
		})
		if firstErr != nil {
			return nil, firstErr
		}
		return strings.ReplaceAll(out, "${!", "${"), nil
	case "Fn::If":
		args, _ := in.Arg.([]any)
		if len(args) != 3 {
			return nil, errors.New("!If takes [condition, then, else]")
		}
		on, err := r.condition(args[0])
		if err != nil {
			return nil, err
		}
		if on {
			return r.eval(args[1])
		}
		return r.eval(args[2])
	case "Fn::Split":
		args, _ := in.Arg.([]any)
		if len(args) != 2 {
			return nil, errors.New("!Split takes [delimiter, string]")
		}
		sep, _ := args[0].(string)
		s, err := r.eval(args[1])
		if err != nil {
			return nil, err
		}
		str, ok := s.(string)
		if !ok {
			return nil, errors.New("!Split of a value that is not a string")
		}
		var out []any
		for _, p := range strings.Split(str, sep) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Select":
		args, _ := in.Arg.([]any)
		if len(args) != 2 {
			return nil, errors.New("!Select takes [index, list]")
		}
		idx, err := r.eval(args[0])
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(fmt.Sprint(idx))
		if err != nil {
			return nil, fmt.Errorf("!Select index %v is not a number", idx)
		}
		l, err := r.eval(args[1])
		if err != nil {
			return nil, err
		}
		list, ok := l.([]any)
		if !ok || n < 0 || n >= len(list) {
			return nil, fmt.Errorf("!Select %d of %v: out of range or not a list", n, l)
		}
		return list[n], nil
	case "Fn::Join":
		args, _ := in.Arg.([]any)
		if len(args) != 2 {
			return nil, errors.New("!Join takes [delimiter, list]")
		}
		sep, _ := args[0].(string)
		l, err := r.eval(args[1])
		if err != nil {
			return nil, err
		}
		list, ok := l.([]any)
		if !ok {
			return nil, errors.New("!Join of a value that is not a list")
		}
		parts := make([]string, 0, len(list))
		for _, p := range list {
			parts = append(parts, fmt.Sprint(p))
		}
		return strings.Join(parts, sep), nil
	}
	return nil, fmt.Errorf("intrinsic %s is not supported by the test renderer", in.Fn)
}
