// Command loadgen measures a running ticketd from the outside: a fixed number
// of concurrent HTTP clients drive it through six phases and it reports, per
// phase, the request count, the failures by HTTP status, exact p50/p90/p99/max
// latencies and the throughput.
//
// The phases, in order:
//
//	create       the customer POSTs /api/v1/tickets
//	status       the agent moves those tickets new→open, then open↔in_progress
//	reply        the agent POSTs /api/v1/tickets/{id}/replies
//	get          the customer GETs /api/v1/tickets/{id}
//	list         the agent GETs /api/v1/tickets?limit=20
//	list-open    the agent GETs /api/v1/tickets?status=open&limit=20
//
// In the ticket phases every client works on its own share of the created
// tickets, so no two requests race on one ticket and every status change is
// one the transition graph allows. Latencies and throughput count successful
// (2xx) requests; the others are listed by status ("timeout" and "transport"
// for requests that got no response).
//
// It talks to loopback addresses only and stops by itself: a phase ends after
// --requests requests or after --duration, whichever comes first; requests in
// flight at that moment finish (each bounded by --timeout).
//
// Usage:
//
//	loadgen --customer-token T --agent-token T [--url http://127.0.0.1:8080]
//	        [--clients 16] [--requests 400] [--duration 60s] [--timeout 30s] [--json]
//
// scripts/bench.sh (make bench) starts ticketd on SQLite and on PostgreSQL
// and runs loadgen against each.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	temporal "go.temporal.io/sdk/client"

	"github.com/ticketd/ticketd/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	baseURL       string
	customerToken string
	agentToken    string
	clients       int
	requests      int
	duration      time.Duration
	timeout       time.Duration
	json          bool

	// The engine's floor (floor.go): empty temporalAddr skips it.
	temporalAddr string
	namespace    string
	ticketdPID   int
	floorClients []int
	floorRounds  int
	floorBatch   int
	floorOnly    bool
	compression  temporal.GrpcCompression // of the floor's client, as ticketd's
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&cfg.baseURL, "url", "http://127.0.0.1:8080", "base URL of a ticketd on a loopback address")
	fs.StringVar(&cfg.customerToken, "customer-token", "", "bearer token of a customer (required)")
	fs.StringVar(&cfg.agentToken, "agent-token", "", "bearer token of an agent or admin (required)")
	fs.IntVar(&cfg.clients, "clients", 16, "concurrent clients")
	fs.IntVar(&cfg.requests, "requests", 400, "requests per phase (0: only --duration limits a phase)")
	fs.DurationVar(&cfg.duration, "duration", 60*time.Second, "longest a phase may issue requests (0: only --requests limits a phase)")
	fs.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "timeout of one request")
	fs.BoolVar(&cfg.json, "json", false, "print the results as JSON instead of a table")
	fs.StringVar(&cfg.temporalAddr, "temporal-addr", "", "Temporal frontend of that ticketd: compare its writes with no-op updates there (empty: skip)")
	fs.StringVar(&cfg.namespace, "namespace", "default", "Temporal namespace of that ticketd")
	fs.IntVar(&cfg.ticketdPID, "ticketd-pid", 0, "pid of that ticketd, to report its memory after the benchmark")
	floorClients := fs.String("floor-clients", "1,16", "client counts of the floor comparison")
	fs.IntVar(&cfg.floorRounds, "floor-rounds", 6, "alternating rounds per floor comparison")
	fs.IntVar(&cfg.floorBatch, "floor-batch", 10, "requests per client in each batch of a floor round")
	fs.BoolVar(&cfg.floorOnly, "floor-only", false, "run only the floor comparison")
	compression := fs.String("temporal-compression", "none", "gRPC compression of the floor's Temporal client, gzip or none: the same as that ticketd's (TEMPORAL_GRPC_COMPRESSION; ticketd dev's embedded server: none)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	for _, f := range strings.Split(*floorClients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 256 {
			return cfg, fmt.Errorf("--floor-clients %q: want a comma list of 1 to 256", *floorClients)
		}
		cfg.floorClients = append(cfg.floorClients, n)
	}
	if cfg.floorRounds < 1 || cfg.floorBatch < 1 {
		return cfg, errors.New("--floor-rounds and --floor-batch must be positive")
	}
	var err error
	if cfg.compression, err = workflows.GrpcCompression(*compression); err != nil {
		return cfg, fmt.Errorf("--temporal-compression: %w", err)
	}
	if cfg.temporalAddr != "" {
		host, _, err := net.SplitHostPort(cfg.temporalAddr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			return cfg, fmt.Errorf("--temporal-addr %q: want a loopback host:port", cfg.temporalAddr)
		}
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	case cfg.customerToken == "" || cfg.agentToken == "":
		return cfg, errors.New("--customer-token and --agent-token are required")
	case cfg.clients < 1 || cfg.clients > 1024:
		return cfg, errors.New("--clients must be between 1 and 1024")
	case cfg.requests < 0 || cfg.duration < 0 || cfg.timeout <= 0:
		return cfg, errors.New("--requests and --duration must not be negative, --timeout must be positive")
	case cfg.requests == 0 && cfg.duration == 0:
		return cfg, errors.New("give --requests or --duration (or both) so that the phases end")
	}
	cfg.baseURL = strings.TrimRight(cfg.baseURL, "/")
	return cfg, checkLoopback(cfg.baseURL)
}

// checkLoopback refuses URLs that leave the machine: loadgen is for
// measuring a local ticketd, not for loading anything else.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q: want http://host:port", raw)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--url %q: only loopback addresses (127.0.0.1, ::1, localhost) are allowed", raw)
	}
	return nil
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	c := newClient(cfg)
	if err := c.checkRoles(ctx); err != nil {
		return err
	}

	var report report
	if cfg.floorOnly {
		return runFloor(ctx, cfg, c, &report, stdout)
	}
	report.Config = reportConfig{URL: cfg.baseURL, Clients: cfg.clients, Requests: cfg.requests,
		Duration: cfg.duration.String(), Timeout: cfg.timeout.String()}
	if !cfg.json {
		fmt.Fprintf(stdout, "%d clients, each phase up to %d requests or %s (0 = no limit)\n\n", cfg.clients, cfg.requests, cfg.duration)
		printHeader(stdout)
	}
	record := func(r result) {
		report.Phases = append(report.Phases, r)
		if !cfg.json {
			printRow(stdout, r)
		}
	}
	finish := func() error {
		if cfg.json {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(report); err != nil {
				return err
			}
		} else {
			printFooter(stdout, report)
		}
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		return nil
	}

	// create: every client files tickets as the customer and keeps their ids.
	created := make([][]string, cfg.clients)
	r := runPhase(ctx, cfg, "create", cfg.clients, func(ctx context.Context, w, seq int) outcome {
		var t struct {
			ID string `json:"id"`
		}
		body := map[string]string{
			"subject":     fmt.Sprintf("loadgen ticket %d-%d", w, seq),
			"description": "Created by cmd/loadgen to measure ticketd.",
			"priority":    "normal",
		}
		o := c.do(ctx, http.MethodPost, "/api/v1/tickets", cfg.customerToken, body, &t)
		if o.ok() {
			created[w] = append(created[w], t.ID)
		}
		return o
	})
	report.CreatedPerSecond = r.Throughput
	record(r)

	// Share the tickets out so that each one belongs to exactly one client.
	all := slices.Concat(created...)
	if len(all) == 0 {
		if err := finish(); err != nil {
			return err
		}
		return errors.New("no ticket was created; the other phases need some")
	}
	shares := make([][]*ticket, min(cfg.clients, len(all)))
	for i, id := range all {
		shares[i%len(shares)] = append(shares[i%len(shares)], &ticket{id: id, status: "new"})
	}
	pick := func(w, seq int) *ticket { return shares[w][seq%len(shares[w])] }

	phases := []struct {
		name    string
		clients int
		do      func(ctx context.Context, w, seq int) outcome
	}{
		{"status", len(shares), func(ctx context.Context, w, seq int) outcome {
			t := pick(w, seq)
			var got struct {
				Status string `json:"status"`
			}
			o := c.do(ctx, http.MethodPost, "/api/v1/tickets/"+t.id+"/status", cfg.agentToken,
				map[string]string{"status": nextStatus(t.status)}, &got)
			if o.ok() {
				t.status = got.Status
			}
			return o
		}},
		{"reply", len(shares), func(ctx context.Context, w, seq int) outcome {
			body := map[string]string{"body": fmt.Sprintf("loadgen reply %d-%d", w, seq)}
			return c.do(ctx, http.MethodPost, "/api/v1/tickets/"+pick(w, seq).id+"/replies", cfg.agentToken, body, nil)
		}},
		{"get", len(shares), func(ctx context.Context, w, seq int) outcome {
			return c.do(ctx, http.MethodGet, "/api/v1/tickets/"+pick(w, seq).id, cfg.customerToken, nil, nil)
		}},
		{"list", cfg.clients, func(ctx context.Context, _, _ int) outcome {
			return c.do(ctx, http.MethodGet, "/api/v1/tickets?limit=20", cfg.agentToken, nil, nil)
		}},
		{"list-open", cfg.clients, func(ctx context.Context, _, _ int) outcome {
			return c.do(ctx, http.MethodGet, "/api/v1/tickets?status=open&limit=20", cfg.agentToken, nil, nil)
		}},
	}
	for _, p := range phases {
		if ctx.Err() != nil {
			break
		}
		record(runPhase(ctx, cfg, p.name, p.clients, p.do))
	}
	if cfg.temporalAddr != "" && ctx.Err() == nil {
		if !cfg.json {
			printFooter(stdout, report)
		}
		return runFloor(ctx, cfg, c, &report, stdout)
	}
	return finish()
}

// runFloor runs the floor comparison and prints it with the report.
func runFloor(ctx context.Context, cfg config, c *client, rep *report, stdout io.Writer) error {
	if cfg.temporalAddr == "" {
		return errors.New("--floor-only needs --temporal-addr")
	}
	fr, err := floorBench(ctx, cfg, c, os.Stderr)
	rep.Floor = &fr
	if cfg.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if eerr := enc.Encode(rep); eerr != nil {
			return eerr
		}
	} else {
		printFloor(stdout, fr)
	}
	return err
}

// ticket is one created ticket and the status loadgen last saw it in. Only
// the client that owns it reads or writes it.
type ticket struct {
	id     string
	status string
}

// nextStatus is a move the transition graph allows from status for an agent.
func nextStatus(status string) string {
	if status == "open" {
		return "in_progress"
	}
	return "open" // from new, in_progress, pending, on_hold and resolved
}

// outcome is what one request came to.
type outcome struct {
	status  int    // HTTP status; 0 when there was no response
	errKey  string // "" on success, else the HTTP status or "timeout"/"transport"/"bad-body"
	example string // the start of the error body or message
}

func (o outcome) ok() bool { return o.errKey == "" }

// client sends the requests.
type client struct {
	base string
	http *http.Client
	cfg  config
}

func newClient(cfg config) *client {
	tr := &http.Transport{
		Proxy:               nil, // loopback only
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        2 * cfg.clients,
		MaxIdleConnsPerHost: 2 * cfg.clients,
		IdleConnTimeout:     90 * time.Second,
	}
	return &client{base: cfg.baseURL, cfg: cfg, http: &http.Client{Transport: tr, Timeout: cfg.timeout}}
}

// do sends one request and reads the whole response, decoding a 2xx body
// into out when out is not nil.
func (c *client) do(ctx context.Context, method, path, token string, body, out any) outcome {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return outcome{errKey: "transport", example: err.Error()}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return outcome{errKey: "transport", example: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return outcome{errKey: "timeout", example: err.Error()}
		}
		return outcome{errKey: "transport", example: err.Error()}
	}
	defer resp.Body.Close()
	o := outcome{status: resp.StatusCode}
	if resp.StatusCode/100 != 2 {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		o.errKey, o.example = strconv.Itoa(resp.StatusCode), strings.TrimSpace(string(head))
	} else if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			o.errKey, o.example = "bad-body", err.Error()
		}
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil && o.errKey == "" {
		o.errKey, o.example = "transport", err.Error()
	}
	return o
}

// checkRoles fails early, with a clear message, when a token is wrong.
func (c *client) checkRoles(ctx context.Context) error {
	for _, want := range []struct {
		flag, token string
		roles       []string
	}{
		{"--customer-token", c.cfg.customerToken, []string{"customer"}},
		{"--agent-token", c.cfg.agentToken, []string{"agent", "admin"}},
	} {
		var me struct {
			Email string `json:"email"`
			Role  string `json:"role"`
		}
		o := c.do(ctx, http.MethodGet, "/api/v1/users/me", want.token, nil, &me)
		if !o.ok() {
			return fmt.Errorf("%s: GET %s/api/v1/users/me: %s %s", want.flag, c.base, o.errKey, o.example)
		}
		if !slices.Contains(want.roles, me.Role) {
			return fmt.Errorf("%s belongs to %s, a %s; want a %s", want.flag, me.Email, me.Role, strings.Join(want.roles, " or "))
		}
	}
	return nil
}

// result is one phase's figures. Latencies and throughput are of the
// successful requests.
type result struct {
	Phase          string            `json:"phase"`
	Clients        int               `json:"clients"`
	Count          int               `json:"count"`
	OK             int               `json:"ok"`
	Errors         int               `json:"errors"`
	ErrorsByStatus map[string]int    `json:"errors_by_status,omitempty"`
	ErrorExamples  map[string]string `json:"error_examples,omitempty"`
	P50ms          float64           `json:"p50_ms"`
	P90ms          float64           `json:"p90_ms"`
	P99ms          float64           `json:"p99_ms"`
	MaxMs          float64           `json:"max_ms"`
	Seconds        float64           `json:"seconds"`
	Throughput     float64           `json:"throughput_rps"`

	latencies []time.Duration // of the 2xx responses, sorted
}

type reportConfig struct {
	URL      string `json:"url"`
	Clients  int    `json:"clients"`
	Requests int    `json:"requests_per_phase"`
	Duration string `json:"max_duration_per_phase"`
	Timeout  string `json:"request_timeout"`
}

type report struct {
	Config           reportConfig `json:"config"`
	Phases           []result     `json:"phases"`
	CreatedPerSecond float64      `json:"tickets_created_per_second"`
	Floor            *floorReport `json:"floor,omitempty"`
}

// runPhase runs do from clients goroutines until the phase's request budget
// or time is spent, and summarises what happened. seq counts one client's
// requests from 0.
func runPhase(ctx context.Context, cfg config, name string, clients int, do func(ctx context.Context, w, seq int) outcome) result {
	type sample struct {
		took time.Duration
		o    outcome
	}
	var (
		issued  atomic.Int64
		samples = make([][]sample, clients)
		wg      sync.WaitGroup
		start   = time.Now()
	)
	deadline := time.Time{}
	if cfg.duration > 0 {
		deadline = start.Add(cfg.duration)
	}
	for w := range clients {
		wg.Go(func() {
			for seq := 0; ; seq++ {
				if ctx.Err() != nil || (!deadline.IsZero() && time.Now().After(deadline)) {
					return
				}
				if cfg.requests > 0 && issued.Add(1) > int64(cfg.requests) {
					return
				}
				t0 := time.Now()
				o := do(ctx, w, seq)
				took := time.Since(t0)
				if ctx.Err() != nil {
					return // interrupted: this request says nothing about ticketd
				}
				samples[w] = append(samples[w], sample{took, o})
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	r := result{Phase: name, Clients: clients, Seconds: math.Round(elapsed.Seconds()*1000) / 1000}
	var lat []time.Duration
	for _, s := range slices.Concat(samples...) {
		r.Count++
		if s.o.ok() {
			lat = append(lat, s.took)
			continue
		}
		r.Errors++
		if r.ErrorsByStatus == nil {
			r.ErrorsByStatus, r.ErrorExamples = map[string]int{}, map[string]string{}
		}
		if r.ErrorsByStatus[s.o.errKey]++; r.ErrorExamples[s.o.errKey] == "" {
			r.ErrorExamples[s.o.errKey] = s.o.example
		}
	}
	r.OK = len(lat)
	slices.Sort(lat)
	r.latencies = lat
	r.P50ms, r.P90ms, r.P99ms = ms(percentile(lat, 50)), ms(percentile(lat, 90)), ms(percentile(lat, 99))
	if len(lat) > 0 {
		r.MaxMs = ms(lat[len(lat)-1])
	}
	if elapsed > 0 {
		r.Throughput = math.Round(float64(r.OK)/elapsed.Seconds()*10) / 10
	}
	return r
}

// percentile is the nearest-rank p-th percentile of sorted: the smallest
// sample that at least p% of the samples do not exceed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Millisecond)*100) / 100 }

const rowFormat = "%-10s %7s %6s %6s %9s %9s %9s %9s %8s  %s\n"

func printHeader(w io.Writer) {
	fmt.Fprintf(w, rowFormat, "phase", "clients", "count", "errors", "p50", "p90", "p99", "max", "req/s", "errors by status")
}

func printRow(w io.Writer, r result) {
	fmtMs := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + "ms" }
	fmt.Fprintf(w, rowFormat, r.Phase, strconv.Itoa(r.Clients), strconv.Itoa(r.Count), strconv.Itoa(r.Errors),
		fmtMs(r.P50ms), fmtMs(r.P90ms), fmtMs(r.P99ms), fmtMs(r.MaxMs),
		strconv.FormatFloat(r.Throughput, 'f', 1, 64), byStatus(r.ErrorsByStatus))
}

func byStatus(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func printFooter(w io.Writer, rep report) {
	fmt.Fprintf(w, "\nlatency and req/s are of the 2xx responses; p99 is nearest-rank over all of them\n")
	fmt.Fprintf(w, "tickets created per second with %d concurrent clients: %.1f\n", rep.Config.Clients, rep.CreatedPerSecond)
	for _, r := range rep.Phases {
		for _, k := range slices.Sorted(maps.Keys(r.ErrorExamples)) {
			fmt.Fprintf(w, "  %s %s, e.g.: %s\n", r.Phase, k, r.ErrorExamples[k])
		}
	}
}
