package infra_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/infra"
	"github.com/dhmc-guard/dhmc-guard/internal/eventpattern"
)

const (
	account       = "123456789012"
	dhmcRoleName  = "AWSSystemsManagerDefaultEC2InstanceManagementRole"
	settingSuffix = ":servicesetting/ssm/managed-instance/default-ec2-instance-management-role"
)

func render(t *testing.T, file string, env infra.Env) *infra.Rendered {
	t.Helper()
	tmpl, err := infra.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tmpl.Render(env)
	if err != nil {
		t.Fatalf("rendering %s: %v", file, err)
	}
	return r
}

func envWith(region string, params map[string]string) infra.Env {
	env := infra.DefaultEnv()
	if region != "" {
		env.Region = region
	}
	env.Params = params
	return env
}

func resource(t *testing.T, r *infra.Rendered, name, typ string) infra.Resource {
	t.Helper()
	res, ok := r.Resources[name]
	if !ok {
		t.Fatalf("no resource %s", name)
	}
	if res.Type != typ {
		t.Fatalf("resource %s is a %s, want %s", name, res.Type, typ)
	}
	return res
}

// get walks a rendered value by keys (map keys or list indexes given as int).
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	cur := v
	for i, p := range path {
		switch key := p.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("%v: not a mapping at %v", path, path[:i])
			}
			next, ok := m[key]
			if !ok {
				t.Fatalf("%v: no key %q", path, key)
			}
			cur = next
		case int:
			l, ok := cur.([]any)
			if !ok || key >= len(l) {
				t.Fatalf("%v: no element %d", path, key)
			}
			cur = l[key]
		}
	}
	return cur
}

func str(v any) string { return fmt.Sprint(v) }

// strings turns a string or a list of strings into a sorted list.
func strs(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		out = []string{v}
	case []any:
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
	}
	sort.Strings(out)
	return out
}

// rulePatterns are the function's EventBridge rules, by the rule group the
// events index names ("ssm", "iam").
var ruleGroups = map[string][]string{
	"ssm": {"SsmSettingChange", "SsmDhmcApiCall"},
	"iam": {"IamRoleChange", "IamPolicyVersionChange"},
}

// functionPatterns returns the rendered pattern of each of the function's
// EventBridgeRule events, by event name.
func functionPatterns(t *testing.T, r *infra.Rendered) map[string]any {
	t.Helper()
	fn := resource(t, r, "GuardFunction", "AWS::Serverless::Function")
	events, _ := fn.Properties["Events"].(map[string]any)
	out := map[string]any{}
	for name, ev := range events {
		if str(get(t, ev, "Type")) != "EventBridgeRule" {
			continue
		}
		out[name] = get(t, ev, "Properties", "Pattern")
	}
	return out
}

func compile(t *testing.T, pattern any) *eventpattern.Pattern {
	t.Helper()
	p, err := eventpattern.Compile(pattern)
	if err != nil {
		t.Fatalf("pattern %v: %v", pattern, err)
	}
	return p
}

type sample struct {
	Kind        string  `json:"kind"`
	MatchesRule *string `json:"matchesRule"`
	Description string  `json:"description"`
}

// loadSamples reads events/index.json and checks it lists exactly the files
// in events/.
func loadSamples(t *testing.T) map[string]sample {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "events", "index.json"))
	if err != nil {
		t.Fatalf("the sample events' index: %v", err)
	}
	var index map[string]sample
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatalf("events/index.json: %v", err)
	}
	files, err := filepath.Glob(filepath.Join("..", "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	onDisk := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "index.json" {
			continue
		}
		onDisk[name] = true
		if _, ok := index[name]; !ok {
			t.Errorf("events/%s is not in events/index.json", name)
		}
	}
	for name := range index {
		if !onDisk[name] {
			t.Errorf("events/index.json lists %s, which does not exist", name)
		}
	}
	if len(index) == 0 {
		t.Fatal("events/index.json lists no samples")
	}
	return index
}
