// Package logleveltest renders the template per allowed LogLevel for the
// tests; apart from loglevel so the functions never link the renderer.
package logleveltest

import (
	"fmt"

	"github.com/dhmc-guard/dhmc-guard/infra"
	"github.com/dhmc-guard/dhmc-guard/internal/loglevel"
)

// Cases renders the template once per allowed LogLevel and returns what
// each deploys for the function (a resource name such as GuardFunction), so
// a test runs the function exactly as each choice deploys it.
func Cases(templatePath, function string) ([]loglevel.Case, error) {
	t, err := infra.Load(templatePath)
	if err != nil {
		return nil, err
	}
	params, _ := t.Raw("Parameters").(map[string]any)
	p, _ := params["LogLevel"].(map[string]any)
	allowed, _ := p["AllowedValues"].([]any)
	if len(allowed) == 0 {
		return nil, fmt.Errorf("%s: no LogLevel AllowedValues", templatePath)
	}
	var out []loglevel.Case
	for _, v := range allowed {
		level := fmt.Sprint(v)
		env := infra.DefaultEnv()
		env.Params = map[string]string{"LogLevel": level}
		r, err := t.Render(env)
		if err != nil {
			return nil, fmt.Errorf("rendering with LogLevel %s: %w", level, err)
		}
		fn, ok := r.Resources[function]
		if !ok {
			return nil, fmt.Errorf("%s: no resource %s", templatePath, function)
		}
		lc, _ := fn.Properties["LoggingConfig"].(map[string]any)
		envp, _ := fn.Properties["Environment"].(map[string]any)
		vars, _ := envp["Variables"].(map[string]any)
		c := loglevel.Case{Param: level, Filter: fmt.Sprint(lc["ApplicationLogLevel"]), Own: fmt.Sprint(vars[loglevel.EnvLevel])}
		if lc["LogFormat"] != "JSON" || lc["ApplicationLogLevel"] == nil {
			return nil, fmt.Errorf("LogLevel %s: %s has no JSON log format with an application log level: %v", level, function, lc)
		}
		out = append(out, c)
	}
	return out, nil
}
