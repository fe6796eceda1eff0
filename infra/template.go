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

// JSON returns v (a rendered value) as JSON, for building events and
// patterns; numbers keep their written form.
func JSON(v any) ([]byte, error) {
	return json.Marshal(v)
}
