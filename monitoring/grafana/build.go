package grafana

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// DatasourceUID is the uid provisioning/datasources gives the Prometheus
// datasource; every panel and query names it.
const DatasourceUID = "prometheus"

// Spec is one dashboard: a file name under dashboards/ and its rows.
type Spec struct {
	File        string // e.g. "ticketd-api.json"
	UID         string
	Title       string
	Description string
	Rows        []Row
}

// Row groups panels under a heading.
type Row struct {
	Title  string
	Panels []Panel
}

// Kind is the visualization of a panel.
type Kind int

// The visualizations the dashboards use.
const (
	TimeSeries Kind = iota
	Stat
	BarGauge
)

// Panel is one panel: the question it answers (its description in Grafana)
// and its queries.
type Panel struct {
	Kind    Kind
	Title   string
	Answers string
	Unit    string
	Queries []Query
	// Targets are drawn as dashed threshold lines (e.g. 0.1 and 0.2 s).
	Targets []float64
	Stacked bool
	Width   int // grid columns of 24; default 12
}

// Query is a PromQL expression and its legend.
type Query struct {
	Expr   string
	Legend string
}

func datasource() common.DataSourceRef {
	typ, uid := "prometheus", DatasourceUID
	return common.DataSourceRef{Type: &typ, Uid: &uid}
}

// Build turns a Spec into the SDK's dashboard model.
func Build(s Spec) (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder(s.Title).
		Uid(s.UID).
		Description(s.Description).
		Tags([]string{"ticketd"}).
		Refresh("30s").
		Time("now-3h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Readonly()
	id := uint32(0)
	for _, r := range s.Rows {
		id++
		b = b.WithRow(dashboard.NewRowBuilder(r.Title).Id(id))
		for _, p := range r.Panels {
			id++
			pb, err := panelBuilder(p, id)
			if err != nil {
				return dashboard.Dashboard{}, fmt.Errorf("%s / %s: %w", s.Title, p.Title, err)
			}
			b = b.WithPanel(pb)
		}
	}
	return b.Build()
}

func queries(p Panel) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], 0, len(p.Queries))
	for i, q := range p.Queries {
		out = append(out, prometheus.NewDataqueryBuilder().
			Datasource(datasource()).
			RefId(string(rune('A'+i))).
			Expr(q.Expr).
			LegendFormat(q.Legend).
			Range())
	}
	return out
}

func steps(targets []float64) *dashboard.ThresholdsConfigBuilder {
	st := []dashboard.Threshold{{Value: nil, Color: "green"}}
	colors := []string{"orange", "red", "dark-red"}
	for i, t := range targets {
		v := t
		st = append(st, dashboard.Threshold{Value: &v, Color: colors[min(i, len(colors)-1)]})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(st)
}

func width(p Panel) uint32 {
	if p.Width == 0 {
		return 12
	}
	return uint32(p.Width)
}

func panelBuilder(p Panel, id uint32) (cog.Builder[dashboard.Panel], error) {
	if p.Title == "" || p.Answers == "" || len(p.Queries) == 0 {
		return nil, fmt.Errorf("a panel needs a title, the question it answers and a query")
	}
	switch p.Kind {
	case TimeSeries:
		b := timeseries.NewPanelBuilder().Id(id).
			Title(p.Title).Description(p.Answers).Datasource(datasource()).
			Unit(p.Unit).Min(0).Span(width(p)).Height(8).
			LineWidth(1).FillOpacity(10).
			Legend(common.NewVizLegendOptionsBuilder().
				DisplayMode(common.LegendDisplayModeTable).
				Placement(common.LegendPlacementBottom).
				ShowLegend(true).
				Calcs([]string{"lastNotNull", "max"})).
			Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)).
			Thresholds(steps(p.Targets))
		if len(p.Targets) > 0 {
			b = b.ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed))
		}
		if p.Stacked {
			b = b.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))
		}
		for _, q := range queries(p) {
			b = b.WithTarget(q)
		}
		return b, nil
	case Stat:
		b := stat.NewPanelBuilder().Id(id).
			Title(p.Title).Description(p.Answers).Datasource(datasource()).
			Unit(p.Unit).Span(width(p)).Height(5).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
			ColorMode(common.BigValueColorModeValue).
			GraphMode(common.BigValueGraphModeArea).
			Thresholds(steps(p.Targets))
		for _, q := range queries(p) {
			b = b.WithTarget(q)
		}
		return b, nil
	case BarGauge:
		b := bargauge.NewPanelBuilder().Id(id).
			Title(p.Title).Description(p.Answers).Datasource(datasource()).
			Unit(p.Unit).Span(width(p)).Height(8).Min(0).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
			Orientation(common.VizOrientationHorizontal).
			DisplayMode(common.BarGaugeDisplayModeGradient).
			Thresholds(steps(p.Targets))
		for _, q := range queries(p) {
			b = b.WithTarget(q)
		}
		return b, nil
	}
	return nil, fmt.Errorf("unknown panel kind %d", p.Kind)
}

// Render is the committed JSON of a dashboard: indented, newline-terminated.
func Render(s Spec) ([]byte, error) {
	d, err := Build(s)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// PanelsMarkdown lists every dashboard's panels, the question each answers
// and its queries: dashboards/PANELS.md.
func PanelsMarkdown(specs []Spec) string {
	var b strings.Builder
	b.WriteString("# ticketd dashboards: what each panel answers\n\n")
	b.WriteString("Generated by `make dashboards` from monitoring/grafana/*.go; do not edit.\n")
	for _, s := range specs {
		fmt.Fprintf(&b, "\n## %s (`%s`)\n\n%s\n", s.Title, s.File, s.Description)
		for _, r := range s.Rows {
			fmt.Fprintf(&b, "\n### %s\n\n| panel | answers | queries |\n|---|---|---|\n", r.Title)
			for _, p := range r.Panels {
				qs := make([]string, len(p.Queries))
				for i, q := range p.Queries {
					qs[i] = "`" + strings.ReplaceAll(q.Expr, "|", `\|`) + "`"
				}
				fmt.Fprintf(&b, "| %s | %s | %s |\n", p.Title, p.Answers, strings.Join(qs, "<br>"))
			}
		}
	}
	return b.String()
}
