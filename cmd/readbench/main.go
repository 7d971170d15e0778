// Command readbench measures ticketd's read paths at two sizes: it seeds a
// fresh PostgreSQL database with 10,000 and another with 1,000,000 tickets
// straight into the tables (COPY, see seed.go; not through the API), serves
// the real HTTP API on each (api.New with a real models.Store, on an
// httptest server; reads need no workflow engine, so the API gets a Tickets
// that refuses writes), and times, one request at a time and alternating
// between the sizes so both share the machine's noise, each list a user
// asks for:
//
//	get            GET /tickets/{id} (a random live ticket)
//	list           GET /tickets (default order -created_at)
//	agent queue    an agent's open tickets, oldest update first
//	unassigned new assignee_id=none&status=new
//	priority       sort=-priority
//	text search    q=<a product word>
//	page 20        the 20th page of the default list (keyset cursor)
//	count …        count=true: unfiltered, by status, on the agent's queue,
//	               by priority, and on a filter every ticket matches (created
//	               after a date before the first): past 10,000 matches an
//	               estimate
//	my-tickets     a customer's GET /tickets/my-tickets?count=true, asked
//	               by customers with a full page of tickets (see seed)
//
// It prints p50/p99 per size and the ratio of the p50s (the target: every
// p50 at the large size within 1.3x of the small one; every count under
// 50 ms). Each database is named ticketd_bench_*, created on --database-url's
// server and dropped afterwards (unless --keep).
//
// Usage:
//
//	readbench [--database-url postgres://…] [--sizes 10000,1000000] [--requests 200] [--keep]
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

	"github.com/ticketd/ticketd/api"
	"github.com/ticketd/ticketd/migrations"
	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/monitoring"
	"github.com/ticketd/ticketd/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "readbench:", err)
		os.Exit(1)
	}
}

type config struct {
	dsn      string
	sizes    []int
	requests int
	keep     bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("readbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := os.Getenv("BENCH_DATABASE_URL")
	if def == "" {
		def = os.Getenv("TEST_DATABASE_URL")
	}
	if def == "" {
		def = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	var cfg config
	fs.StringVar(&cfg.dsn, "database-url", def, "a PostgreSQL URL; the bench databases are created next to its database")
	sizes := fs.String("sizes", "10000,1000000", "ticket counts to seed, comma-separated; the first is the baseline")
	fs.IntVar(&cfg.requests, "requests", 200, "timed requests per query and size")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the databases (their names are printed) instead of dropping them")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 5000 { // 20 pages of the rarest priority
			return cfg, fmt.Errorf("--sizes: %q is not a ticket count of at least 5000", s)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	if cfg.requests < 10 {
		return cfg, errors.New("--requests must be at least 10")
	}
	if !models.IsPostgres(cfg.dsn) {
		return cfg, errors.New("--database-url must be a postgres:// URL")
	}
	return cfg, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	say := func(format string, a ...any) { fmt.Fprintf(stderr, "readbench: "+format+"\n", a...) }
	// Every size is seeded first, then each query alternates between the
	// sizes request by request, so all sizes share the machine's noise.
	var envs []*env
	defer func() {
		for _, e := range envs {
			if cerr := e.close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()
	for _, n := range cfg.sizes {
		e, err := prepare(ctx, cfg, n, say)
		if e != nil {
			envs = append(envs, e)
		}
		if err != nil {
			return fmt.Errorf("%d tickets: %w", n, err)
		}
	}
	results := make([]sizeResult, len(envs))
	for i, e := range envs {
		results[i].size = e.size
	}
	for qi := range envs[0].queries {
		if err := ctx.Err(); err != nil {
			return err
		}
		rs, err := measure(ctx, envs, qi, cfg.requests)
		if err != nil {
			return fmt.Errorf("%s: %w", envs[0].queries[qi].name, err)
		}
		line := fmt.Sprintf("%-26s", rs[0].name)
		for i, r := range rs {
			results[i].queries = append(results[i].queries, r)
			line += fmt.Sprintf("  %s p50 %s p99 %s", sizeName(envs[i].size), fmtDur(r.p50), fmtDur(r.p99))
		}
		say("%s", line)
	}
	printTable(stdout, results)
	return nil
}

type sizeResult struct {
	size    int
	queries []queryResult
}

type queryResult struct {
	name     string
	p50, p99 time.Duration
	exact    string // for counts: what total_exact said ("exact", "estimate", "mixed")
}

// env is one seeded database with the API serving it.
type env struct {
	size    int
	b       *bencher
	queries []query
	closers []func() error
}

func (e *env) close() error {
	var err error
	for i := len(e.closers) - 1; i >= 0; i-- {
		err = errors.Join(err, e.closers[i]())
	}
	return err
}

// prepare creates a database, seeds it with n tickets and serves the API on
// it. The env it returns (even with an error) must be closed.
func prepare(ctx context.Context, cfg config, n int, say func(string, ...any)) (*env, error) {
	e := &env{size: n}
	admin, err := models.Open(cfg.dsn, nil)
	if err != nil {
		return nil, err
	}
	e.closers = append(e.closers, func() error { closeDB(admin); return nil })
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := fmt.Sprintf("ticketd_bench_%s_%d", hex.EncodeToString(suffix), n)
	if err := admin.WithContext(ctx).Exec("CREATE DATABASE " + name).Error; err != nil {
		return e, fmt.Errorf("create database: %w", err)
	}
	if cfg.keep {
		say("database %s kept", name)
	} else {
		e.closers = append(e.closers, func() error {
			if err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error; err != nil {
				return fmt.Errorf("drop database %s: %w", name, err)
			}
			return nil
		})
	}
	u, err := url.Parse(cfg.dsn)
	if err != nil {
		return e, err
	}
	u.Path = "/" + name
	dsn := u.String()

	db, err := models.Open(dsn, nil)
	if err != nil {
		return e, err
	}
	e.closers = append(e.closers, func() error { closeDB(db); return nil })
	if err := migrations.Up(db); err != nil {
		return e, err
	}
	store := models.NewStore(db)
	began := time.Now()
	say("%d tickets: seeding database %s", n, name)
	pop, err := seed(ctx, store, dsn, n, func(s string) { say("%d tickets: %s", n, s) })
	if err != nil {
		return e, fmt.Errorf("seed: %w", err)
	}
	say("%d tickets: seeded in %s", n, time.Since(began).Round(time.Second))

	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := api.New(api.Config{JWTSecret: secret}, store, readOnly{}, log, monitoring.NewMetrics(reg, api.MetricLabels()), reg)
	ts := httptest.NewServer(srv.Handler())
	e.closers = append(e.closers, func() error { ts.Close(); return nil })
	e.b = &bencher{base: ts.URL + "/api/v1", client: ts.Client(), secret: secret, pop: pop}
	e.queries, err = e.b.queries(ctx)
	return e, err
}

func closeDB(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		_ = s.Close()
	}
}

// readOnly is the API's Tickets for a read benchmark: no workflow engine.
type readOnly struct{}

var errReadOnly = errors.New("readbench serves reads only")

func (readOnly) Create(context.Context, workflows.CreateInput) (workflows.UpdateResult, error) {
	return workflows.UpdateResult{}, errReadOnly
}
func (readOnly) Update(context.Context, string, string, any) (workflows.UpdateResult, error) {
	return workflows.UpdateResult{}, errReadOnly
}
func (readOnly) Ping(context.Context) error { return errReadOnly }

// query is one timed request: path(i) is the i-th request's path (after
// /api/v1) and token(i) its bearer token.
type query struct {
	name  string
	path  func(i int) string
	token func(i int) string
	count bool // the response carries total / total_exact
}

type bencher struct {
	base   string
	client *http.Client
	secret []byte
	pop    *population
	tokens map[string]string
}

func (b *bencher) token(userID string) string {
	if b.tokens == nil {
		b.tokens = map[string]string{}
	}
	if t, ok := b.tokens[userID]; ok {
		return t
	}
	t, err := api.IssueToken(b.secret, userID, 2*time.Hour, time.Now())
	if err != nil {
		panic(err) // only a broken secret fails
	}
	b.tokens[userID] = t
	return t
}

// The agent queue's statuses: everything an agent still has to act on.
const openStatuses = "open,in_progress,pending,on_hold"

func (b *bencher) queries(ctx context.Context) ([]query, error) {
	p := b.pop
	agentTok := func(i int) string { return b.token(p.agents[i%len(p.agents)].ID) }
	adminTok := func(int) string { return b.token(p.admin.ID) }
	custTok := func(i int) string { return b.token(p.pageful[(i*7)%len(p.pageful)].ID) }
	fixed := func(s string) func(int) string { return func(int) string { return s } }
	// A filter every ticket matches but the counters do not answer: all
	// 10,000 counted at the small size; at a million the count stops at
	// 10,001 and the planner estimates.
	beforeAll := url.QueryEscape(time.Now().UTC().AddDate(-2, 0, 0).Format(time.RFC3339))

	// The 20th page of the default list: walk there once per start point.
	var deep []string
	for start := range 5 {
		path := "/tickets?limit=20"
		if start > 0 {
			path += "&priority=" + string(models.Priorities[start-1])
		}
		cur := ""
		for range 19 {
			var page struct {
				NextCursor *string `json:"next_cursor"`
			}
			if err := b.getJSON(ctx, path+cur, adminTok(0), &page); err != nil {
				return nil, err
			}
			if page.NextCursor == nil {
				return nil, errors.New("the default list has fewer than 20 pages")
			}
			cur = "&cursor=" + url.QueryEscape(*page.NextCursor)
		}
		deep = append(deep, path+cur)
	}
	return []query{
		{name: "get", token: adminTok, path: func(i int) string { return "/tickets/" + p.ticketIDs[(i*131)%len(p.ticketIDs)] }},
		{name: "list (-created_at)", token: agentTok, path: fixed("/tickets?limit=20")},
		{name: "agent queue (updated_at)", token: agentTok, path: fixed("/tickets?assignee_id=me&status=" + openStatuses + "&sort=updated_at&limit=20")},
		{name: "unassigned new", token: agentTok, path: fixed("/tickets?assignee_id=none&status=new&limit=20")},
		{name: "priority (-priority)", token: agentTok, path: fixed("/tickets?sort=-priority&limit=20")},
		{name: "text search (q)", token: agentTok, path: func(i int) string {
			return "/tickets?limit=20&q=" + url.QueryEscape(products[i%len(products)])
		}},
		{name: "page 20 (cursor)", token: agentTok, path: func(i int) string { return deep[i%len(deep)] }},
		{name: "count: all", token: agentTok, count: true, path: fixed("/tickets?limit=20&count=true")},
		{name: "count: status", token: agentTok, count: true, path: fixed("/tickets?limit=20&count=true&status=" + openStatuses)},
		{name: "count: agent queue", token: agentTok, count: true, path: fixed("/tickets?assignee_id=me&status=" + openStatuses + "&sort=updated_at&limit=20&count=true")},
		{name: "count: priority", token: agentTok, count: true, path: fixed("/tickets?priority=normal&limit=20&count=true")},
		{name: "count: created_after", token: agentTok, count: true, path: fixed("/tickets?limit=20&count=true&created_after=" + beforeAll)},
		{name: "my-tickets (count=true)", token: custTok, count: true, path: fixed(fmt.Sprintf("/tickets/my-tickets?limit=%d&count=true", myTicketsPage))},
	}, nil
}

func (b *bencher) getJSON(ctx context.Context, path, tok string, v any) error {
	body, err := b.get(ctx, path, tok)
	if err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}

func (b *bencher) get(ctx context.Context, path, tok string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body, nil
}

// measure runs query qi of every env a few times to warm up, then requests
// times, alternating between the envs request by request.
func measure(ctx context.Context, envs []*env, qi, requests int) ([]queryResult, error) {
	type acc struct {
		durs           []time.Duration
		exact, inexact int
	}
	accs := make([]acc, len(envs))
	warm := min(20, requests/5)
	for i := range warm + requests {
		for k, e := range envs {
			q := e.queries[qi]
			path, tok := q.path(i), q.token(i)
			t0 := time.Now()
			body, err := e.b.get(ctx, path, tok)
			d := time.Since(t0)
			if err != nil {
				return nil, fmt.Errorf("%d tickets: %w", e.size, err)
			}
			if i < warm {
				continue
			}
			a := &accs[k]
			a.durs = append(a.durs, d)
			if q.count {
				var page struct {
					Total      *int64 `json:"total"`
					TotalExact *bool  `json:"total_exact"`
				}
				if err := json.Unmarshal(body, &page); err != nil || page.Total == nil || page.TotalExact == nil {
					return nil, fmt.Errorf("count response without total and total_exact: %s", body)
				}
				if *page.TotalExact {
					a.exact++
				} else {
					a.inexact++
				}
			}
		}
	}
	out := make([]queryResult, len(envs))
	for k, a := range accs {
		q := envs[k].queries[qi]
		r := queryResult{name: q.name}
		slices.Sort(a.durs)
		r.p50 = a.durs[len(a.durs)/2]
		r.p99 = a.durs[min(len(a.durs)-1, len(a.durs)*99/100)]
		switch {
		case !q.count:
		case a.inexact == 0:
			r.exact = "exact"
		case a.exact == 0:
			r.exact = "estimate"
		default:
			r.exact = "mixed"
		}
		out[k] = r
	}
	return out, nil
}

func fmtDur(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

func sizeName(n int) string {
	switch {
	case n%1000000 == 0:
		return strconv.Itoa(n/1000000) + "M"
	case n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// printTable prints every size side by side and, for each size after the
// first, the ratio of its p50 to the first size's.
func printTable(w io.Writer, results []sizeResult) {
	if len(results) == 0 {
		return
	}
	fmt.Fprintf(w, "\nticketd read paths over HTTP (api.New + models.Store on PostgreSQL), one client; p50 / p99\n\n")
	fmt.Fprintf(w, "%-26s", "query")
	for _, r := range results {
		fmt.Fprintf(w, " %10s %10s", sizeName(r.size)+" p50", sizeName(r.size)+" p99")
	}
	for _, r := range results[1:] {
		fmt.Fprintf(w, " %9s", sizeName(r.size)+"/"+sizeName(results[0].size))
	}
	fmt.Fprintf(w, "  %s\n", "total_exact")
	for i, q := range results[0].queries {
		fmt.Fprintf(w, "%-26s", q.name)
		for _, r := range results {
			fmt.Fprintf(w, " %10s %10s", fmtDur(r.queries[i].p50), fmtDur(r.queries[i].p99))
		}
		for _, r := range results[1:] {
			fmt.Fprintf(w, " %8.2fx", float64(r.queries[i].p50)/float64(q.p50))
		}
		var ex []string
		for _, r := range results {
			if r.queries[i].exact != "" {
				ex = append(ex, r.queries[i].exact)
			}
		}
		fmt.Fprintf(w, "  %s\n", strings.Join(ex, " / "))
	}
}
