package api_test

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"gorm.io/gorm"

	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
)

// faultProxy forwards TCP connections to a target until told to fail: Down
// closes its listener (new connections are refused) and cuts every open
// connection, as a crashed or partitioned server would; Up listens again on
// the same address.
type faultProxy struct {
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener // nil while down
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{addr: ln.Addr().String(), target: target, conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(func() {
		p.Down()
		p.wg.Wait()
	})
	return p
}

// Addr is where clients connect.
func (p *faultProxy) Addr() string { return p.addr }

func (p *faultProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Down
			}
			p.wg.Go(func() { p.forward(c) })
		}
	})
}

func (p *faultProxy) forward(in net.Conn) {
	out, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = in.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // went down between Accept and now
		p.mu.Unlock()
		_ = in.Close()
		_ = out.Close()
		return
	}
	p.conns[in], p.conns[out] = struct{}{}, struct{}{}
	p.mu.Unlock()

	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done // one side ended: end both
	_ = in.Close()
	_ = out.Close()
	<-done

	p.mu.Lock()
	delete(p.conns, in)
	delete(p.conns, out)
	p.mu.Unlock()
}

// Down refuses new connections and cuts the open ones.
func (p *faultProxy) Down() {
	p.mu.Lock()
	ln, conns := p.ln, p.conns
	p.ln, p.conns = nil, map[net.Conn]struct{}{}
	p.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	for c := range conns {
		_ = c.Close()
	}
}

// Up accepts connections again, on the same address.
func (p *faultProxy) Up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy cannot listen on %s again: %v", p.addr, err)
	}
	p.serve(ln)
}

// faultState is what the direct database holds about a test's data.
type faultState struct {
	Tickets, Replies, Events, Keys int64
	Version                        int64
	Status                         models.Status
}

func readFaultState(t *testing.T, db *gorm.DB, customerID, ticketID string) faultState {
	t.Helper()
	var s faultState
	for _, q := range []struct {
		model any
		where string
		arg   string
		into  *int64
	}{
		{&models.Ticket{}, "customer_id = ?", customerID, &s.Tickets},
		{&models.Reply{}, "ticket_id = ?", ticketID, &s.Replies},
		{&models.Event{}, "ticket_id = ?", ticketID, &s.Events},
		{&models.IdempotencyKey{}, "user_id = ?", customerID, &s.Keys},
	} {
		if err := db.Unscoped().Model(q.model).Where(q.where, q.arg).Count(q.into).Error; err != nil {
			t.Fatal(err)
		}
	}
	var tk models.Ticket
	if err := db.Take(&tk, "id = ?", ticketID).Error; err != nil {
		t.Fatal(err)
	}
	s.Version, s.Status = tk.Version, tk.Status
	return s
}

// readiness polls /readyz until it answers want, or fails the test at the
// deadline; it returns the last body.
func readiness(t *testing.T, st *testenv.Stack, want int, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		r := st.Do(t, "GET", "/readyz", "", nil)
		if r.Status == want {
			return r.Map(t)
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d after %v, want %d: %s", r.Status, within, want, r.Body)
		}
		<-tick.C
	}
}

func wantUnavailable(t *testing.T, what string, r *testenv.Response) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable {
		t.Errorf("%s: %d %s, want 503", what, r.Status, r.Body)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	if p := r.Map(t); p["type"] != "urn:ticketd:problem:unavailable" || p["status"] != float64(503) {
		t.Errorf("%s: problem %s", what, r.Body)
	}
}

// TestDependencyFaults runs its own stack whose API reaches PostgreSQL and
// Temporal through proxies that the test breaks and mends; the worker keeps
// direct connections. While a dependency is down, writes answer 503 and
// write nothing, and /readyz says which one; once it is back, the same
// requests succeed with nothing restarted.
func TestDependencyFaults(t *testing.T) {
	d, direct := testenv.Postgres(t, "faults")
	ts := testenv.Temporal(t)

	u, err := url.Parse(d.DSN)
	if err != nil {
		t.Fatal(err)
	}
	dbProxy := newFaultProxy(t, u.Host)
	u.Host = dbProxy.Addr()
	apiDB, err := models.Open(u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeGorm(apiDB) })

	temporalProxy := newFaultProxy(t, ts.GetFrontendHostPort())
	tc, err := client.NewLazyClient(client.Options{
		HostPort:  temporalProxy.Addr(),
		Namespace: ts.GetDefaultNamespace(),
		Logger:    tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)

	st, err := testenv.NewStack(direct, ts, testenv.StackOptions{DB: apiDB, Temporal: tc, UpdateTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)

	cust, custTok := st.NewUser(t, models.RoleCustomer)
	_, agentTok := st.NewUser(t, models.RoleAgent)
	readiness(t, st, http.StatusOK, 30*time.Second)
	r := st.Do(t, "POST", "/api/v1/tickets", custTok, map[string]any{"subject": "Faulty", "description": "d"})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
	id := r.Map(t)["id"].(string)

	// The three writes each outage is tried with; each key is used once
	// while down and again once back.
	writes := func(t *testing.T, key, status string) []func() *testenv.Response {
		return []func() *testenv.Response{
			func() *testenv.Response {
				return st.Do(t, "POST", "/api/v1/tickets", custTok, map[string]any{"subject": "During " + key, "description": "d"}, "Idempotency-Key", key)
			},
			func() *testenv.Response {
				return st.Do(t, "POST", "/api/v1/tickets/"+id+"/replies", agentTok, map[string]any{"body": "reply " + key})
			},
			func() *testenv.Response {
				return st.Do(t, "POST", "/api/v1/tickets/"+id+"/status", agentTok, map[string]any{"status": status})
			},
		}
	}
	names := []string{"create", "reply", "status change"}

	for _, c := range []struct {
		name, key, status string
		proxy             *faultProxy
		down              string // the readiness check that must fail
	}{
		{"database", "db-outage", "in_progress", dbProxy, "database"},
		{"temporal", "temporal-outage", "pending", temporalProxy, "temporal"},
	} {
		t.Run(c.name+" down", func(t *testing.T) {
			before := readFaultState(t, direct, cust.ID, id)
			c.proxy.Down()

			// At once: each waits out the update timeout.
			ws := writes(t, c.key, c.status)
			res := make([]*testenv.Response, len(ws))
			parallel(len(ws), func(i int) { res[i] = ws[i]() })
			for i, r := range res {
				wantUnavailable(t, names[i], r)
			}
			ready := st.Do(t, "GET", "/readyz", "", nil)
			if ready.Status != http.StatusServiceUnavailable {
				t.Errorf("/readyz = %d %s while the %s is down, want 503", ready.Status, ready.Body, c.name)
			} else {
				m := ready.Map(t)
				checks, _ := m["checks"].(map[string]any)
				if m["status"] != "unavailable" || checks[c.down] == "ok" {
					t.Errorf("/readyz does not name the %s: %s", c.down, ready.Body)
				}
				for name, v := range checks {
					if name != c.down && v != "ok" {
						t.Errorf("/readyz blames %s too: %s", name, ready.Body)
					}
				}
			}
			if got := readFaultState(t, direct, cust.ID, id); got != before {
				t.Fatalf("something was written while the %s was down:\nbefore %+v\nafter  %+v", c.name, before, got)
			}

			c.proxy.Up(t)
			readiness(t, st, http.StatusOK, 60*time.Second)
			// Nothing the refused requests asked for turned up late.
			if got := readFaultState(t, direct, cust.ID, id); got != before {
				t.Fatalf("a refused request was written after the %s came back:\nbefore %+v\nafter  %+v", c.name, before, got)
			}

			// The same requests now succeed, each exactly once.
			for i, w := range ws {
				res[i] = w()
			}
			for i, want := range []int{http.StatusCreated, http.StatusCreated, http.StatusOK} {
				if res[i].Status != want {
					t.Errorf("%s after the %s came back: %d %s, want %d", names[i], c.name, res[i].Status, res[i].Body, want)
				}
			}
			if res[0].Header.Get("Idempotent-Replayed") != "" {
				t.Errorf("the create refused during the outage is replayed, so something was stored then")
			}
			after := readFaultState(t, direct, cust.ID, id)
			want := before
			want.Tickets++
			want.Keys++
			want.Replies++
			want.Events += 2
			want.Version += 2
			want.Status = models.Status(c.status)
			if after != want {
				t.Errorf("after recovery:\n got  %+v\n want %+v", after, want)
			}
		})
	}

	t.Run("database cut mid-use", func(t *testing.T) {
		// The pool holds open connections now; cutting them must not leave
		// the API stuck on dead ones once the database is back.
		dbProxy.Down()
		r := st.Do(t, "GET", "/api/v1/tickets/"+id, agentTok, nil)
		wantUnavailable(t, "get", r)
		dbProxy.Up(t)
		readiness(t, st, http.StatusOK, 30*time.Second)
		for range 3 { // more than one pooled connection gets used
			if r := st.Do(t, "GET", "/api/v1/tickets/"+id, agentTok, nil); r.Status != http.StatusOK {
				t.Errorf("get after the database came back: %d %s", r.Status, r.Body)
			}
		}
	})
}

func closeGorm(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		_ = s.Close()
	}
}
