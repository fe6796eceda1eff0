// Package infra reads the project's CloudFormation/SAM templates for tests.
//
// Typed template models (goformation) drop what they do not model and blank
// intrinsic functions, so a test could pass on a field that was never read.
// This package reads the YAML itself, keeps every key, and renders the
// template the way CloudFormation would for a given set of parameters:
// parameters and pseudo parameters are substituted, conditions evaluated,
// resources whose condition is false left out, and references to resources
// turned into readable placeholders ("ref:AlertTopic",
// "getatt:GuardFunctionRole.Arn"). An intrinsic function it does not know is
// an error, never a silently empty value.
package infra

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed template, before rendering.
type Template struct {
	doc map[string]any
}

// Intrinsic is an intrinsic function call as written in the template
// (short form !Ref or long form {"Ref": ...}).
type Intrinsic struct {
	Fn  string // "Ref", "Fn::GetAtt", "Fn::Sub", ...
	Arg any
}

// Env is what a stack is deployed with.
type Env struct {
	Region, AccountID, Partition, StackName string
	// Params override the templates' defaults.
	Params map[string]string
}

// stackUUID stands for the UUID CloudFormation gives each stack (the last
// part of its ID): like the real one, it differs between two stacks of one
// account and Region, so names built from it can be checked for collisions.
func (e Env) stackUUID() string {
	h := sha256.Sum256([]byte(e.Partition + "/" + e.AccountID + "/" + e.Region + "/" + e.StackName))
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// DefaultEnv is a stack named dhmc-guard in eu-west-1 of the samples' account.
func DefaultEnv() Env {
	return Env{Region: "eu-west-1", AccountID: "123456789012", Partition: "aws", StackName: "dhmc-guard"}
}

// Rendered is a template after rendering: plain JSON-like values (maps,
// slices, strings, json.Number, bools, nil).
type Rendered struct {
	Params     map[string]string
	Conditions map[string]bool
	Resources  map[string]Resource
	Outputs    map[string]any
}

// Resource is one rendered resource.
type Resource struct {
	Type       string
	Properties map[string]any
	Metadata   map[string]any
	// Other holds the remaining attributes (DeletionPolicy, DependsOn, ...).
	Other map[string]any
}

// Load reads a template file.
func Load(path string) (*Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading template: %w", err)
	}
	return Parse(raw)
}

// Parse reads a template from YAML (JSON is YAML too).
func Parse(raw []byte) (*Template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("parsing template: %w", err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return nil, errors.New("parsing template: expected one YAML document")
	}
	v, err := convert(root.Content[0])
	if err != nil {
		return nil, fmt.Errorf("parsing template: %w", err)
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("parsing template: top level is not a mapping")
	}
	return &Template{doc: doc}, nil
}

// Raw returns a top-level section as parsed, intrinsics unevaluated.
func (t *Template) Raw(section string) any { return t.doc[section] }

var shortTags = map[string]string{
	"!Ref": "Ref", "!Condition": "Condition",
	"!GetAtt": "Fn::GetAtt", "!Sub": "Fn::Sub", "!If": "Fn::If", "!Equals": "Fn::Equals",
	"!Not": "Fn::Not", "!And": "Fn::And", "!Or": "Fn::Or", "!Split": "Fn::Split",
	"!Join": "Fn::Join", "!Select": "Fn::Select", "!GetAZs": "Fn::GetAZs",
	"!ImportValue": "Fn::ImportValue", "!FindInMap": "Fn::FindInMap",
	"!Base64": "Fn::Base64", "!Cidr": "Fn::Cidr", "!Transform": "Fn::Transform",
}

// convert turns a YAML node into JSON-like values, intrinsics as Intrinsic.
func convert(n *yaml.Node) (any, error) {
	if fn, ok := shortTags[n.Tag]; ok {
		// Tagged node: convert its content as if untagged.
		inner := *n
		inner.Tag = ""
		switch n.Kind {
		case yaml.ScalarNode:
			inner.Tag = "!!str"
		case yaml.SequenceNode:
			inner.Tag = "!!seq"
		case yaml.MappingNode:
			inner.Tag = "!!map"
		}
		arg, err := convert(&inner)
		if err != nil {
			return nil, err
		}
		if fn == "Fn::GetAtt" {
			if s, ok := arg.(string); ok {
				logical, attr, found := strings.Cut(s, ".")
				if !found {
					return nil, fmt.Errorf("line %d: !GetAtt %q needs Resource.Attribute", n.Line, s)
				}
				arg = []any{logical, attr}
			}
		}
		return Intrinsic{Fn: fn, Arg: arg}, nil
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.AliasNode:
		return convert(n.Alias)
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, err)
			}
			return b, nil
		case "!!int", "!!float":
			return json.Number(n.Value), nil
		default:
			return n.Value, nil
		}
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", n.Content[i].Line, k)
			}
			v, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		// Long form intrinsics: {"Ref": x}, {"Fn::Sub": x}, {"Condition": x}
		// only where a mapping has that single key.
		if len(out) == 1 {
			for k, v := range out {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return Intrinsic{Fn: k, Arg: v}, nil
				}
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
}

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

// JSON returns v (a rendered value) as JSON, for building events and
// patterns; numbers keep their written form.
func JSON(v any) ([]byte, error) {
	return json.Marshal(v)
}
