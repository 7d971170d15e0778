package api_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticketd/ticketd/api"
	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/monitoring"
	"github.com/ticketd/ticketd/workflows"
)

// TestMalformedQueryIs400: a query string that does not parse is refused
// on every route, with or without a token, instead of being dropped in
// part and served.
func TestMalformedQueryIs400(t *testing.T) {
	p := newPeople(t)
	tk := p.fileTicket(t, "query", "malformed query strings")
	id := tk["id"].(string)
	paths := []string{
		"/api/v1/tickets?cursor=%%%garbage",
		"/api/v1/tickets?status=open&q=%zz",
		"/api/v1/tickets/my-tickets?q=50%",
		"/api/v1/tickets/" + id + "?x=%",
		"/api/v1/tickets/" + id + "/events?%gg",
		"/api/v1/tickets/" + id + "/replies?a=1;b=2",
		"/api/v1/users?role=%E0%A4%A",
		"/healthz?%%",
	}
	for _, path := range paths {
		for _, who := range []string{asOwner, asAgent, ""} {
			t.Run(who+" "+path, func(t *testing.T) {
				tok := ""
				if who != "" {
					tok = p.token(who)
				}
				r := stack.Do(t, "GET", path, tok, nil)
				pr := assertProblem(t, r, http.StatusBadRequest)
				if d, _ := pr["detail"].(string); !strings.Contains(d, "query string") {
					t.Errorf("detail %q does not say the query string is malformed", d)
				}
			})
		}
	}
}

// TestForgedCursorIs400: a cursor a client made up (valid base64 JSON,
// but no row's UUID) is a 400, not a database error (fuzzing found a 500).
func TestForgedCursorIs400(t *testing.T) {
	p := newPeople(t)
	for _, raw := range []string{
		`{"s":"-created_at","t":"2026-01-01T00:00:00Z","i":"x"}`,
		`{"s":"-created_at","t":"2026-01-01T00:00:00Z","i":"' OR 1=1 --"}`,
		`{"s":"users","t":"2026-01-01T00:00:00Z","i":"0190b0a4-0000-7000-8000-00000000000"}`,
	} {
		cur := base64.RawURLEncoding.EncodeToString([]byte(raw))
		for _, path := range []string{"/api/v1/tickets?cursor=" + cur, "/api/v1/users?cursor=" + cur} {
			t.Run(path, func(t *testing.T) {
				assertProblem(t, stack.Do(t, "GET", path, p.token(asAgent), nil), http.StatusBadRequest)
			})
		}
	}
}

// TestBodyLimit: a body over the limit is a 413 problem and creates
// nothing, whether it announces its length or is streamed.
func TestBodyLimit(t *testing.T) {
	p := newPeople(t)
	big := `{"subject":"big","description":"` + strings.Repeat("a", api.DefaultMaxBodyBytes) + `"}`
	count := func() int64 {
		n, _, err := stack.Store.CountTickets(t.Context(), models.TicketFilter{CustomerID: p.id(asOwner)})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	cases := []struct {
		name string
		body io.Reader
	}{
		{"with Content-Length", strings.NewReader(big)},
		{"streamed", io.MultiReader(strings.NewReader(big))}, // no length: chunked
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", stack.API.URL+"/api/v1/tickets", tc.body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+p.token(asOwner))
			req.Header.Set("Content-Type", "application/json")
			res, err := stack.API.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			assertProblem(t, &testenv.Response{Status: res.StatusCode, Header: res.Header, Body: raw}, http.StatusRequestEntityTooLarge)
		})
	}
	if after := count(); after != before {
		t.Fatalf("%d tickets after refused bodies, want %d", after, before)
	}
	// Just under the limit is read (and judged on its fields).
	r := stack.Do(t, "POST", "/api/v1/tickets", p.token(asOwner), big[:api.DefaultMaxBodyBytes-100]+`"}`)
	assertProblem(t, r, http.StatusUnprocessableEntity)
}

// TestSecurityHeaders: every response, success or error, says nosniff and,
// for the API, no-store.
func TestSecurityHeaders(t *testing.T) {
	p := newPeople(t)
	tk := p.fileTicket(t, "headers", "security headers")
	cases := []struct {
		method, path, who string
		noStore           bool
	}{
		{"GET", "/api/v1/tickets/" + tk["id"].(string), asOwner, true},
		{"GET", "/api/v1/tickets/" + tk["id"].(string), asOther, true}, // 404
		{"GET", "/api/v1/users/me", "", true},                          // 401
		{"POST", "/api/v1/tickets", asOwner, true},                     // 400
		{"GET", "/healthz", "", true},
		{"GET", "/openapi.yaml", "", true},
		{"GET", "/nowhere", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path+" "+tc.who, func(t *testing.T) {
			tok := ""
			if tc.who != "" {
				tok = p.token(tc.who)
			}
			r := stack.Do(t, tc.method, tc.path, tok, nil)
			if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q", got)
			}
			if got := r.Header.Get("Cache-Control"); tc.noStore && got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
		})
	}
}

// TestAnonymousRateLimit: requests without a valid token are limited per
// client address (429 + Retry-After); a forged X-Forwarded-For does not
// escape it, other addresses and authenticated callers are not affected.
func TestAnonymousRateLimit(t *testing.T) {
	reg := prometheus.NewRegistry()
	srv := api.New(api.Config{JWTSecret: testenv.Secret, AnonRatePerSecond: 0.001, AnonRateBurst: 3},
		stack.Store, workflows.NewClient(stack.Temporal, models.NewStore(stack.DB)), slog.New(slog.NewTextHandler(io.Discard, nil)),
		monitoring.NewMetrics(reg, api.MetricLabels()), reg)
	h := srv.Handler()
	_, agentTok := stack.NewUser(t, models.RoleAgent)
	send := func(addr, path, auth, forwarded string) *testenv.Response {
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr = addr
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if forwarded != "" {
			req.Header.Set("X-Forwarded-For", forwarded)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return &testenv.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	}
	const attacker = "198.51.100.7:5000"
	// The bucket holds three: no token, a bad token, no token.
	for i, auth := range []string{"", "Bearer forged", ""} {
		if r := send(attacker, "/api/v1/tickets", auth, ""); r.Status != http.StatusUnauthorized {
			t.Fatalf("request %d: %d, want 401", i, r.Status)
		}
	}
	for _, tc := range []struct{ name, path, auth, forwarded string }{
		{"no token", "/api/v1/tickets", "", ""},
		{"bad token", "/api/v1/users/me", "Bearer forged", ""},
		{"health probe", "/healthz", "", ""},
		{"forged X-Forwarded-For", "/api/v1/tickets", "", "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := send(attacker, tc.path, tc.auth, tc.forwarded)
			assertProblem(t, r, http.StatusTooManyRequests)
			if r.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		})
	}
	t.Run("a valid token is not charged to the address", func(t *testing.T) {
		if r := send(attacker, "/api/v1/users/me", "Bearer "+agentTok, ""); r.Status != http.StatusOK {
			t.Fatalf("%d, want 200: %s", r.Status, r.Body)
		}
	})
	t.Run("another address has its own bucket", func(t *testing.T) {
		if r := send("192.0.2.44:1234", "/healthz", "", ""); r.Status != http.StatusOK {
			t.Fatalf("%d, want 200", r.Status)
		}
	})
	t.Run("one IPv6 /64 is one bucket", func(t *testing.T) {
		for i := range 3 {
			send("[2001:db8:1:2::"+string(rune('a'+i))+"]:443", "/healthz", "", "")
		}
		assertProblem(t, send("[2001:db8:1:2::ffff]:443", "/healthz", "", ""), http.StatusTooManyRequests)
	})
}

// TestGuardRunsBeforeHandlers: a refused body never reaches a handler's
// decoder as a 400 or a write.
func TestGuardRunsBeforeHandlers(t *testing.T) {
	p := newPeople(t)
	tk := p.fileTicket(t, "guard", "before handlers")
	id := tk["id"].(string)
	before := stateOf(t, id, p.id(asOwner))
	body := bytes.Repeat([]byte(" "), api.DefaultMaxBodyBytes+1)
	r := stack.Do(t, "POST", "/api/v1/tickets/"+id+"/replies", p.token(asOwner), string(body))
	assertProblem(t, r, http.StatusRequestEntityTooLarge)
	assertUnchanged(t, before, id, p.id(asOwner))
}
