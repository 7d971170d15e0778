package monitoring

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are ticketd's Prometheus metrics. Counters of domain events are
// incremented by the API after a change is committed, never from workflow
// code, which replays.
type Metrics struct {
	httpDuration  *prometheus.HistogramVec
	httpInFlight  prometheus.Gauge
	ticketChanges *prometheus.CounterVec
	slaWarnings   *prometheus.CounterVec
	slaBreaches   *prometheus.CounterVec
	slaLateness   *prometheus.HistogramVec
}

// LatencyBuckets resolve the API's targets: most requests in tens of
// milliseconds, writes through Temporal in up to a few hundred.
var LatencyBuckets = []float64{.005, .01, .025, .05, .075, .1, .15, .25, .5, .75, 1, 2.5, 5, 10}

// NewMetrics creates the metrics and registers them, with the Go runtime and
// process collectors, on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "ticketd", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to serve an HTTP request, by method, route template and status code.",
			Buckets: LatencyBuckets,
		}, []string{"method", "route", "status"}),
		httpInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "ticketd", Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		ticketChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ticketd", Name: "ticket_changes_total",
			Help: "Committed ticket changes, by kind (create, edit, status, assign, reply, time, delete).",
		}, []string{"kind"}),
		slaWarnings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ticketd", Subsystem: "sla", Name: "warnings_total",
			Help: "SLA warnings recorded, by priority, clock and fraction of the target.",
		}, []string{"priority", "clock", "fraction"}),
		slaBreaches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ticketd", Subsystem: "sla", Name: "breaches_total",
			Help: "SLA breaches recorded, by priority and clock.",
		}, []string{"priority", "clock"}),
		slaLateness: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "ticketd", Subsystem: "sla", Name: "breach_lateness_seconds",
			Help:    "How long after the due time a breach was recorded.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2, 5, 15, 60},
		}, []string{"priority", "clock"}),
	}
	reg.MustRegister(m.httpDuration, m.httpInFlight, m.ticketChanges, m.slaWarnings, m.slaBreaches, m.slaLateness,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// TicketChanged counts one committed change.
func (m *Metrics) TicketChanged(kind string) { m.ticketChanges.WithLabelValues(kind).Inc() }

// SLAWarning counts a recorded SLA warning.
func (m *Metrics) SLAWarning(priority, clock string, fraction float64) {
	m.slaWarnings.WithLabelValues(priority, clock, strconv.FormatFloat(fraction, 'f', -1, 64)).Inc()
}

// SLABreached counts a recorded SLA breach and how late it was recorded.
func (m *Metrics) SLABreached(priority, clock string, lateness time.Duration) {
	m.slaBreaches.WithLabelValues(priority, clock).Inc()
	m.slaLateness.WithLabelValues(priority, clock).Observe(max(0, lateness.Seconds()))
}

// Middleware times every request. The route label is the route template
// (/api/v1/tickets/:id), never the raw path, so cardinality stays bounded.
func (m *Metrics) Middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		m.httpInFlight.Inc()
		defer m.httpInFlight.Dec()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		m.httpDuration.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).
			Observe(time.Since(start).Seconds())
	}
}
