package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"gorm.io/gorm"

	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
)

// routerFixture is what the router target's placeholders stand for: a
// cast of users, a ticket of the customer's, a closed one, a category.
type routerFixture struct {
	tokens    map[byte]string // by the input's "who" byte
	users     []models.User
	ticket    string
	closed    string
	category  string
	policies  []models.Policy
	lifecycle models.Lifecycle
	checksum  string // the query behind dbChecksum
}

func newRouterFixture(t testing.TB) *routerFixture {
	t.Helper()
	fx := &routerFixture{tokens: map[byte]string{}}
	owner, ownerTok := stack.NewUser(t, models.RoleCustomer)
	other, otherTok := stack.NewUser(t, models.RoleCustomer)
	agent, agentTok := stack.NewUser(t, models.RoleAgent)
	admin, adminTok := stack.NewUser(t, models.RoleAdmin)
	fx.users = []models.User{owner, other, agent, admin}
	expired := sign(t, jwt.SigningMethodHS256, testenv.Secret, jwt.MapClaims{
		"iss": "ticketd", "aud": "ticketd-api", "sub": agent.ID, "exp": time.Now().Add(-time.Hour).Unix(),
	})
	fx.tokens = map[byte]string{'o': ownerTok, 'x': otherTok, 'a': agentTok, 'd': adminTok,
		'e': expired, 'g': "not.a.jwt"}
	do := func(want int, method, path, tok string, body any) map[string]any {
		r := stack.Do(t, method, path, tok, body)
		if r.Status != want {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
		}
		return r.Map(t)
	}
	fx.ticket = do(http.StatusCreated, "POST", "/api/v1/tickets", ownerTok,
		map[string]any{"subject": "fuzz", "description": "the router target's ticket"})["id"].(string)
	fx.closed = do(http.StatusCreated, "POST", "/api/v1/tickets", ownerTok,
		map[string]any{"subject": "fuzz closed", "description": "closed"})["id"].(string)
	do(http.StatusOK, "POST", "/api/v1/tickets/"+fx.closed+"/status", agentTok, map[string]any{"status": "closed"})
	fx.category = do(http.StatusCreated, "POST", "/api/v1/categories", adminTok,
		map[string]any{"name": "fuzz-" + owner.ID})["id"].(string)
	ctx := context.Background()
	var err error
	if fx.policies, err = stack.Store.ListPolicies(ctx); err != nil {
		t.Fatal(err)
	}
	if fx.lifecycle, err = stack.Store.GetLifecycle(ctx); err != nil {
		t.Fatal(err)
	}
	fx.checksum = checksumQuery(t, stack.DB)
	// The checksum must see even a write that changes no value.
	before := fx.dbChecksum(t)
	if err := stack.DB.Exec("UPDATE users SET name = name WHERE id = ?", owner.ID).Error; err != nil {
		t.Fatal(err)
	}
	if fx.dbChecksum(t) == before {
		t.Fatal("the database checksum missed an update")
	}
	return fx
}

// checksumQuery sums up every table of ours: its row count and the
// newest row version's transaction ID (xmin). An insert or an update makes
// a row version with a newer xmin, a delete lowers the count, so any write
// changes the sum; it reads no row's text, so it stays cheap as the
// fuzzer's tickets pile up.
func checksumQuery(t testing.TB, db *gorm.DB) string {
	t.Helper()
	var tables []string
	if err := db.Raw(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`).
		Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	parts := make([]string, 0, len(tables))
	for _, tbl := range tables {
		parts = append(parts, fmt.Sprintf(
			`(SELECT '%[1]s:' || count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM %[1]q)`, tbl))
	}
	return "SELECT " + strings.Join(parts, " || ' ' || ")
}

func (fx *routerFixture) dbChecksum(t testing.TB) string {
	t.Helper()
	var sum string
	if err := stack.DB.Raw(fx.checksum).Scan(&sum).Error; err != nil {
		t.Fatalf("checksum: %v", err)
	}
	return sum
}

// restore undoes what an accepted request may have changed that would
// make later checks meaningless: short SLA targets or lifecycle delays
// (their timers would write in the background while a later refused
// request is checked), and the cast's own roles and activity.
func (fx *routerFixture) restore(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	for i := range fx.policies {
		p := fx.policies[i]
		if err := stack.Store.PutPolicy(ctx, &p); err != nil {
			t.Fatal(err)
		}
	}
	if err := stack.Store.PutLifecycle(ctx, fx.lifecycle); err != nil {
		t.Fatal(err)
	}
	for _, u := range fx.users {
		if err := stack.DB.Exec("UPDATE users SET role = ?, active = true WHERE id = ?", u.Role, u.ID).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// expand replaces the placeholders of a fuzzed request target.
func (fx *routerFixture) expand(target string) string {
	return strings.NewReplacer(
		"{t}", fx.ticket, "{c}", fx.closed, "{cat}", fx.category,
		"{o}", fx.users[0].ID, "{x}", fx.users[1].ID, "{a}", fx.users[2].ID, "{d}", fx.users[3].ID,
	).Replace(target)
}

// FuzzRouter sends arbitrary requests to the real router over the real
// store and workflow engine, and checks what every response must be: no
// 5xx but 503, problem+json on every error, the security headers, and no
// row changed by a refused request.
func FuzzRouter(f *testing.F) {
	fx := newRouterFixture(f)
	for _, s := range routerSeeds {
		f.Add(s.method, s.who, s.target, s.headers, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method string, who byte, target, headers string, body []byte) {
		req, ok := fuzzRequest(method, fx.expand(target), headers, body)
		if !ok {
			return // net/http would refuse it before the router
		}
		if tok, ok := fx.tokens[who]; ok && req.Header.Get("Authorization") == "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		// Streams (Server-Sent Events) answer until the client leaves:
		// leave once the headers and first events are out; everything else
		// gets a change's budget.
		budget := 20 * time.Second
		if strings.Contains(req.URL.Path, "stream") {
			budget = 100 * time.Millisecond
		}
		ctx, cancel := context.WithTimeout(context.Background(), budget)
		defer cancel()
		req = req.WithContext(ctx)
		before := fx.dbChecksum(t)
		rec := httptest.NewRecorder()
		stack.Handler.ServeHTTP(rec, req)
		res := rec.Result()
		raw, _ := io.ReadAll(res.Body)
		checkRouterResponse(t, req, res, raw)
		if res.StatusCode >= 400 {
			if after := fx.dbChecksum(t); after != before {
				t.Errorf("%s %s refused with %d but changed the database\nbefore %s\nafter  %s",
					req.Method, req.URL, res.StatusCode, before, after)
			}
		}
		if res.StatusCode < 300 && req.Method != http.MethodGet && (strings.Contains(req.URL.Path, "/sla-policies") ||
			strings.Contains(req.URL.Path, "/settings") || strings.Contains(req.URL.Path, "/users")) {
			fx.restore(t)
		}
	})
}

func checkRouterResponse(t *testing.T, req *http.Request, res *http.Response, raw []byte) {
	t.Helper()
	what := fmt.Sprintf("%s %q", req.Method, req.URL.String())
	if res.StatusCode >= 500 && res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("%s: status %d: %s", what, res.StatusCode, raw)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", what, got)
	}
	if strings.HasPrefix(req.URL.Path, "/api/") && res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", what, res.Header.Get("Cache-Control"))
	}
	if res.StatusCode == http.StatusTooManyRequests && res.Header.Get("Retry-After") == "" {
		t.Errorf("%s: 429 without Retry-After", what)
	}
	if res.StatusCode < 400 {
		return
	}
	mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil || mt != "application/problem+json" {
		t.Fatalf("%s: status %d with Content-Type %q, want application/problem+json: %s",
			what, res.StatusCode, res.Header.Get("Content-Type"), raw)
	}
	var p struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("%s: problem is not JSON: %v: %s", what, err, raw)
	}
	if p.Status != res.StatusCode || p.Title == "" || !strings.HasPrefix(p.Type, "urn:ticketd:problem:") {
		t.Fatalf("%s: problem %+v does not describe status %d", what, p, res.StatusCode)
	}
}

// fuzzRequest builds the request a server would hand the router, or
// reports false for one net/http itself refuses (bad method, target or
// header syntax). headers holds "Name: value" lines.
func fuzzRequest(method, target, headers string, body []byte) (*http.Request, bool) {
	if method == "" || !isToken(method) {
		return nil, false
	}
	if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\x00") {
		return nil, false
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, false
	}
	req := &http.Request{
		Method: method, URL: u, RequestURI: target, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Host: "ticketd.test", RemoteAddr: "192.0.2.1:4321",
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
	}
	for _, line := range strings.Split(headers, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		if !isToken(name) || !validHeaderValue(value) {
			return nil, false
		}
		switch http.CanonicalHeaderKey(name) {
		case "Host", "Content-Length", "Transfer-Encoding", "Connection", "Trailer":
			continue // framing: net/http owns these
		}
		req.Header.Add(name, value)
	}
	return req, true
}

// isToken reports whether s is an RFC 9110 token (methods, header names).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// routerSeeds are requests from the package's tests, with placeholders
// for the fixture's IDs.
var routerSeeds = []struct {
	method        string
	who           byte
	target        string
	headers, body string
}{
	{"GET", 'a', "/api/v1/tickets?status=open,new&sort=-updated_at&limit=5&count=true", "", ""},
	{"GET", 'o', "/api/v1/tickets?cursor=%%%garbage", "", ""},
	{"GET", 'o', "/api/v1/tickets/my-tickets?q=fuzz", "", ""},
	{"GET", 'a', "/api/v1/tickets?assignee_id=me&created_after=2026-01-01T00:00:00Z", "", ""},
	{"POST", 'o', "/api/v1/tickets", "Content-Type: application/json\nIdempotency-Key: k1",
		`{"subject":"s","description":"d","priority":"high"}`},
	{"POST", 'a', "/api/v1/tickets", "", `{"subject":"s","description":"d","customer_id":"{o}","category_id":"{cat}"}`},
	{"GET", 'o', "/api/v1/tickets/{t}", "", ""},
	{"PATCH", 'o', "/api/v1/tickets/{t}", "If-Match: \"1\"", `{"subject":"edited"}`},
	{"PUT", 'a', "/api/v1/tickets/{t}", "If-Match: *", `{"priority":"low","category_id":null}`},
	{"PATCH", 'a', "/api/v1/tickets/{c}", "", `{"subject":"closed"}`},
	{"POST", 'a', "/api/v1/tickets/{t}/status", "", `{"status":"pending","reason":"waiting"}`},
	{"POST", 'o', "/api/v1/tickets/{t}/status", "", `{"status":"resolved"}`},
	{"POST", 'a', "/api/v1/tickets/{t}/assign", "", `{"assignee_id":"{a}"}`},
	{"POST", 'a', "/api/v1/tickets/{t}/assign", "", `{"assignee_id":null}`},
	{"POST", 'o', "/api/v1/tickets/{t}/replies", "", `{"body":"hello","internal":false}`},
	{"POST", 'a', "/api/v1/tickets/{t}/replies", "", `{"body":"note","internal":true}`},
	{"GET", 'x', "/api/v1/tickets/{t}/replies", "", ""},
	{"GET", 'o', "/api/v1/tickets/{t}/events", "", ""},
	{"POST", 'a', "/api/v1/tickets/{t}/time-entries", "", `{"minutes":15,"note":"call"}`},
	{"GET", 'a', "/api/v1/tickets/{t}/time-entries", "", ""},
	{"GET", 'o', "/api/v1/tickets/{t}/sla", "", ""},
	{"POST", 'o', "/api/v1/tickets/{c}/follow-up", "", `{"subject":"again","description":"more"}`},
	{"DELETE", 'd', "/api/v1/tickets/{c}", "", ""},
	{"GET", 'a', "/api/v1/sla-policies", "", ""},
	{"PUT", 'd', "/api/v1/sla-policies/high", "", `{"first_response_seconds":3600,"resolution_seconds":86400,"warn_at":[0.5],"escalate":true,` +
		`"calendar":{"time_zone":"Europe/Berlin","hours":[{"day":"mon","open":"09:00","close":"17:00"}],"holidays":["2026-12-25"]}}`},
	{"GET", 'd', "/api/v1/settings/lifecycle", "", ""},
	{"PUT", 'd', "/api/v1/settings/lifecycle", "", `{"resolved_auto_close_seconds":3600}`},
	{"GET", 'o', "/api/v1/categories", "", ""},
	{"POST", 'd', "/api/v1/categories", "", `{"name":"billing"}`},
	{"GET", 'o', "/api/v1/users/me", "", ""},
	{"GET", 'a', "/api/v1/users?role=agent&active=true&limit=2", "", ""},
	{"POST", 'd', "/api/v1/users", "", `{"email":"new@example.com","name":"New","role":"customer"}`},
	{"PATCH", 'd', "/api/v1/users/{x}", "", `{"active":false}`},
	{"GET", 'e', "/api/v1/users/me", "", ""},
	{"GET", 'g', "/api/v1/tickets", "", ""},
	{"GET", 0, "/api/v1/tickets", "Authorization: Basic Zm9vOmJhcg==", ""},
	{"GET", 0, "/healthz", "", ""},
	{"GET", 'o', "/api/v1/tickets/{t}/stream", "Last-Event-ID: 1", ""},
	{"GET", 'a', "/api/v1/stream", "", ""},
	{"POST", 0, "/api/v1/auth/login", "", `{"email":"nobody@example.com","password":"wrong-password"}`},
	{"PUT", 'o', "/api/v1/users/me/password", "", `{"current_password":"a","new_password":"0123456789ab"}`},
	{"GET", 'a', "/api/v1/users/{o}", "", ""},
	{"GET", 'o', "/api/v1/categories/{cat}", "", ""},
	{"GET", 'a', "/api/v1/tickets?sla_state=running,breached&sort=sla_due_at", "", ""},
	{"GET", 'o', "/api/v1/tickets/{t}/events?limit=1&cursor=abc", "", ""},
	{"GET", 0, "/readyz", "", ""},
	{"GET", 0, "/openapi.yaml", "", ""},
	{"POST", 0, "/nowhere", "", "{}"},
	{"TRACE", 'a', "/api/v1/tickets", "", ""},
	{"POST", 'o', "/api/v1/tickets", "", `{"subject":"s","description":"d","extra":1}`},
	{"POST", 'o', "/api/v1/tickets", "", `[1,2,3]`},
}
