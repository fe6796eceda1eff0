package infra_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dhmc-guard/dhmc-guard/infra"
	"github.com/dhmc-guard/dhmc-guard/internal/metrics"
)

// metricRef is a metric a dashboard widget or an alarm names.
type metricRef struct {
	Namespace, Name string
	Dims            []string
	Where           string
}

func (m metricRef) String() string {
	return fmt.Sprintf("%s/%s{%s} (%s)", m.Namespace, m.Name, strings.Join(m.Dims, ","), m.Where)
}

var (
	searchCall = regexp.MustCompile(`SEARCH\(\s*'((?:[^'\\]|\\.)*)'`)
	searchExpr = regexp.MustCompile(`^\s*\{([^}]*)\}\s*(.*)$`)
	searchTerm = regexp.MustCompile(`([A-Za-z][A-Za-z0-9]*)\s*=\s*("[^"]*"|[^\s"()]+)`)
)

// dashboardMetrics reads every metric a CloudWatch dashboard body names:
// metric rows ([namespace, name, dim, value, ..., {options}], with "..."
// repeating the row above) and SEARCH expressions with a schema
// ({namespace,dim,...} MetricName="name"). What it cannot read is an
// error, never skipped: a metric it missed would go unchecked.
func dashboardMetrics(body string) ([]metricRef, []string, error) {
	var dash struct {
		Widgets []struct {
			Type       string         `json:"type"`
			Properties map[string]any `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		return nil, nil, fmt.Errorf("dashboard body is not JSON: %w", err)
	}
	var refs []metricRef
	var alarms []string
	for i, w := range dash.Widgets {
		where := fmt.Sprintf("widget %d %q", i, w.Properties["title"])
		switch w.Type {
		case "text":
			continue
		case "alarm":
			list, _ := w.Properties["alarms"].([]any)
			for _, a := range list {
				alarms = append(alarms, fmt.Sprint(a))
			}
			continue
		case "metric":
		default:
			return nil, nil, fmt.Errorf("%s: widget type %q: teach dashboardMetrics to read it", where, w.Type)
		}
		rows, ok := w.Properties["metrics"].([]any)
		if !ok || len(rows) == 0 {
			return nil, nil, fmt.Errorf("%s: no metrics", where)
		}
		var prev []any
		for _, raw := range rows {
			row, ok := raw.([]any)
			if !ok || len(row) == 0 {
				return nil, nil, fmt.Errorf("%s: metric row %v is not a list", where, raw)
			}
			if opts, ok := row[0].(map[string]any); ok {
				expr, _ := opts["expression"].(string)
				found, err := searchMetrics(expr, where)
				if err != nil {
					return nil, nil, err
				}
				refs = append(refs, found...)
				continue
			}
			var fields []string
			for j, v := range row {
				if _, ok := v.(map[string]any); ok {
					if j != len(row)-1 {
						return nil, nil, fmt.Errorf("%s: options before the end of row %v", where, row)
					}
					break
				}
				s, ok := v.(string)
				if !ok {
					return nil, nil, fmt.Errorf("%s: row %v holds %v", where, row, v)
				}
				if s == "..." || s == "." {
					if j >= len(prev) {
						return nil, nil, fmt.Errorf("%s: %q with nothing above it", where, s)
					}
					s = fmt.Sprint(prev[j])
				}
				fields = append(fields, s)
			}
			prev = row
			if len(fields) < 2 || len(fields)%2 != 0 {
				return nil, nil, fmt.Errorf("%s: row %v is not namespace, name, dimension/value pairs", where, row)
			}
			ref := metricRef{Namespace: fields[0], Name: fields[1], Where: where}
			for k := 2; k < len(fields); k += 2 {
				ref.Dims = append(ref.Dims, fields[k])
			}
			slices.Sort(ref.Dims)
			refs = append(refs, ref)
		}
	}
	return refs, alarms, nil
}

// searchMetrics reads the SEARCH expressions in expr. A search must give a
// schema and one MetricName, or it could match metrics nobody checked.
func searchMetrics(expr, where string) ([]metricRef, error) {
	calls := searchCall.FindAllStringSubmatch(expr, -1)
	if len(calls) == 0 {
		if strings.Contains(strings.ToUpper(expr), "SEARCH") {
			return nil, fmt.Errorf("%s: cannot read the SEARCH in %q", where, expr)
		}
		return nil, nil // math over other rows' ids
	}
	var out []metricRef
	for _, c := range calls {
		m := searchExpr.FindStringSubmatch(c[1])
		if m == nil {
			return nil, fmt.Errorf("%s: SEARCH %q has no {namespace,dimensions} schema", where, c[1])
		}
		var schema []string
		for _, p := range strings.Split(m[1], ",") {
			schema = append(schema, strings.Trim(strings.TrimSpace(p), `"`))
		}
		ref := metricRef{Namespace: schema[0], Dims: slices.Sorted(slices.Values(schema[1:])), Where: where}
		for _, term := range searchTerm.FindAllStringSubmatch(m[2], -1) {
			key, value := term[1], strings.Trim(term[2], `"`)
			switch {
			case key == "MetricName" && ref.Name == "":
				ref.Name = value
			case key == "MetricName":
				return nil, fmt.Errorf("%s: SEARCH %q names two metrics", where, c[1])
			case !slices.Contains(ref.Dims, key):
				return nil, fmt.Errorf("%s: SEARCH %q filters on %s, not in its schema", where, c[1], key)
			}
		}
		if ref.Name == "" {
			return nil, fmt.Errorf("%s: SEARCH %q names no MetricName", where, c[1])
		}
		out = append(out, ref)
	}
	return out, nil
}

// uncatalogued returns the references to our namespace that are not in
// the metrics catalogue.
func uncatalogued(refs []metricRef) []string {
	var bad []string
	for _, r := range refs {
		if _, ok := metrics.Lookup(r.Namespace, r.Name, r.Dims); !ok {
			bad = append(bad, r.String())
		}
	}
	return bad
}

func dashboardBody(t *testing.T, r *infra.Rendered) string {
	t.Helper()
	return str(resource(t, r, "Dashboard", "AWS::CloudWatch::Dashboard").Properties["DashboardBody"])
}

func TestDashboardShowsOnlyMetricsTheCodeEmits(t *testing.T) {
	r := render(t, mainTemplate, infra.DefaultEnv())
	refs, alarms, err := dashboardMetrics(dashboardBody(t, r))
	if err != nil {
		t.Fatal(err)
	}
	if bad := uncatalogued(refs); len(bad) > 0 {
		t.Errorf("the dashboard shows metrics the code does not emit (internal/metrics/catalogue.go):\n  %s", strings.Join(bad, "\n  "))
	}
	var names []string
	for _, ref := range refs {
		names = append(names, ref.Name)
	}
	for _, want := range []string{metrics.DriftFound, metrics.Repaired, metrics.RepairFailed, metrics.SweepCompleted} {
		if !slices.Contains(names, want) {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
	for _, a := range alarms {
		name, ok := strings.CutPrefix(a, "getatt:")
		name, _ = strings.CutSuffix(name, ".Arn")
		if !ok {
			t.Errorf("alarm widget names %s, not an alarm of the stack", a)
			continue
		}
		resource(t, r, name, "AWS::CloudWatch::Alarm")
	}
	if len(alarms) == 0 {
		t.Error("no alarm widget")
	}
	if got := str(resource(t, r, "Dashboard", "AWS::CloudWatch::Dashboard").Properties["DashboardName"]); !strings.Contains(got, "eu-west-1") {
		t.Errorf("dashboard name %s does not vary by Region (dashboard names are per account)", got)
	}
	if !strings.Contains(dashboardBody(t, r), `"region": "eu-west-1"`) {
		t.Error("widgets do not show the stack's Region")
	}
}

// The check must be able to fail: each doctored body names a metric the
// code does not emit, or one the check cannot read.
func TestDashboardCheckRejectsMetricsTheCodeDoesNotEmit(t *testing.T) {
	body := dashboardBody(t, render(t, mainTemplate, infra.DefaultEnv()))
	doctor := []struct {
		name, old, new string
		unreadable     bool
	}{
		{"a typo in a metric name", `MetricName=\"DriftFound\"`, `MetricName=\"DriftFoud\"`, false},
		{"a dimension missing from a search", `{DHMCGuard,Kind,Region} MetricName=\"Repaired\"`, `{DHMCGuard,Region} MetricName=\"Repaired\"`, false},
		{"another namespace", `["DHMCGuard", "SweepCompleted"`, `["DHMC-Guard", "SweepCompleted"`, false},
		{"a dimension the heartbeat has not", `["DHMCGuard", "SweepCompleted"`, `["DHMCGuard", "SweepCompleted", "Region", "eu-west-1"`, false},
		{"a search without a schema", `{DHMCGuard,Kind,Region} MetricName=\"RepairFailed\"`, `MetricName=\"RepairFailed\"`, true},
		{"a widget the check cannot read", `"type": "alarm"`, `"type": "log"`, true},
	}
	for _, d := range doctor {
		t.Run(d.name, func(t *testing.T) {
			if !strings.Contains(body, d.old) {
				t.Fatalf("the body no longer has %s: update the test", d.old)
			}
			refs, _, err := dashboardMetrics(strings.Replace(body, d.old, d.new, 1))
			if d.unreadable {
				if err == nil {
					t.Error("read without error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(uncatalogued(refs)) != 1 {
				t.Errorf("uncatalogued = %v, want the doctored metric", uncatalogued(refs))
			}
		})
	}
}

func TestAlarmsOnOurNamespaceWatchCataloguedMetrics(t *testing.T) {
	r := render(t, mainTemplate, infra.DefaultEnv())
	n := 0
	for name, res := range r.Resources {
		if res.Type != "AWS::CloudWatch::Alarm" || str(res.Properties["Namespace"]) != metrics.Namespace {
			continue
		}
		n++
		ref := metricRef{Namespace: metrics.Namespace, Name: str(res.Properties["MetricName"]), Where: name}
		dims, _ := res.Properties["Dimensions"].([]any)
		for _, d := range dims {
			ref.Dims = append(ref.Dims, str(get(t, d, "Name")))
		}
		slices.Sort(ref.Dims)
		if bad := uncatalogued([]metricRef{ref}); len(bad) > 0 {
			t.Errorf("alarm watches %v", bad)
		}
	}
	if n == 0 {
		t.Error("no alarm on our namespace: the test checked nothing")
	}
}
