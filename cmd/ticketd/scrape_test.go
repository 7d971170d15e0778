package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ticketd/ticketd/api"
	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
)

// The repository's dashboards and rules, and the fixtures that prove the
// checks themselves.
const (
	dashboardsDir = "../../monitoring/grafana/dashboards"
	rulesDir      = "../../monitoring/prometheus"
	fixturesDir   = "testdata/monitoring"
	// serverMetricsFile lists the Temporal *server* metrics dashboards and
	// rules may use: a test scrape has no Temporal server metrics to offer.
	serverMetricsFile = "../../monitoring/temporal_server_metrics.txt"
)

// TestRealScrape runs `ticketd serve` and `ticketd worker` on PostgreSQL and
// an in-process Temporal server, drives a small workload through the API,
// points Debian's Prometheus at both (1 s scrapes, the repository's rule
// files) and asks Prometheus, through its HTTP API, for every panel query
// of every dashboard and the health of every rule. Every metric name a
// dashboard or rule uses must have been scraped, or be a Temporal server
// metric listed in monitoring/temporal_server_metrics.txt.
func TestRealScrape(t *testing.T) {
	if testing.Short() {
		t.Skip("real scrape: not in -short")
	}
	began := time.Now()
	promBin := requireBinary(t, "prometheus")

	dashboards, rules := monitoringFiles(t)
	t.Logf("checking %d dashboard file(s) and %d rule file(s)", len(dashboards), len(rules))

	// The stack: PostgreSQL, Temporal, serve and worker.
	d, db := testenv.Postgres(t, "scrape")
	ts := testenv.Temporal(t)

	secret := "scrape-test-secret-scrape-test-secret"
	apiAddr, workerAddr := freeAddr(t), freeAddr(t)
	env := map[string]string{
		"DATABASE_URL": d.DSN, "TEMPORAL_ADDRESS": ts.GetFrontendHostPort(), "TEMPORAL_NAMESPACE": ts.GetDefaultNamespace(),
		"TICKETD_JWT_SECRET": secret, "LOG_LEVEL": "info", "TICKETD_RATE_LIMIT": "0",
	}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan error, 2)
	go func() { done <- run(ctx, []string{"worker", "--metrics-addr", workerAddr}, getenv, io.Discard, logs) }()
	go func() { done <- run(ctx, []string{"serve", "--http-addr", apiAddr}, getenv, io.Discard, logs) }()
	defer func() {
		cancel()
		for range 2 {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("ticketd stopped with %v", err)
				}
			case <-time.After(time.Minute):
				t.Error("ticketd did not stop within a minute")
			}
		}
	}()
	base := "http://" + apiAddr
	waitFor(t, "the API to be ready", 2*time.Minute, func() bool { return httpStatus(base+"/readyz") == http.StatusOK }, logs)
	waitFor(t, "the worker's /metrics", time.Minute, func() bool { return httpStatus("http://"+workerAddr+"/metrics") == http.StatusOK }, logs)

	// The workload.
	store := models.NewStore(db)
	user := func(role models.Role) (models.User, string) {
		now := time.Now().UTC().Truncate(time.Microsecond)
		u := models.User{ID: uuid.Must(uuid.NewV7()).String(), Name: "Scrape " + string(role), Role: role, Active: true, CreatedAt: now, UpdatedAt: now}
		u.Email = u.ID + "@example.com"
		if err := store.CreateUser(context.Background(), &u); err != nil {
			t.Fatal(err)
		}
		tok, err := api.IssueToken([]byte(secret), u.ID, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return u, tok
	}
	_, admin := user(models.RoleAdmin)
	agentUser, agent := user(models.RoleAgent)
	_, customer := user(models.RoleCustomer)
	c := &apiClient{t: t, base: base}

	c.do("PUT", "/api/v1/sla-policies/low", admin, map[string]any{"first_response_seconds": 2, "resolution_seconds": 4, "warn_at": []float64{0.5}}, http.StatusOK)
	answered := c.do("POST", "/api/v1/tickets", customer, map[string]any{"subject": "Answered", "description": "will be resolved", "priority": "high"}, http.StatusCreated)["id"].(string)
	urgent := c.do("POST", "/api/v1/tickets", customer, map[string]any{"subject": "Urgent", "description": "stays open", "priority": "urgent"}, http.StatusCreated)["id"].(string)
	late := c.do("POST", "/api/v1/tickets", customer, map[string]any{"subject": "Late", "description": "nobody answers", "priority": "low"}, http.StatusCreated)["id"].(string)
	c.do("POST", "/api/v1/tickets/"+answered+"/replies", agent, map[string]any{"body": "Looking at it"}, http.StatusCreated)
	c.do("POST", "/api/v1/tickets/"+answered+"/status", agent, map[string]any{"status": "in_progress"}, http.StatusOK)
	c.do("POST", "/api/v1/tickets/"+answered+"/time-entries", agent, map[string]any{"minutes": 15}, http.StatusCreated)
	c.do("POST", "/api/v1/tickets/"+answered+"/status", agent, map[string]any{"status": "resolved"}, http.StatusOK)
	c.do("POST", "/api/v1/tickets/"+urgent+"/assign", agent, map[string]any{"assignee_id": agentUser.ID}, http.StatusOK)
	c.do("POST", "/api/v1/tickets/"+urgent+"/status", agent, map[string]any{"status": "in_progress"}, http.StatusOK)
	c.do("PATCH", "/api/v1/tickets/"+urgent, agent, map[string]any{"subject": "Urgent, edited"}, http.StatusOK)
	// The refused transition: resolved cannot go to in_progress.
	c.do("POST", "/api/v1/tickets/"+answered+"/status", agent, map[string]any{"status": "in_progress"}, http.StatusConflict)
	for range 5 {
		c.do("GET", "/api/v1/tickets?limit=10", agent, nil, http.StatusOK)
		c.do("GET", "/api/v1/tickets/"+urgent, agent, nil, http.StatusOK)
	}
	c.do("GET", "/api/v1/tickets/"+uuid.NewString(), agent, nil, http.StatusNotFound)
	checkLogs(t, base, agent, agentUser.ID, urgent, logs)
	waitFor(t, "the low-priority ticket's SLA breach", time.Minute, func() bool {
		return c.hasEvent(late, agent, "sla_breached")
	}, logs)

	// Prometheus.
	dir := t.TempDir()
	promAddr := freeAddr(t)
	var ruleAbs []string
	for _, r := range rules {
		abs, _ := filepath.Abs(r)
		ruleAbs = append(ruleAbs, abs)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: %s
scrape_configs:
  - job_name: ticketd-api
    static_configs: [{targets: [%q]}]
  - job_name: ticketd-worker
    static_configs: [{targets: [%q]}]
`, mustJSON(ruleAbs), apiAddr, workerAddr)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	promLog := &syncBuffer{}
	prom := exec.Command(promBin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+promAddr, "--log.level=warn")
	prom.Stdout, prom.Stderr = promLog, promLog
	if err := prom.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	defer func() {
		_ = prom.Process.Kill()
		_ = prom.Wait()
	}()
	p := &promClient{t: t, base: "http://" + promAddr}
	waitFor(t, "Prometheus to be ready", time.Minute, func() bool { return httpStatus(p.base+"/-/ready") == http.StatusOK }, promLog)
	waitFor(t, "both targets up for a few scrapes", time.Minute, func() bool {
		res, err := p.query(`count_over_time(up{job=~"ticketd-api|ticketd-worker"}[1m]) >= 4`)
		return err == nil && len(res) == 2
	}, promLog)
	// One more scrape after the workload's last request, so rates see it.
	time.Sleep(2 * time.Second)

	// The workload's own numbers, through the whole pipeline.
	for _, c := range []struct {
		query string
		want  float64
	}{
		{`sum(ticketd_tickets_created_total)`, 3},
		{`sum(ticketd_tickets_created_total{priority="urgent"})`, 1},
		{`sum(ticketd_ticket_transitions_total{from="in_progress", to="resolved"})`, 1},
		{`sum(ticketd_ticket_transitions_total{from="new", to="open"})`, 1}, // the assignment opened it
		{`sum(ticketd_ticket_first_response_seconds_count{priority="high"})`, 1},
		{`sum(ticketd_ticket_resolution_seconds_count{priority="high"})`, 1},
		{`sum(ticketd_ticket_first_response_seconds_count)`, 1},
		{`sum(ticketd_sla_breaches_total{priority="low", clock="first_response"})`, 1},
		{`max(ticketd_tickets_open{status="new"})`, 1},
		{`max(ticketd_tickets_open{status="in_progress"})`, 1},
		{`max(ticketd_tickets_open{status="resolved"})`, 1},
		{`sum(ticketd_ticket_changes_total{kind="status"})`, 3},
		{`sum(ticketd_workflow_update_duration_seconds_count{update="create"})`, 3},
		{`sum(ticketd_workflow_update_failures_total)`, 0},
		{`sum(ticketd_http_request_duration_seconds_count{route="/api/v1/tickets/:id/status", status_class="4xx"})`, 1},
	} {
		var got float64 = -1
		waitFor(t, c.query, 15*time.Second, func() bool {
			res, err := p.query(c.query)
			if err != nil || len(res) != 1 || len(res[0].Value) != 2 {
				return false
			}
			_, _ = fmt.Sscan(res[0].Value[1].(string), &got)
			return got == c.want
		}, promLog)
	}

	// Every rule loads and evaluates.
	names := p.names()
	wantRules := 0
	recorded := map[string]bool{}
	for _, path := range rules {
		rf, _, err := loadRules(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				wantRules++
				if r.Record != "" {
					recorded[r.Record] = true
				}
			}
		}
	}
	var healthy int
	waitFor(t, "every rule to be evaluated", time.Minute, func() bool {
		healthy = 0
		rs := p.rules()
		for _, r := range rs {
			if r.Health == "ok" {
				healthy++
			}
		}
		return len(rs) == wantRules && healthy == wantRules
	}, promLog)
	for _, r := range p.rules() {
		if r.Health != "ok" {
			t.Errorf("rule %s: health %s: %s", r.Name, r.Health, r.LastError)
		}
	}

	// Every metric name is exported (or a listed Temporal server metric).
	server := serverMetrics(t)
	known := func(n string) bool {
		return names[n] || recorded[n] || server[n] || server[family(n)] || sdkOnFirstEvent[family(n)]
	}
	var exprs []panelQuery
	for _, path := range rules {
		rf, _, _ := loadRules(path)
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				exprs = append(exprs, panelQuery{Dashboard: filepath.Base(path), Panel: r.Alert + r.Record, Expr: r.Expr})
			}
		}
	}
	var panels []panelQuery
	var boards []dashboard
	for _, path := range dashboards {
		board, err := loadDashboard(path)
		if err != nil {
			t.Fatal(err)
		}
		boards = append(boards, board)
		panels = append(panels, board.Queries...)
	}
	for _, q := range append(exprs, panels...) {
		for _, n := range metricNames(q.Expr) {
			if !known(n) {
				t.Errorf("%s / %s uses %s: neither exported by ticketd nor listed in monitoring/temporal_server_metrics.txt", q.Dashboard, q.Panel, n)
			}
		}
	}

	// Every panel query returns data.
	proven, serverOnly := 0, 0
	for _, board := range boards {
		values := p.variableValues(board.Vars)
		for _, q := range board.Queries {
			ns := metricNames(q.Expr)
			if len(ns) > 0 && !slices.ContainsFunc(ns, func(n string) bool { return !server[n] && !server[family(n)] }) {
				serverOnly++ // Temporal server metrics only: nothing to scrape here
				t.Logf("%s / %s: Temporal server metrics only, not queried", q.Dashboard, q.Panel)
				continue
			}
			expr, err := expand(q.Expr, values)
			if err != nil {
				t.Errorf("%s / %s: %v", q.Dashboard, q.Panel, err)
				continue
			}
			res, err := p.query(expr)
			switch {
			case err != nil:
				t.Errorf("%s / %s: %s: %v", q.Dashboard, q.Panel, expr, err)
			case len(res) == 0:
				t.Errorf("%s / %s: no data for %s", q.Dashboard, q.Panel, expr)
			default:
				proven++
			}
		}
	}
	// The check can fail: a query of a name nobody exports has no data.
	if res, err := p.query(`rate(ticketd_no_such_metric_total[1m])`); err != nil || len(res) != 0 {
		t.Errorf("a query of a missing metric returned %v, %v: the no-data check proves nothing", res, err)
	}
	t.Logf("real scrape: %d panel queries returned data (%d on Temporal server metrics only, skipped), %d rules healthy, %d metric names scraped; took %v",
		proven, serverOnly, healthy, len(names), time.Since(began).Round(time.Second))
	if os.Getenv("TICKETD_SCRAPE_DUMP") != "" {
		dumpFamilies(t, p, os.Getenv("TICKETD_SCRAPE_DUMP"))
	}
}

// sdkOnFirstEvent are Temporal SDK metrics that exist only once their first
// event happened (the SDK creates instruments on first use), so a healthy
// test scrape lacks them; monitoring/METRICS.md lists them too. Queries of
// them must still return data (write `... or vector(0)`).
var sdkOnFirstEvent = nameSet(`temporal_request_failure_total temporal_long_request_failure_total
		temporal_request_resource_exhausted_total temporal_long_request_resource_exhausted_total
		temporal_workflow_task_execution_failed_total temporal_activity_execution_failed_total
		temporal_workflow_completed_total temporal_workflow_failed_total temporal_workflow_canceled_total
		temporal_workflow_continue_as_new_total temporal_workflow_endtoend_latency_seconds
		temporal_workflow_task_queue_poll_empty_total temporal_activity_poll_no_task_total
		temporal_sticky_cache_miss_total temporal_sticky_cache_total_forced_eviction_total
		temporal_workflow_task_no_completion_total temporal_activity_task_error_total
		temporal_activity_schedule_to_start_latency_seconds temporal_activity_execution_latency_seconds
		temporal_activity_succeed_endtoend_latency_seconds
		temporal_local_activity_total temporal_local_activity_execution_failed_total
		temporal_local_activity_execution_cancelled_total temporal_local_activity_error_total
		temporal_local_activity_execution_latency_seconds temporal_local_activity_succeed_endtoend_latency_seconds`)

func nameSet(list string) map[string]bool {
	out := map[string]bool{}
	for _, n := range strings.Fields(list) {
		out[n] = true
	}
	return out
}

// monitoringFiles returns the dashboards and rule files to check: the
// repository's, which must exist once monitoring/grafana or
// monitoring/prometheus does, and the test's own fixtures.
func monitoringFiles(t *testing.T) (dashboards, rules []string) {
	t.Helper()
	dashboards, _ = filepath.Glob(filepath.Join(dashboardsDir, "*.json"))
	ymls, _ := filepath.Glob(filepath.Join(rulesDir, "*.yml"))
	ymls2, _ := filepath.Glob(filepath.Join(rulesDir, "*.yaml"))
	for _, y := range append(ymls, ymls2...) {
		if _, ok, err := loadRules(y); err != nil {
			t.Fatal(err)
		} else if ok {
			rules = append(rules, y)
		}
	}
	_, gErr := os.Stat(filepath.Dir(dashboardsDir))
	_, pErr := os.Stat(rulesDir)
	if gErr == nil || pErr == nil {
		if len(dashboards) == 0 {
			t.Errorf("no dashboard JSON in %s", dashboardsDir)
		}
		if len(rules) == 0 {
			t.Errorf("no rule file in %s", rulesDir)
		}
	} else {
		t.Log("monitoring/grafana and monitoring/prometheus do not exist yet: checking the fixtures only")
	}
	fd, _ := filepath.Glob(filepath.Join(fixturesDir, "*.json"))
	fr, _ := filepath.Glob(filepath.Join(fixturesDir, "*.yml"))
	return append(dashboards, fd...), append(rules, fr...)
}

// requireBinary finds a binary of Debian's prometheus package; a missing
// one fails the test unless TICKETD_SKIP_PROMETHEUS=1.
func requireBinary(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("TICKETD_SKIP_PROMETHEUS") == "1" {
			t.Skipf("%s not installed and TICKETD_SKIP_PROMETHEUS=1", name)
		}
		t.Fatalf("%s is not installed: install Debian's prometheus package (apt-get install -y prometheus; .ci/run does), or set TICKETD_SKIP_PROMETHEUS=1 to skip this test", name)
	}
	return p
}

func serverMetrics(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	raw, err := os.ReadFile(serverMetricsFile)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out[line] = true
		}
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func httpStatus(u string) int {
	resp, err := http.Get(u)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool, logs *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; logs:\n%s", what, tail(logs.String(), 4000))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// apiClient calls ticketd's API and checks statuses.
type apiClient struct {
	t    *testing.T
	base string
}

func (c *apiClient) do(method, path, token string, body any, want int) map[string]any {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

func (c *apiClient) hasEvent(ticketID, token, typ string) bool {
	c.t.Helper()
	evs := c.do("GET", "/api/v1/tickets/"+ticketID+"/events", token, nil, http.StatusOK)
	for _, e := range asList(evs["items"]) {
		if em, _ := e.(map[string]any); em["type"] == typ {
			return true
		}
	}
	return false
}

// promClient asks Prometheus' HTTP API.
type promClient struct {
	t    *testing.T
	base string
}

func (p *promClient) get(path string, v any) error {
	resp, err := http.Get(p.base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return err
	}
	if env.Status != "success" {
		return fmt.Errorf("prometheus: %s", env.Error)
	}
	return json.Unmarshal(env.Data, v)
}

type promSeries struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`
}

func (p *promClient) query(q string) ([]promSeries, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := p.get("/api/v1/query?query="+url.QueryEscape(q), &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" && data.ResultType != "matrix" {
		return []promSeries{{}}, nil // a scalar or a string is data
	}
	var res []promSeries
	return res, json.Unmarshal(data.Result, &res)
}

// names are the metric names Prometheus has ingested.
func (p *promClient) names() map[string]bool {
	var list []string
	if err := p.get("/api/v1/label/__name__/values", &list); err != nil {
		p.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range list {
		out[n] = true
	}
	return out
}

type promRule struct {
	Name      string `json:"name"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
}

func (p *promClient) rules() []promRule {
	var data struct {
		Groups []struct {
			Rules []promRule `json:"rules"`
		} `json:"groups"`
	}
	if err := p.get("/api/v1/rules", &data); err != nil {
		p.t.Fatal(err)
	}
	var out []promRule
	for _, g := range data.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// variableValues resolves a dashboard's template variables against what
// Prometheus scraped: label_values queries through the label API, custom
// variables from their options.
func (p *promClient) variableValues(vars []dashboardVar) map[string][]string {
	out := map[string][]string{}
	for _, v := range vars {
		switch {
		case v.Type == "datasource":
			out[v.Name] = []string{"prometheus"}
		case labelValuesQuery.MatchString(v.Query):
			m := labelValuesQuery.FindStringSubmatch(v.Query)
			path := "/api/v1/label/" + m[2] + "/values"
			if m[1] != "" {
				path += "?match[]=" + url.QueryEscape(m[1])
			}
			var vals []string
			if err := p.get(path, &vals); err != nil {
				p.t.Errorf("variable %s: %v", v.Name, err)
			}
			out[v.Name] = vals
		case len(v.Options) > 0:
			out[v.Name] = v.Options
		case v.Query != "":
			for _, o := range strings.Split(v.Query, ",") {
				out[v.Name] = append(out[v.Name], strings.TrimSpace(o))
			}
		}
	}
	return out
}

// dumpFamilies writes every scraped family with its label names, per job,
// to path: the source of monitoring/METRICS.md.
func dumpFamilies(t *testing.T, p *promClient, path string) {
	var series []map[string]string
	if err := p.get("/api/v1/series?match[]="+url.QueryEscape(`{job=~"ticketd-.*"}`), &series); err != nil {
		t.Fatal(err)
	}
	labels := map[string]map[string]bool{}
	jobs := map[string]map[string]bool{}
	for _, s := range series {
		n := s["__name__"]
		if labels[n] == nil {
			labels[n], jobs[n] = map[string]bool{}, map[string]bool{}
		}
		jobs[n][s["job"]] = true
		for k := range s {
			if k != "__name__" && k != "job" && k != "instance" && k != "le" {
				labels[n][k] = true
			}
		}
	}
	var lines []string
	for n, ls := range labels {
		var l, j []string
		for k := range ls {
			l = append(l, k)
		}
		for k := range jobs[n] {
			j = append(j, k)
		}
		sort.Strings(l)
		sort.Strings(j)
		lines = append(lines, fmt.Sprintf("%s\t%s\t%s", n, strings.Join(l, ","), strings.Join(j, ",")))
	}
	sort.Strings(lines)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkLogs: serve and worker log JSON by default; a request's records carry
// the request ID it was sent with (echoed back), the user, the ticket and
// its workflow; the Temporal SDK logs through the same handler.
func checkLogs(t *testing.T, base, token, userID, ticketID string, logs *syncBuffer) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/tickets/"+ticketID, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("X-Request-Id", "scrape-test-request-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "scrape-test-request-1" {
		t.Errorf("X-Request-Id echoed as %q", got)
	}
	want := map[string]any{"msg": "request", "request_id": "scrape-test-request-1", "user_id": userID,
		"ticket_id": ticketID, "workflow_id": "ticket-" + ticketID, "route": "/api/v1/tickets/:id", "status": 200.0}
	var sawRequest, sawSDK bool
	waitFor(t, "the request's access log", 10*time.Second, func() bool {
		for _, line := range strings.Split(logs.String(), "\n") {
			if line == "" {
				continue
			}
			rec := map[string]any{}
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("a log line is not JSON: %q", line)
			}
			sawSDK = sawSDK || rec["component"] == "temporal-sdk"
			match := true
			for k, v := range want {
				match = match && rec[k] == v
			}
			sawRequest = sawRequest || match
		}
		return sawRequest
	}, logs)
	if !sawSDK {
		t.Errorf("no Temporal SDK record (component=temporal-sdk) in the JSON logs")
	}
}
