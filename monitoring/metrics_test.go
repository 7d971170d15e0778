package monitoring_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/ticketd/ticketd/monitoring"
)

var labels = monitoring.Labels{
	Priorities:  []string{"low", "urgent"},
	Transitions: [][2]string{{"new", "open"}, {"open", "resolved"}},
	Clocks:      []string{"first_response", "resolution"},
	ChangeKinds: []string{"create", "status"},
	Updates:     []string{"create", "status"},
}

// exposition renders reg as /metrics does.
func exposition(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// families gathers reg by family name.
func families(t *testing.T, reg prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// find returns the metric of mf whose labels include want.
func find(mf *dto.MetricFamily, want map[string]string) *dto.Metric {
	if mf == nil {
		return nil
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

// Promtool returns the path of promtool, failing the test when it is
// missing unless TICKETD_SKIP_PROMETHEUS=1 says to skip.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("TICKETD_SKIP_PROMETHEUS") == "1" {
			t.Skip("promtool not installed and TICKETD_SKIP_PROMETHEUS=1")
		}
		t.Fatal("promtool is not installed: install Debian's prometheus package (apt-get install -y prometheus; .ci/run does) or set TICKETD_SKIP_PROMETHEUS=1 to skip")
	}
	return p
}

// TestMetricsLintClean: every ticketd_* family, with every series it can
// have, passes `promtool check metrics`.
func TestMetricsLintClean(t *testing.T) {
	tool := promtool(t)
	reg := prometheus.NewRegistry()
	m := monitoring.NewMetrics(reg, labels)
	m.TicketChanged("create")
	m.TicketCreated("low")
	m.TicketTransitioned("new", "open")
	m.FirstResponse("low", 3*time.Minute)
	m.Resolved("low", 2*time.Hour)
	m.SLAWarning("low", "first_response", 0.75)
	m.SLABreached("low", "first_response", 300*time.Millisecond)
	m.UpdateDone("status", 40*time.Millisecond, "")
	m.UpdateDone("status", 15*time.Second, monitoring.UpdateTimeout)
	m.QueueWaited(time.Millisecond)
	m.QueueRejected()
	r := gin.New()
	r.Use(m.Middleware())
	r.GET("/x", func(c *gin.Context) { c.Status(http.StatusOK) })
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	reg.MustRegister(monitoring.NewBacklog(func(context.Context) (map[string]int64, error) {
		return map[string]int64{"new": 3}, nil
	}, []string{"new", "open"}, time.Second, nil))

	text := exposition(t, reg)
	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var problems []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.Contains(line, "ticketd_") {
			problems = append(problems, line)
		}
	}
	if len(problems) > 0 {
		t.Errorf("promtool check metrics on ticketd_* (exit %v):\n%s", err, strings.Join(problems, "\n"))
	}
	for _, name := range []string{
		"ticketd_http_request_duration_seconds", "ticketd_http_requests_in_flight", "ticketd_tickets_created_total",
		"ticketd_ticket_transitions_total", "ticketd_ticket_changes_total", "ticketd_ticket_first_response_seconds",
		"ticketd_ticket_resolution_seconds", "ticketd_sla_warnings_total", "ticketd_sla_breaches_total",
		"ticketd_sla_breach_lateness_seconds", "ticketd_tickets_open", "ticketd_workflow_update_duration_seconds",
		"ticketd_workflow_update_failures_total", "ticketd_ticket_queue_wait_seconds", "ticketd_ticket_queue_rejections_total",
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(text, "\n# TYPE "+name+" ") {
			t.Errorf("family %s is not exported", name)
		}
	}
}

// TestKnownLabelsStartAtZero: dashboards show zeros, not gaps, for label
// values known in advance.
func TestKnownLabelsStartAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	monitoring.NewMetrics(reg, labels)
	fams := families(t, reg)
	for _, c := range []struct {
		family string
		labels map[string]string
	}{
		{"ticketd_tickets_created_total", map[string]string{"priority": "urgent"}},
		{"ticketd_ticket_transitions_total", map[string]string{"from": "open", "to": "resolved"}},
		{"ticketd_ticket_changes_total", map[string]string{"kind": "status"}},
		{"ticketd_sla_breaches_total", map[string]string{"priority": "urgent", "clock": "resolution"}},
		{"ticketd_sla_breach_lateness_seconds", map[string]string{"priority": "low", "clock": "first_response"}},
		{"ticketd_ticket_first_response_seconds", map[string]string{"priority": "low"}},
		{"ticketd_ticket_resolution_seconds", map[string]string{"priority": "urgent"}},
		{"ticketd_workflow_update_duration_seconds", map[string]string{"update": "create"}},
		{"ticketd_workflow_update_failures_total", map[string]string{"update": "status", "reason": "busy"}},
	} {
		t.Run(c.family, func(t *testing.T) {
			if find(fams[c.family], c.labels) == nil {
				t.Errorf("no %s%v series before anything happened", c.family, c.labels)
			}
		})
	}
}

func TestStatusClass(t *testing.T) {
	for _, c := range []struct {
		code int
		want string
	}{{200, "2xx"}, {201, "2xx"}, {204, "2xx"}, {101, "2xx"}, {304, "3xx"}, {404, "4xx"}, {409, "4xx"}, {429, "4xx"}, {500, "5xx"}, {503, "5xx"}} {
		if got := monitoring.StatusClass(c.code); got != c.want {
			t.Errorf("StatusClass(%d) = %s, want %s", c.code, got, c.want)
		}
	}
}

// TestMiddlewareLabels: requests are labelled by route template and status
// class, never by raw path or exact code.
func TestMiddlewareLabels(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	reg := prometheus.NewRegistry()
	m := monitoring.NewMetrics(reg, monitoring.Labels{})
	r := gin.New()
	r.Use(m.Middleware())
	r.GET("/tickets/:id", func(c *gin.Context) {
		if c.Param("id") == "missing" {
			c.Status(http.StatusNotFound)
			return
		}
		c.Status(http.StatusOK)
	})
	for _, path := range []string{"/tickets/1", "/tickets/2", "/tickets/missing", "/nowhere"} {
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	fam := families(t, reg)["ticketd_http_request_duration_seconds"]
	for _, c := range []struct {
		route, class string
		count        uint64
	}{{"/tickets/:id", "2xx", 2}, {"/tickets/:id", "4xx", 1}, {"unmatched", "4xx", 1}} {
		got := find(fam, map[string]string{"method": "GET", "route": c.route, "status_class": c.class})
		if got == nil || got.GetHistogram().GetSampleCount() != c.count {
			t.Errorf("route %s %s: %v, want %d requests", c.route, c.class, got, c.count)
		}
	}
	if n := len(fam.GetMetric()); n != 3 {
		t.Errorf("%d series, want 3", n)
	}
	// The buckets resolve the latency targets.
	var bounds []float64
	for _, b := range fam.GetMetric()[0].GetHistogram().GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
	}
	for _, want := range []float64{.005, .01, .025, .05, .1, .2} {
		found := false
		for _, b := range bounds {
			found = found || b == want
		}
		if !found {
			t.Errorf("no bucket at %vs in %v", want, bounds)
		}
	}
}
