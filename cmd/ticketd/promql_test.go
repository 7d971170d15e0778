package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// What the real-scrape test checks: the panel queries of Grafana dashboards
// and the rules of Prometheus rule files, and the metric names in both.

// panelQuery is one query of one dashboard panel.
type panelQuery struct {
	Dashboard, Panel, Expr string
}

// dashboardVar is a Grafana template variable of a dashboard.
type dashboardVar struct {
	Name, Type string
	Query      string   // a label_values(...) query, or a custom list
	Options    []string // custom values
}

// dashboard is what the test needs of a dashboard JSON file.
type dashboard struct {
	Title   string
	Queries []panelQuery
	Vars    []dashboardVar
}

// loadDashboard reads a dashboard JSON file: every target expr of every
// panel, nested rows included, and the template variables.
func loadDashboard(path string) (dashboard, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return dashboard{}, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return dashboard{}, fmt.Errorf("%s: %w", path, err)
	}
	d := dashboard{Title: str(doc["title"])}
	if d.Title == "" {
		d.Title = filepath.Base(path)
	}
	var walk func(panels any)
	walk = func(panels any) {
		list, _ := panels.([]any)
		for _, p := range list {
			pm, _ := p.(map[string]any)
			for _, tg := range asList(pm["targets"]) {
				tm, _ := tg.(map[string]any)
				if expr := str(tm["expr"]); expr != "" {
					d.Queries = append(d.Queries, panelQuery{Dashboard: d.Title, Panel: str(pm["title"]), Expr: expr})
				}
			}
			walk(pm["panels"]) // rows hold their panels
		}
	}
	walk(doc["panels"])
	if tmpl, ok := doc["templating"].(map[string]any); ok {
		for _, v := range asList(tmpl["list"]) {
			vm, _ := v.(map[string]any)
			dv := dashboardVar{Name: str(vm["name"]), Type: str(vm["type"])}
			switch q := vm["query"].(type) {
			case string:
				dv.Query = q
			case map[string]any:
				dv.Query = str(q["query"])
			}
			for _, o := range asList(vm["options"]) {
				om, _ := o.(map[string]any)
				if v := str(om["value"]); v != "" && v != "$__all" {
					dv.Options = append(dv.Options, v)
				}
			}
			d.Vars = append(d.Vars, dv)
		}
	}
	return d, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// ruleFile is what the test needs of a Prometheus rule file.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert  string `yaml:"alert"`
			Record string `yaml:"record"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// loadRules reads path if it is a rule file (it has groups); ok is false
// for the other YAML files next to the rules (prometheus.yml, promtool
// tests).
func loadRules(path string) (ruleFile, bool, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ruleFile{}, false, err
	}
	var probe map[string]any
	if err := yaml.Unmarshal(raw, &probe); err != nil {
		return ruleFile{}, false, fmt.Errorf("%s: %w", path, err)
	}
	if _, ok := probe["groups"]; !ok {
		return ruleFile{}, false, nil
	}
	var rf ruleFile
	if err := yaml.Unmarshal(raw, &rf); err != nil {
		return ruleFile{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return rf, true, nil
}

// Grafana's built-in variables, as a short-lived test scrape needs them.
var builtins = map[string]string{
	"__rate_interval": "1m", "__interval": "15s", "__interval_ms": "15000",
	"__range": "5m", "__range_s": "300", "__range_ms": "300000",
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)|\[\[([A-Za-z0-9_]+)\]\]`)

// expand substitutes a query's variables the way Grafana would with "All"
// selected: a regex alternation of every value after =~ or !~, the first
// value elsewhere. values gives each variable's values.
func expand(expr string, values map[string][]string) (string, error) {
	var missing []string
	out := varRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		if v, ok := builtins[name]; ok {
			return v
		}
		vals := values[name]
		if len(vals) == 0 {
			missing = append(missing, name)
			return ref
		}
		return ref // replaced below, where the context is known
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no values for variable(s) %v", missing)
	}
	// Second pass with context: look at what precedes each reference.
	var b strings.Builder
	last := 0
	for _, loc := range varRef.FindAllStringSubmatchIndex(out, -1) {
		m := out[loc[0]:loc[1]]
		sub := varRef.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		b.WriteString(out[last:loc[0]])
		before := strings.TrimRight(out[:loc[0]], `"`)
		vals := values[name]
		if strings.HasSuffix(before, "=~") || strings.HasSuffix(before, "!~") {
			quoted := make([]string, len(vals))
			for i, v := range vals {
				quoted[i] = regexp.QuoteMeta(v)
			}
			b.WriteString(strings.ReplaceAll(strings.Join(quoted, "|"), `\`, `\\`))
		} else {
			b.WriteString(vals[0])
		}
		last = loc[1]
	}
	b.WriteString(out[last:])
	return b.String(), nil
}

// labelValuesQuery parses label_values(metric, label) or
// label_values(label).
var labelValuesQuery = regexp.MustCompile(`^\s*label_values\(\s*(?:([^,]+?)\s*,\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$`)

// PromQL words that are not metric names.
var promqlWords = map[string]bool{
	"and": true, "or": true, "unless": true, "by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true, "offset": true, "bool": true, "atan2": true,
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"inf": true, "nan": true, "start": true, "end": true,
}

// metricNames returns the metric names a PromQL expression selects: the
// identifiers that are not functions, keywords, label names (inside
// braces or after by/without/on/ignoring/group_*), strings, numbers or
// durations.
func metricNames(expr string) []string {
	var names []string
	depthBrace := 0
	labelList := false // inside by (...) and friends
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for j < len(expr) && expr[j] != c {
				if expr[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			i = j + 1
		case c == '#': // comment to end of line
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '{':
			depthBrace++
			i++
		case c == '}':
			depthBrace--
			i++
		case c == '[': // range or subquery: durations only
			for i < len(expr) && expr[i] != ']' {
				i++
			}
		case c == ')':
			labelList = false
			i++
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdentChar(expr[j]) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && (expr[k] == ' ' || expr[k] == '\t' || expr[k] == '\n') {
				k++
			}
			next := byte(0)
			if k < len(expr) {
				next = expr[k]
			}
			lw := strings.ToLower(word)
			switch {
			case depthBrace > 0 || labelList:
				// a label name
			case slices.Contains([]string{"by", "without", "on", "ignoring", "group_left", "group_right"}, lw):
				if next == '(' {
					labelList = true
					i = k + 1
					continue
				}
			case promqlWords[lw]:
			case next == '(':
				// a function call
			case isDigitStart(expr, i):
			default:
				names = append(names, word)
			}
			i = j
		case c >= '0' && c <= '9':
			// a number or a duration such as 5m, 1e3
			for i < len(expr) && (isIdentChar(expr[i]) || expr[i] == '.') {
				i++
			}
		default:
			i++
		}
	}
	sort.Strings(names)
	return slices.Compact(names)
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

func isDigitStart(s string, i int) bool { return i > 0 && s[i-1] >= '0' && s[i-1] <= '9' }

// family strips the series suffixes of a histogram or summary.
func family(name string) string {
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if strings.HasSuffix(name, suf) {
			return strings.TrimSuffix(name, suf)
		}
	}
	return name
}

func TestMetricNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`up{job="ticketd-api"} == 0`, []string{"up"}},
		{`histogram_quantile(0.99, sum by (le, route) (rate(ticketd_http_request_duration_seconds_bucket{route=~"/api/v1/tickets/:id"}[5m])))`,
			[]string{"ticketd_http_request_duration_seconds_bucket"}},
		{`sum(rate(a_total{status_class="5xx"}[5m])) / sum without(instance) (rate(a_total[5m])) > 0.01`, []string{"a_total"}},
		{`sum(rate(x[5m] offset 1h)) or vector(0)`, []string{"x"}},
		{`max_over_time(temporal_worker_task_slots_available{worker_type="WorkflowWorker"}[1m:10s]) == bool 0`, []string{"temporal_worker_task_slots_available"}},
		{`a * on (instance) group_left (version) b unless c`, []string{"a", "b", "c"}},
		{`absent(temporal_num_pollers{poller_type="workflow_task", task_queue="tickets"})`, []string{"temporal_num_pollers"}},
		{`count by (status) (ticketd_tickets_open) > 1e3`, []string{"ticketd_tickets_open"}},
		{`ticketd:http_requests:rate5m`, []string{"ticketd:http_requests:rate5m"}},
		{`topk(5, sum by (route) (rate(q_count[$__rate_interval])))`, []string{"q_count"}},
	} {
		t.Run(c.expr, func(t *testing.T) {
			if got := metricNames(c.expr); !slices.Equal(got, c.want) {
				t.Errorf("metricNames = %v, want %v", got, c.want)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	vals := map[string][]string{"route": {"/api/v1/tickets", "/api/v1/tickets/:id"}, "job": {"ticketd-api"}}
	for _, c := range []struct{ in, want string }{
		{`rate(x{route=~"$route"}[$__rate_interval])`, `rate(x{route=~"/api/v1/tickets|/api/v1/tickets/:id"}[1m])`},
		{`up{job="${job}"}`, `up{job="ticketd-api"}`},
		{`up{job="[[job]]"}`, `up{job="ticketd-api"}`},
	} {
		got, err := expand(c.in, vals)
		if err != nil || got != c.want {
			t.Errorf("expand(%s) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	if _, err := expand(`x{a="$nope"}`, vals); err == nil {
		t.Error("an unknown variable expanded")
	}
}
