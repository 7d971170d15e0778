// Package grafana defines ticketd's Grafana dashboards in Go, with the
// grafana-foundation-sdk builders: API, Tickets & SLA, and Worker.
//
// The JSON under dashboards/ is what Render emits (`make dashboards` runs
// ./gen); a test regenerates it, diffs it against the committed files and
// decodes each strictly against the SDK's dashboard schema. Grafana loads
// the files through the file provider in provisioning/dashboards; the
// Prometheus datasource has the fixed uid "prometheus"
// (provisioning/datasources).
//
// Every query names only metrics in monitoring/METRICS.md, uses literal
// range windows (no Grafana-only macros, so the real-scrape test can run it
// through Prometheus as written) and yields a series even when the thing it
// counts has not happened yet.
package grafana
