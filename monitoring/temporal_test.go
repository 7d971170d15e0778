package monitoring_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ticketd/ticketd/monitoring"
)

// TestTemporalMetricsNames: the SDK's counters, timers and gauges come out
// under the community dashboards' names, timers in seconds buckets, with no
// OpenTelemetry scope labels or target_info.
func TestTemporalMetricsNames(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, err := monitoring.NewTemporalMetrics(reg, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	tagged := h.WithTags(map[string]string{"namespace": "default", "task_queue": "tickets", "worker_type": "WorkflowWorker"})
	tagged.Counter("temporal_request").Inc(2)
	tagged.Timer("temporal_workflow_task_schedule_to_start_latency").Record(30 * time.Millisecond)
	tagged.Gauge("temporal_worker_task_slots_available").Update(5)

	fams := families(t, reg)
	for _, c := range []struct {
		name string
		typ  dto.MetricType
	}{
		{"temporal_request_total", dto.MetricType_COUNTER},
		{"temporal_workflow_task_schedule_to_start_latency_seconds", dto.MetricType_HISTOGRAM},
		{"temporal_worker_task_slots_available", dto.MetricType_GAUGE},
	} {
		mf := fams[c.name]
		if mf == nil {
			t.Errorf("no family %s; have %v", c.name, keys(fams))
			continue
		}
		if mf.GetType() != c.typ {
			t.Errorf("%s is a %v, want %v", c.name, mf.GetType(), c.typ)
		}
		m := find(mf, map[string]string{"namespace": "default", "task_queue": "tickets", "worker_type": "WorkflowWorker"})
		if m == nil {
			t.Errorf("%s lost its tags: %v", c.name, mf.GetMetric())
			continue
		}
		for _, l := range m.GetLabel() {
			if strings.HasPrefix(l.GetName(), "otel_") {
				t.Errorf("%s carries %s", c.name, l.GetName())
			}
		}
	}
	if _, ok := fams["target_info"]; ok {
		t.Error("target_info is exported")
	}
	hist := find(fams["temporal_workflow_task_schedule_to_start_latency_seconds"], nil).GetHistogram()
	if got := hist.GetSampleSum(); got < 0.029 || got > 0.031 {
		t.Errorf("sum = %v, want 0.03 (seconds)", got)
	}
	for _, b := range hist.GetBucket() {
		if b.GetUpperBound() == 0.05 && b.GetCumulativeCount() != 1 {
			t.Errorf("bucket le=0.05 holds %d, want 1", b.GetCumulativeCount())
		}
		if b.GetUpperBound() == 0.025 && b.GetCumulativeCount() != 0 {
			t.Errorf("bucket le=0.025 holds %d, want 0", b.GetCumulativeCount())
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
