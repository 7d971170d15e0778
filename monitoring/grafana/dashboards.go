package grafana

import "fmt"

// Windows: rates over 5 minutes for request-level panels, hours or a day for
// ticket flow, so a quiet hour still shows the last tickets.

const httpCount = `ticketd_http_request_duration_seconds_count`

// quantiles draws p50, p90 and p99 of one histogram selection.
func quantiles(bucket, selector, by, window, legendPrefix string) []Query {
	var qs []Query
	for _, q := range []struct {
		v   string
		leg string
	}{{"0.5", "p50"}, {"0.9", "p90"}, {"0.99", "p99"}} {
		grouping := "le"
		if by != "" {
			grouping = by + ", le"
		}
		qs = append(qs, Query{
			Expr:   fmt.Sprintf("histogram_quantile(%s, sum by (%s) (rate(%s%s[%s])))", q.v, grouping, bucket, selector, window),
			Legend: legendPrefix + q.leg,
		})
	}
	return qs
}

// Specs are ticketd's dashboards.
func Specs() []Spec {
	return []Spec{apiDashboard(), ticketsDashboard(), workerDashboard()}
}

func apiDashboard() Spec {
	errRatio := `(sum(rate(` + httpCount + `{status_class="5xx"}[5m])) or vector(0)) / sum(rate(` + httpCount + `[5m]))`
	return Spec{
		File: "ticketd-api.json", UID: "ticketd-api", Title: "ticketd / API",
		Description: "The REST API: traffic, errors, latency against the 100 ms (get) and 200 ms (list) targets, and saturation.",
		Rows: []Row{
			{Title: "Now", Panels: []Panel{
				{Kind: Stat, Width: 6, Title: "Request rate", Unit: "reqps",
					Answers: "How many requests a second is the API serving?",
					Queries: []Query{{Expr: `sum(rate(` + httpCount + `[5m]))`, Legend: "requests/s"}}},
				{Kind: Stat, Width: 6, Title: "5xx ratio", Unit: "percentunit", Targets: []float64{0.001, 0.0144},
					Answers: "What share of requests failed on our side over 5 minutes? (SLO 99.9 %: orange above 0.1 %, red at a 14x burn)",
					Queries: []Query{{Expr: errRatio, Legend: "5xx ratio"}}},
				{Kind: Stat, Width: 6, Title: "GET ticket p99", Unit: "s", Targets: []float64{0.1},
					Answers: "Is reading one ticket within its 100 ms p99 target?",
					Queries: []Query{{Expr: `histogram_quantile(0.99, sum by (le) (rate(ticketd_http_request_duration_seconds_bucket{method="GET",route="/api/v1/tickets/:id"}[5m])))`, Legend: "p99"}}},
				{Kind: Stat, Width: 6, Title: "List p99", Unit: "s", Targets: []float64{0.2},
					Answers: "Is a ticket list page within its 200 ms p99 target?",
					Queries: []Query{{Expr: `histogram_quantile(0.99, sum by (le) (rate(ticketd_http_request_duration_seconds_bucket{method="GET",route="/api/v1/tickets"}[5m])))`, Legend: "p99"}}},
			}},
			{Title: "Traffic and errors", Panels: []Panel{
				{Title: "Requests by route", Unit: "reqps",
					Answers: "Which routes carry the traffic?",
					Queries: []Query{{Expr: `sum by (method, route) (rate(` + httpCount + `[5m]))`, Legend: "{{method}} {{route}}"}}},
				{Title: "Responses by status class", Unit: "reqps", Stacked: true,
					Answers: "How do answers split between 2xx, 3xx, 4xx and 5xx?",
					Queries: []Query{{Expr: `sum by (status_class) (rate(` + httpCount + `[5m]))`, Legend: "{{status_class}}"}}},
				{Title: "5xx ratio against the SLO", Unit: "percentunit", Targets: []float64{0.001, 0.0144},
					Answers: "Are we burning the error budget? (dashed: the 0.1 % SLO and the 14.4x fast-burn line)",
					Queries: []Query{{Expr: errRatio, Legend: "5xx ratio"}}},
				{Title: "Errors by route", Unit: "reqps",
					Answers: "Which routes answer 5xx, and which refuse clients with 4xx?",
					Queries: []Query{
						{Expr: `sum by (method, route) (rate(` + httpCount + `{status_class="5xx"}[5m])) or vector(0)`, Legend: "5xx {{method}} {{route}}"},
						{Expr: `sum by (method, route) (rate(` + httpCount + `{status_class="4xx"}[5m])) or vector(0)`, Legend: "4xx {{method}} {{route}}"},
					}},
			}},
			{Title: "Latency", Panels: []Panel{
				{Title: "GET /api/v1/tickets/:id latency", Unit: "s", Targets: []float64{0.1},
					Answers: "How long does reading one ticket take? (dashed: the 100 ms p99 target)",
					Queries: quantiles("ticketd_http_request_duration_seconds_bucket", `{method="GET",route="/api/v1/tickets/:id"}`, "", "5m", "")},
				{Title: "GET /api/v1/tickets latency", Unit: "s", Targets: []float64{0.2},
					Answers: "How long does a page of the ticket list take? (dashed: the 200 ms p99 target)",
					Queries: quantiles("ticketd_http_request_duration_seconds_bucket", `{method="GET",route="/api/v1/tickets"}`, "", "5m", "")},
				{Title: "p99 by route", Unit: "s", Targets: []float64{0.1, 0.2}, Width: 24,
					Answers: "Which route is slow? Writes go through a Temporal Update and are expected above the read targets.",
					Queries: []Query{{Expr: `histogram_quantile(0.99, sum by (method, route, le) (rate(ticketd_http_request_duration_seconds_bucket[5m])))`, Legend: "{{method}} {{route}}"}}},
			}},
			{Title: "Saturation", Panels: []Panel{
				{Title: "Requests in flight", Unit: "short",
					Answers: "How many requests is each API process serving at once?",
					Queries: []Query{{Expr: `sum by (instance) (ticketd_http_requests_in_flight)`, Legend: "{{instance}}"}}},
				{Title: "Workflow Update round trip", Unit: "s",
					Answers: "How long do writes wait on the ticket workflow (the API's Update call), by update?",
					Queries: []Query{{Expr: `histogram_quantile(0.99, sum by (update, le) (rate(ticketd_workflow_update_duration_seconds_bucket[5m])))`, Legend: "p99 {{update}}"}}},
				{Title: "Update failures", Unit: "reqps",
					Answers: "Which Updates fail, and why (timeout, unavailable, rejected, busy)?",
					Queries: []Query{{Expr: `sum by (update, reason) (rate(ticketd_workflow_update_failures_total[5m])) or vector(0)`, Legend: "{{update}} {{reason}}"}}},
				{Title: "Per-ticket queue", Unit: "s",
					Answers: "How long do writes to one ticket queue behind each other in the API?",
					Queries: quantiles("ticketd_ticket_queue_wait_seconds_bucket", "", "", "5m", "wait ")},
				{Title: "Per-ticket queue refusals", Unit: "reqps",
					Answers: "How often is a write refused because its ticket's queue is full (429)?",
					Queries: []Query{{Expr: `sum(rate(ticketd_ticket_queue_rejections_total[5m]))`, Legend: "refused/s"}}},
				{Title: "CPU", Unit: "percentunit",
					Answers: "How much CPU does each ticketd process use (1 = one core)?",
					Queries: []Query{{Expr: `sum by (job, instance) (rate(process_cpu_seconds_total{job=~"ticketd-.*"}[5m]))`, Legend: "{{job}} {{instance}}"}}},
				{Title: "Memory", Unit: "bytes",
					Answers: "How much memory does each ticketd process hold?",
					Queries: []Query{{Expr: `sum by (job, instance) (process_resident_memory_bytes{job=~"ticketd-.*"})`, Legend: "RSS {{job}} {{instance}}"}}},
				{Title: "Goroutines", Unit: "short",
					Answers: "Is a process piling up goroutines (stuck requests or connections)?",
					Queries: []Query{{Expr: `sum by (job, instance) (go_goroutines{job=~"ticketd-.*"})`, Legend: "{{job}} {{instance}}"}}},
			}},
		},
	}
}

func ticketsDashboard() Spec {
	return Spec{
		File: "ticketd-tickets.json", UID: "ticketd-tickets", Title: "ticketd / Tickets & SLA",
		Description: "Ticket flow, backlog, first-response and resolution times by priority, and the SLA engine's warnings and breaches.",
		Rows: []Row{
			{Title: "Flow and backlog", Panels: []Panel{
				{Kind: Stat, Width: 6, Title: "Open backlog", Unit: "short",
					Answers: "How many tickets are waiting on someone (every status but resolved and closed)?",
					Queries: []Query{{Expr: `sum(max by (status) (ticketd_tickets_open{status!="resolved"}))`, Legend: "open"}}},
				{Kind: Stat, Width: 6, Title: "Created in the last 24 h", Unit: "short",
					Answers: "How many tickets came in today?",
					Queries: []Query{{Expr: `sum(increase(ticketd_tickets_created_total[1d]))`, Legend: "created"}}},
				{Kind: Stat, Width: 6, Title: "Resolved in the last 24 h", Unit: "short",
					Answers: "How many tickets were resolved today?",
					Queries: []Query{{Expr: `sum(increase(ticketd_ticket_transitions_total{to="resolved"}[1d])) or vector(0)`, Legend: "resolved"}}},
				{Kind: Stat, Width: 6, Title: "SLA breaches in the last 24 h", Unit: "short", Targets: []float64{1},
					Answers: "Did any ticket miss its SLA today?",
					Queries: []Query{{Expr: `sum(increase(ticketd_sla_breaches_total[1d])) or vector(0)`, Legend: "breaches"}}},
				{Title: "Created per hour by priority", Unit: "short", Stacked: true,
					Answers: "How many tickets arrive each hour, and how urgent are they?",
					Queries: []Query{{Expr: `sum by (priority) (increase(ticketd_tickets_created_total[1h]))`, Legend: "{{priority}}"}}},
				{Title: "Resolved and closed per hour", Unit: "short",
					Answers: "Are we resolving tickets as fast as they arrive?",
					Queries: []Query{
						{Expr: `sum(increase(ticketd_ticket_transitions_total{to="resolved"}[1h])) or vector(0)`, Legend: "resolved"},
						{Expr: `sum(increase(ticketd_tickets_created_total[1h]))`, Legend: "created"},
					}},
				{Title: "Backlog by status", Unit: "short", Stacked: true,
					Answers: "Where do open tickets sit: new, open, in progress, pending, on hold, resolved?",
					Queries: []Query{{Expr: `max by (status) (ticketd_tickets_open)`, Legend: "{{status}}"}}},
				{Title: "Changes per hour by kind", Unit: "short",
					Answers: "What work is being done on tickets (edits, replies, status changes, assignments, time)?",
					Queries: []Query{{Expr: `sum by (kind) (increase(ticketd_ticket_changes_total[1h]))`, Legend: "{{kind}}"}}},
			}},
			{Title: "First response and resolution", Panels: []Panel{
				{Title: "Time to first response by priority", Unit: "s",
					Answers: "How long do customers wait for the first agent reply (median and p90 over the last day), per priority?",
					Queries: []Query{
						{Expr: `histogram_quantile(0.5, sum by (priority, le) (rate(ticketd_ticket_first_response_seconds_bucket[1d])))`, Legend: "p50 {{priority}}"},
						{Expr: `histogram_quantile(0.9, sum by (priority, le) (rate(ticketd_ticket_first_response_seconds_bucket[1d])))`, Legend: "p90 {{priority}}"},
					}},
				{Kind: BarGauge, Title: "First responses in the last 24 h, by time taken", Unit: "short",
					Answers: "How are first-response times distributed (tickets answered within each bound)?",
					Queries: []Query{{Expr: `sum by (le) (increase(ticketd_ticket_first_response_seconds_bucket[1d]))`, Legend: "≤ {{le}} s"}}},
				{Title: "Time to resolution by priority", Unit: "s",
					Answers: "How long does it take to resolve a ticket (median and p90 over the last day), per priority?",
					Queries: []Query{
						{Expr: `histogram_quantile(0.5, sum by (priority, le) (rate(ticketd_ticket_resolution_seconds_bucket[1d])))`, Legend: "p50 {{priority}}"},
						{Expr: `histogram_quantile(0.9, sum by (priority, le) (rate(ticketd_ticket_resolution_seconds_bucket[1d])))`, Legend: "p90 {{priority}}"},
					}},
				{Kind: BarGauge, Title: "Resolutions in the last 24 h, by time taken", Unit: "short",
					Answers: "How are resolution times distributed (tickets resolved within each bound)?",
					Queries: []Query{{Expr: `sum by (le) (increase(ticketd_ticket_resolution_seconds_bucket[1d]))`, Legend: "≤ {{le}} s"}}},
			}},
			{Title: "SLA", Panels: []Panel{
				{Title: "SLA warnings per hour", Unit: "short",
					Answers: "Which priorities and clocks are getting close to their targets?",
					Queries: []Query{{Expr: `sum by (priority, clock) (increase(ticketd_sla_warnings_total[1h])) or vector(0)`, Legend: "{{priority}} {{clock}}"}}},
				{Title: "SLA breaches per hour", Unit: "short",
					Answers: "Which priorities and clocks missed their targets, and is it getting worse?",
					Queries: []Query{{Expr: `sum by (priority, clock) (increase(ticketd_sla_breaches_total[1h])) or vector(0)`, Legend: "{{priority}} {{clock}}"}}},
				{Title: "Breach lateness", Unit: "s", Width: 24,
					Answers: "How late after the due time was a breach recorded (the SLA engine's own delay)?",
					Queries: []Query{
						{Expr: `histogram_quantile(0.5, sum by (clock, le) (rate(ticketd_sla_breach_lateness_seconds_bucket[1h])))`, Legend: "p50 {{clock}}"},
						{Expr: `histogram_quantile(0.99, sum by (clock, le) (rate(ticketd_sla_breach_lateness_seconds_bucket[1h])))`, Legend: "p99 {{clock}}"},
					}},
			}},
		},
	}
}

func workerDashboard() Spec {
	return Spec{
		File: "ticketd-worker.json", UID: "ticketd-worker", Title: "ticketd / Worker",
		Description: "The Temporal workers of the tickets task queue, from the Temporal SDK's own metrics: queueing, slots, pollers, failures, latency.",
		Rows: []Row{
			{Title: "Task queue", Panels: []Panel{
				{Title: "Workflow task schedule-to-start", Unit: "s", Targets: []float64{0.2},
					Answers: "How long does a workflow task wait for a worker? (dashed: 200 ms p99; above it, add workers)",
					Queries: quantiles("temporal_workflow_task_schedule_to_start_latency_seconds_bucket", "", "", "5m", "")},
				{Title: "Activity end-to-end", Unit: "s",
					Answers: "How long from scheduling an activity (a database write) to its success, waiting included, per activity? (Most are dispatched eagerly with the workflow task, so there is no separate schedule-to-start.)",
					Queries: []Query{{Expr: `histogram_quantile(0.99, sum by (activity_type, le) (rate(temporal_activity_succeed_endtoend_latency_seconds_bucket[5m])))`, Legend: "p99 {{activity_type}}"}}},
				{Title: "Free task slots", Unit: "short",
					Answers: "How much headroom does each worker have? 0 for long means it is saturated.",
					Queries: []Query{{Expr: `sum by (instance, worker_type) (temporal_worker_task_slots_available)`, Legend: "{{instance}} {{worker_type}}"}}},
				{Title: "Used task slots", Unit: "short",
					Answers: "How many tasks is each worker running right now?",
					Queries: []Query{{Expr: `sum by (instance, worker_type) (temporal_worker_task_slots_used)`, Legend: "{{instance}} {{worker_type}}"}}},
				{Title: "Pollers", Unit: "short",
					Answers: "Is anyone polling the task queues? 0 workflow or activity pollers means writes wait, then time out.",
					Queries: []Query{{Expr: `sum by (poller_type) (temporal_num_pollers)`, Legend: "{{poller_type}}"}}},
				{Title: "Poller starts", Unit: "short",
					Answers: "Are pollers being (re)started, e.g. after errors or scaling?",
					Queries: []Query{{Expr: `sum by (instance) (increase(temporal_poller_start_total[5m]))`, Legend: "{{instance}}"}}},
			}},
			{Title: "Execution", Panels: []Panel{
				{Title: "Workflow task execution", Unit: "s",
					Answers: "How long does running a workflow task take in the worker?",
					Queries: quantiles("temporal_workflow_task_execution_latency_seconds_bucket", "", "", "5m", "")},
				{Title: "Activity execution by activity", Unit: "s",
					Answers: "How long do activities (the database writes) take, per activity?",
					Queries: []Query{
						{Expr: `histogram_quantile(0.5, sum by (activity_type, le) (rate(temporal_activity_execution_latency_seconds_bucket[5m])))`, Legend: "p50 {{activity_type}}"},
						{Expr: `histogram_quantile(0.99, sum by (activity_type, le) (rate(temporal_activity_execution_latency_seconds_bucket[5m])))`, Legend: "p99 {{activity_type}}"},
					}},
				{Title: "Workflow task failures", Unit: "short",
					Answers: "Are workflow tasks failing (panics, non-determinism)? Anything above 0 blocks the tickets concerned.",
					Queries: []Query{{Expr: `sum by (workflow_type) (rate(temporal_workflow_task_execution_failed_total[5m])) or vector(0)`, Legend: "{{workflow_type}}"}}},
				{Title: "Activity failures", Unit: "short",
					Answers: "Which activities fail (and are retried)?",
					Queries: []Query{{Expr: `sum by (activity_type) (rate(temporal_activity_execution_failed_total[5m])) or vector(0)`, Legend: "{{activity_type}}"}}},
			}},
			{Title: "Calls to the Temporal server", Panels: []Panel{
				{Title: "Requests by operation", Unit: "reqps",
					Answers: "What do the SDK clients ask the Temporal frontend, and how often?",
					Queries: []Query{{Expr: `sum by (operation) (rate(temporal_request_total[5m]))`, Legend: "{{operation}}"}}},
				{Title: "Request failures by operation", Unit: "reqps",
					Answers: "Which calls to the Temporal frontend fail?",
					Queries: []Query{{Expr: `sum by (operation) (rate(temporal_request_failure_total[5m])) or vector(0)`, Legend: "{{operation}}"}}},
				{Title: "Request latency p99 by operation", Unit: "s",
					Answers: "Is the Temporal frontend slow to answer?",
					Queries: []Query{{Expr: `histogram_quantile(0.99, sum by (operation, le) (rate(temporal_request_latency_seconds_bucket[5m])))`, Legend: "{{operation}}"}}},
				{Title: "Long polls", Unit: "reqps",
					Answers: "How often do pollers long-poll the task queues (steady when idle)?",
					Queries: []Query{{Expr: `sum by (operation) (rate(temporal_long_request_total[5m]))`, Legend: "{{operation}}"}}},
			}},
		},
	}
}
