package grafana

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"gopkg.in/yaml.v3"
)

const dir = "dashboards"

// TestCommittedDashboardsAreGenerated regenerates every dashboard and the
// panel list and diffs them against the committed files: run
// `make dashboards` after changing the Go definitions.
func TestCommittedDashboardsAreGenerated(t *testing.T) {
	specs := Specs()
	want := map[string][]byte{"PANELS.md": []byte(PanelsMarkdown(specs))}
	for _, s := range specs {
		b, err := Render(s)
		if err != nil {
			t.Fatalf("render %s: %v", s.File, err)
		}
		want[s.File] = b
	}
	for name, w := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v (run `make dashboards`)", name, err)
			continue
		}
		if !bytes.Equal(got, w) {
			t.Errorf("%s differs from what the generator emits; run `make dashboards` and commit the result\n%s", name, firstDiff(string(got), string(w)))
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := want[e.Name()]; !ok {
			t.Errorf("%s/%s is not generated: remove it or define it in Go", dir, e.Name())
		}
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(i+1) + ":\n  committed: " + gl + "\n  generated: " + wl
		}
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// TestDashboardsDecodeStrictly decodes every committed file with the SDK's
// strict decoder (unknown fields, wrong types and missing required fields
// fail) and checks what Grafana and the real-scrape test rely on.
func TestDashboardsDecodeStrictly(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("want at least 3 dashboards, have %v", files)
	}
	uids := map[string]string{}
	queries := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard.Dashboard
		if err := strictDecode(&d, raw); err != nil {
			t.Errorf("%s: strict decode: %v", f, err)
			continue
		}
		if d.Uid == nil || *d.Uid == "" || d.Title == nil || *d.Title == "" {
			t.Errorf("%s: needs a uid and a title", f)
			continue
		}
		if other, dup := uids[*d.Uid]; dup {
			t.Errorf("%s and %s share the uid %q", f, other, *d.Uid)
		}
		uids[*d.Uid] = f
		if d.SchemaVersion < 42 {
			t.Errorf("%s: schemaVersion %d, want >= 42 (Grafana 12.2)", f, d.SchemaVersion)
		}
		// The SDK's dashboard decoder validates the panels but, through a
		// typed-nil error, does not keep them: decode each one again.
		var top struct {
			Panels []json.RawMessage `json:"panels"`
		}
		if err := json.Unmarshal(raw, &top); err != nil {
			t.Fatal(err)
		}
		ids := map[uint32]bool{}
		panels := 0
		for _, rp := range top.Panels {
			var kind struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal(rp, &kind); err != nil {
				t.Fatal(err)
			}
			if kind.Type == "row" {
				var r dashboard.RowPanel
				if err := noErr(r.UnmarshalJSONStrict(rp)); err != nil {
					t.Errorf("%s: row: %v", f, err)
				}
				if ids[r.Id] {
					t.Errorf("%s: duplicate panel id %d", f, r.Id)
				}
				ids[r.Id] = true
				continue
			}
			var p dashboard.Panel
			if err := noErr(p.UnmarshalJSONStrict(rp)); err != nil {
				t.Errorf("%s: panel: %v", f, err)
				continue
			}
			panels++
			title := ""
			if p.Title != nil {
				title = *p.Title
			}
			if p.Id == nil || ids[*p.Id] {
				t.Errorf("%s / %s: missing or duplicate panel id", f, title)
			} else {
				ids[*p.Id] = true
			}
			if p.Description == nil || *p.Description == "" {
				t.Errorf("%s / %s: no description (the question the panel answers)", f, title)
			}
			if p.Datasource == nil || p.Datasource.Uid == nil || *p.Datasource.Uid != DatasourceUID {
				t.Errorf("%s / %s: datasource is not uid %q", f, title, DatasourceUID)
			}
			// The same typed nil drops the targets: decode them too.
			var targets struct {
				Targets []json.RawMessage `json:"targets"`
			}
			if err := json.Unmarshal(rp, &targets); err != nil {
				t.Fatal(err)
			}
			if len(targets.Targets) == 0 {
				t.Errorf("%s / %s: no query", f, title)
			}
			for _, tr := range targets.Targets {
				var q prometheus.Dataquery
				if err := noErr(q.UnmarshalJSONStrict(tr)); err != nil {
					t.Errorf("%s / %s: query: %v", f, title, err)
					continue
				}
				if q.Datasource == nil || q.Datasource.Uid == nil || *q.Datasource.Uid != DatasourceUID {
					t.Errorf("%s / %s: query datasource is not uid %q", f, title, DatasourceUID)
				}
				queries++
				checkExpr(t, f+" / "+title, q.Expr)
			}
		}
		if panels == 0 {
			t.Errorf("%s: no panels", f)
		}
	}
	t.Logf("%d dashboards, %d panel queries", len(files), queries)
}

// strictDecode is the SDK's strict decoder, whose "no error" is a typed
// nil cog.BuildErrors.
func strictDecode(d *dashboard.Dashboard, raw []byte) error {
	return noErr(d.UnmarshalJSONStrict(raw))
}

func noErr(err error) error {
	if be, ok := err.(cog.BuildErrors); ok && len(be) == 0 {
		return nil
	}
	return err
}

var (
	grafanaMacro = regexp.MustCompile(`\$\{?__|\$[a-z]`)
	metricName   = regexp.MustCompile(`\b((?:ticketd|temporal|go|process)_[a-z0-9_]+)\b`)
)

// checkExpr keeps a query runnable as written against Prometheus (no
// Grafana macros or variables) and on the contract's metric families.
func checkExpr(t *testing.T, where, expr string) {
	t.Helper()
	if strings.TrimSpace(expr) == "" {
		t.Errorf("%s: empty query", where)
		return
	}
	if grafanaMacro.MatchString(expr) {
		t.Errorf("%s: %q uses a Grafana macro or variable; the scrape test runs queries through Prometheus as written", where, expr)
	}
	if strings.Count(expr, "(") != strings.Count(expr, ")") {
		t.Errorf("%s: unbalanced parentheses in %q", where, expr)
	}
	ms := metricName.FindAllString(expr, -1)
	if len(ms) == 0 {
		t.Errorf("%s: %q names no ticketd, temporal, go or process metric", where, expr)
	}
}

// TestStrictDecodeRejects proves the strict decoding above can fail: an
// unknown field in a panel, a wrong type and a missing panel type.
func TestStrictDecodeRejects(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	raw, err := Render(Specs()[0])
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(map[string]any){
		"unknown panel field": func(d map[string]any) { panel(d)["colour"] = "red" },
		"unknown query field": func(d map[string]any) {
			panel(d)["targets"].([]any)[0].(map[string]any)["exprr"] = "up"
		},
		"title of the wrong type": func(d map[string]any) { panel(d)["title"] = 7 },
		"unknown dashboard field": func(d map[string]any) { d["schemaVer"] = 42 },
	} {
		t.Run(name, func(t *testing.T) {
			var d map[string]any
			if err := json.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			edit(d)
			bad, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var out dashboard.Dashboard
			if err := strictDecode(&out, bad); err == nil {
				t.Fatal("decoded without error")
			}
		})
	}
}

// panel is the first non-row panel of a decoded dashboard.
func panel(d map[string]any) map[string]any {
	for _, p := range d["panels"].([]any) {
		if m := p.(map[string]any); m["type"] != "row" {
			return m
		}
	}
	panic("no panel")
}

// TestProvisioning checks the datasource uid the dashboards name and the
// dashboard provider's path, which docker-compose.yml mounts.
func TestProvisioning(t *testing.T) {
	type datasource struct{ Name, UID, Type, URL string }
	var ds struct {
		Datasources []datasource `yaml:"datasources"`
	}
	readYAML(t, "provisioning/datasources/prometheus.yml", &ds)
	i := slices.IndexFunc(ds.Datasources, func(d datasource) bool { return d.UID == DatasourceUID })
	if i < 0 || ds.Datasources[i].Type != "prometheus" {
		t.Fatalf("no prometheus datasource with uid %q in %+v", DatasourceUID, ds)
	}
	var prov struct {
		Providers []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, "provisioning/dashboards/ticketd.yml", &prov)
	if len(prov.Providers) != 1 || prov.Providers[0].Type != "file" || prov.Providers[0].Options.Path == "" {
		t.Fatalf("want one file provider with a path, got %+v", prov)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(false)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestQueriesUseExportedMetrics checks every metric a panel names against
// monitoring/METRICS.md, the list the observability side verified on a real
// scrape (histogram series by their family name).
func TestQueriesUseExportedMetrics(t *testing.T) {
	doc, err := os.ReadFile("../METRICS.md")
	if os.IsNotExist(err) {
		t.Skip("monitoring/METRICS.md is not there yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, m := range metricName.FindAllString(string(doc), -1) {
		known[m] = true
	}
	suffix := regexp.MustCompile(`_(bucket|count|sum)$`)
	for _, s := range Specs() {
		for _, r := range s.Rows {
			for _, p := range r.Panels {
				for _, q := range p.Queries {
					for _, m := range metricName.FindAllString(q.Expr, -1) {
						if !known[m] && !known[suffix.ReplaceAllString(m, "")] {
							t.Errorf("%s / %s: %s is not in monitoring/METRICS.md", s.Title, p.Title, m)
						}
					}
				}
			}
		}
	}
}

// TestREADMEExplainsEveryPanel keeps "Operating ticketd" in step with the
// dashboards: every panel is listed there with the question it answers.
func TestREADMEExplainsEveryPanel(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, s := range Specs() {
		for _, r := range s.Rows {
			for _, p := range r.Panels {
				if !strings.Contains(readme, "| "+p.Title+" | "+p.Answers+" |") {
					t.Errorf("README.md does not list %s / %s with the question it answers", s.Title, p.Title)
				}
			}
		}
	}
}
