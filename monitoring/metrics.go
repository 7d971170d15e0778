package monitoring

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are ticketd's own Prometheus metrics (the ticketd_* families of
// monitoring/METRICS.md). Domain events are counted by the API after a
// change is committed, or by activities for changes they applied, never
// from workflow code, which replays.
type Metrics struct {
	httpDuration   *prometheus.HistogramVec
	httpInFlight   prometheus.Gauge
	ticketChanges  *prometheus.CounterVec
	created        *prometheus.CounterVec
	transitions    *prometheus.CounterVec
	firstResponse  *prometheus.HistogramVec
	resolution     *prometheus.HistogramVec
	slaWarnings    *prometheus.CounterVec
	slaBreaches    *prometheus.CounterVec
	slaLateness    *prometheus.HistogramVec
	updateDuration *prometheus.HistogramVec
	updateFailures *prometheus.CounterVec
	queueWait      prometheus.Histogram
	queueRejected  prometheus.Counter
}

// Labels are the label values known in advance. NewMetrics initialises
// every combination, so dashboards show zeros rather than gaps.
type Labels struct {
	Priorities []string
	// Transitions are the status moves the lifecycle allows, [from, to].
	Transitions [][2]string
	Clocks      []string
	ChangeKinds []string
	Updates     []string
}

// The reasons an Update failed, as the API sees it.
const (
	UpdateTimeout     = "timeout"     // the caller's deadline passed
	UpdateUnavailable = "unavailable" // Temporal or the database could not be reached
	UpdateRejected    = "rejected"    // the workflow refused the change (a domain rule)
	UpdateBusy        = "busy"        // the engine refused more concurrent work
	UpdateOther       = "other"
)

// UpdateFailureReasons lists every reason label.
var UpdateFailureReasons = []string{UpdateTimeout, UpdateUnavailable, UpdateRejected, UpdateBusy, UpdateOther}

// LatencyBuckets resolve the API's targets (5, 10, 25, 50, 100 and 200 ms)
// and the slow tail of writes through Temporal.
var LatencyBuckets = []float64{.005, .01, .025, .05, .075, .1, .15, .2, .25, .5, 1, 2.5, 5, 10}

// FirstResponseBuckets span a minute to two days.
var FirstResponseBuckets = []float64{60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800}

// ResolutionBuckets span five minutes to two weeks.
var ResolutionBuckets = []float64{300, 1800, 3600, 14400, 28800, 86400, 172800, 604800, 1209600}

// latenessBuckets span how late a breach is recorded: a timer normally fires
// within a second of the due time; minutes mean the worker was down.
var latenessBuckets = []float64{.1, .25, .5, 1, 2.5, 5, 15, 60, 300, 900, 3600}

// NewMetrics creates the metrics, initialises the known label values and
// registers them, with the Go runtime and process collectors, on reg.
func NewMetrics(reg prometheus.Registerer, known Labels) *Metrics {
	m := &Metrics{
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "ticketd", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to serve an HTTP request, by method, route template and status class.",
			Buckets: LatencyBuckets,
		}, []string{"method", "route", "status_class"}),
		httpInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "ticketd", Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		ticketChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ticketd", Name: "ticket_changes_total",
			Help: "Committed ticket changes made through the API, by kind.",
		}, []string{"kind"}),
		created: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ticketd", Name: "tickets_created_total",
			Help: "Tickets created, by priority.",
		}, []string{"priority"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ticketd", Name: "ticket_transitions_total",
			Help: "Committed status changes, manual and automatic, by from and to status.",
		}, []string{"from", "to"}),
		firstResponse: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "ticketd", Name: "ticket_first_response_seconds",
			Help:    "Wall-clock time from a ticket's creation to the first public staff reply, by priority.",
			Buckets: FirstResponseBuckets,
		}, []string{"priority"}),
		resolution: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "ticketd", Name: "ticket_resolution_seconds",
			Help:    "Wall-clock time from a ticket's creation to its resolution, by priority.",
			Buckets: ResolutionBuckets,
		}, []string{"priority"}),
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
			Help:    "How long after the due time a breach was recorded, by priority and clock.",
			Buckets: latenessBuckets,
		}, []string{"priority", "clock"}),
		updateDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "ticketd", Subsystem: "workflow", Name: "update_duration_seconds",
			Help:    "Round trip of a workflow Update as the API sees it, successful or not, by update.",
			Buckets: LatencyBuckets,
		}, []string{"update"}),
		updateFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ticketd", Subsystem: "workflow", Name: "update_failures_total",
			Help: "Workflow Updates that failed, by update and reason (timeout, unavailable, rejected, busy, other).",
		}, []string{"update", "reason"}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "ticketd", Subsystem: "ticket_queue", Name: "wait_seconds",
			Help:    "Time a change waited in the API's per-ticket queue before it was sent.",
			Buckets: LatencyBuckets,
		}),
		queueRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "ticketd", Subsystem: "ticket_queue", Name: "rejections_total",
			Help: "Changes refused because their deadline passed in the per-ticket queue.",
		}),
	}
	m.initialise(known)
	reg.MustRegister(m.httpDuration, m.httpInFlight, m.ticketChanges, m.created, m.transitions,
		m.firstResponse, m.resolution, m.slaWarnings, m.slaBreaches, m.slaLateness,
		m.updateDuration, m.updateFailures, m.queueWait, m.queueRejected,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) initialise(k Labels) {
	for _, kind := range k.ChangeKinds {
		m.ticketChanges.WithLabelValues(kind)
	}
	for _, p := range k.Priorities {
		m.created.WithLabelValues(p)
		m.firstResponse.WithLabelValues(p)
		m.resolution.WithLabelValues(p)
		for _, c := range k.Clocks {
			m.slaBreaches.WithLabelValues(p, c)
			m.slaLateness.WithLabelValues(p, c)
		}
	}
	for _, t := range k.Transitions {
		m.transitions.WithLabelValues(t[0], t[1])
	}
	for _, u := range k.Updates {
		m.updateDuration.WithLabelValues(u)
		for _, r := range UpdateFailureReasons {
			m.updateFailures.WithLabelValues(u, r)
		}
	}
}

// TicketChanged counts one committed change made through the API.
func (m *Metrics) TicketChanged(kind string) { m.ticketChanges.WithLabelValues(kind).Inc() }

// TicketCreated counts a created ticket.
func (m *Metrics) TicketCreated(priority string) { m.created.WithLabelValues(priority).Inc() }

// TicketTransitioned counts a committed status change.
func (m *Metrics) TicketTransitioned(from, to string) { m.transitions.WithLabelValues(from, to).Inc() }

// FirstResponse records the time a ticket waited for its first staff reply.
func (m *Metrics) FirstResponse(priority string, d time.Duration) {
	m.firstResponse.WithLabelValues(priority).Observe(max(0, d.Seconds()))
}

// Resolved records the time a ticket took to be resolved.
func (m *Metrics) Resolved(priority string, d time.Duration) {
	m.resolution.WithLabelValues(priority).Observe(max(0, d.Seconds()))
}

// SLAWarning counts a recorded SLA warning.
func (m *Metrics) SLAWarning(priority, clock string, fraction float64) {
	m.slaWarnings.WithLabelValues(priority, clock, strconv.FormatFloat(fraction, 'f', -1, 64)).Inc()
}

// SLABreached counts a recorded SLA breach and how late it was recorded.
func (m *Metrics) SLABreached(priority, clock string, lateness time.Duration) {
	m.slaBreaches.WithLabelValues(priority, clock).Inc()
	m.slaLateness.WithLabelValues(priority, clock).Observe(max(0, lateness.Seconds()))
}

// UpdateDone records one workflow Update's round trip; reason is "" for a
// success, else one of the Update* reasons.
func (m *Metrics) UpdateDone(update string, d time.Duration, reason string) {
	m.updateDuration.WithLabelValues(update).Observe(d.Seconds())
	if reason != "" {
		m.updateFailures.WithLabelValues(update, reason).Inc()
	}
}

// QueueWaited records the time a change waited for its ticket's queue.
func (m *Metrics) QueueWaited(d time.Duration) { m.queueWait.Observe(d.Seconds()) }

// QueueRejected counts a change whose deadline passed in the queue.
func (m *Metrics) QueueRejected() { m.queueRejected.Inc() }

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
		m.httpDuration.WithLabelValues(c.Request.Method, route, StatusClass(c.Writer.Status())).
			Observe(time.Since(start).Seconds())
	}
}

// StatusClass is 2xx, 3xx, 4xx or 5xx (1xx counts as 2xx: the request was
// not refused).
func StatusClass(code int) string {
	switch {
	case code >= 500:
		return "5xx"
	case code >= 400:
		return "4xx"
	case code >= 300:
		return "3xx"
	default:
		return "2xx"
	}
}
