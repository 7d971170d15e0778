package api_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/ticketd/ticketd/api"
	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
)

// specOperations loads openapi.yaml and lists its operations as
// "METHOD /path/{param}".
func specOperations(t *testing.T) []string {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPISpec())
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is invalid: %v", err)
	}
	var ops []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

var ginParam = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)`)

// routedOperations lists the router's routes in the spec's notation.
func routedOperations(t *testing.T) []string {
	t.Helper()
	engine, ok := stack.Handler.(*gin.Engine)
	if !ok {
		t.Fatalf("stack.Handler is a %T, not a *gin.Engine", stack.Handler)
	}
	var ops []string
	for _, r := range engine.Routes() {
		ops = append(ops, r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}"))
	}
	slices.Sort(ops)
	return ops
}

// TestSpecMatchesRouter checks that every route is documented and every
// documented operation is routed.
func TestSpecMatchesRouter(t *testing.T) {
	spec, routed := specOperations(t), routedOperations(t)
	if len(routed) == 0 {
		t.Fatal("the router has no routes")
	}
	for _, op := range routed {
		if !slices.Contains(spec, op) {
			t.Errorf("route %s is not in openapi.yaml", op)
		}
	}
	for _, op := range spec {
		if !slices.Contains(routed, op) {
			t.Errorf("operation %s of openapi.yaml is not routed", op)
		}
	}
}

// TestSpecEveryOperationValidated calls every operation of the spec once,
// successfully, and checks that the harness validated a response of each
// against openapi.yaml.
func TestSpecEveryOperationValidated(t *testing.T) {
	p := newPeople(t)
	owner, agent, admin := p.token(asOwner), p.token(asAgent), p.token(asAdmin)
	id := p.fileTicket(t, "coverage", "every operation once")["id"].(string)
	tk := "/api/v1/tickets/" + id
	other := p.fileTicket(t, "to delete", "x")["id"].(string)
	u, _ := stack.NewUser(t, models.RoleAgent)
	setPassword(t, u.ID, "coverage password")
	reply := mustDo(t, http.StatusCreated, "POST", tk+"/replies", agent, map[string]any{"body": "covered"}).Map(t)["id"].(string)
	cat := mustDo(t, http.StatusCreated, "POST", "/api/v1/categories", admin, map[string]any{"name": "coverage " + uuid.NewString()}).Map(t)["id"].(string)
	for _, path := range []string{tk + "/stream", "/api/v1/stream"} {
		if es, r := stack.Stream(t, path, agent); es == nil {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
	}
	uTok := mustDo(t, http.StatusOK, "POST", "/api/v1/auth/login", "", map[string]any{"email": u.Email, "password": "coverage password"}).Map(t)["token"].(string)

	calls := []struct {
		want         int
		method, path string
		tok          string
		body         any
	}{
		{201, "POST", "/api/v1/tickets", owner, map[string]any{"subject": "cover", "description": "x"}},
		{200, "GET", "/api/v1/tickets", agent, nil},
		{200, "GET", "/api/v1/tickets/my-tickets", owner, nil},
		{200, "GET", tk, owner, nil},
		{200, "PATCH", tk, owner, map[string]any{"subject": "covered"}},
		{200, "PUT", tk, agent, map[string]any{"priority": "high"}},
		{200, "POST", tk + "/assign", agent, map[string]any{"assignee_id": p.id(asAgent)}},
		{201, "POST", tk + "/replies", agent, map[string]any{"body": "hello"}},
		{200, "GET", tk + "/replies", owner, nil},
		{200, "GET", tk + "/replies/" + reply, owner, nil},
		{200, "GET", "/api/v1/categories/" + cat, owner, nil},
		{200, "GET", "/api/v1/users/" + u.ID, agent, nil},
		{204, "PUT", "/api/v1/users/me/password", uTok, map[string]any{"current_password": "coverage password", "new_password": "covered password"}},
		{200, "GET", tk + "/events", owner, nil},
		{201, "POST", tk + "/time-entries", agent, map[string]any{"minutes": 3}},
		{200, "GET", tk + "/time-entries", agent, nil},
		{200, "GET", tk + "/sla", owner, nil},
		{200, "POST", tk + "/status", agent, map[string]any{"status": "closed"}},
		{201, "POST", tk + "/follow-up", owner, map[string]any{"description": "again"}},
		{200, "GET", "/api/v1/sla-policies", agent, nil},
		{200, "PUT", "/api/v1/sla-policies/low", admin, currentPolicy(t, p, asAdmin)},
		{200, "GET", "/api/v1/settings/lifecycle", admin, nil},
		{200, "PUT", "/api/v1/settings/lifecycle", admin, currentLifecycle(t, p, asAdmin)},
		{204, "DELETE", "/api/v1/tickets/" + other, admin, nil},
		{200, "GET", "/api/v1/categories", owner, nil},
		{201, "POST", "/api/v1/categories", admin, map[string]any{"name": "coverage " + uuid.NewString()}},
		{200, "GET", "/api/v1/users/me", owner, nil},
		{200, "GET", "/api/v1/users", agent, nil},
		{201, "POST", "/api/v1/users", admin, map[string]any{"email": uuid.NewString() + "@example.com", "name": "C", "role": "agent"}},
		{200, "PATCH", "/api/v1/users/" + u.ID, admin, map[string]any{"name": "Covered"}},
		{200, "GET", "/healthz", "", nil},
		{200, "GET", "/readyz", "", nil},
		{200, "GET", "/metrics", "", nil},
		{200, "GET", "/openapi.yaml", "", nil},
	}
	for _, c := range calls {
		mustDo(t, c.want, c.method, c.path, c.tok, c.body)
	}
	seen := stack.Seen()
	for _, op := range specOperations(t) {
		if !seen[op] {
			t.Errorf("no response of %s was validated against openapi.yaml", op)
		}
	}
}

// TestSpecOps covers the routes outside /api/v1 and the router's own
// answers.
func TestSpecOps(t *testing.T) {
	t.Run("GET /openapi.yaml serves the spec", func(t *testing.T) {
		r := mustDo(t, http.StatusOK, "GET", "/openapi.yaml", "", nil)
		if !bytes.Equal(r.Body, api.OpenAPISpec()) {
			t.Error("GET /openapi.yaml is not api/openapi.yaml")
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/yaml" {
			t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
		}
		if _, err := openapi3.NewLoader().LoadFromData(r.Body); err != nil {
			t.Errorf("served document does not load: %v", err)
		}
	})
	t.Run("GET /healthz", func(t *testing.T) {
		r := mustDo(t, http.StatusOK, "GET", "/healthz", "", nil)
		if r.Map(t)["status"] != "ok" {
			t.Errorf("body %s", r.Body)
		}
	})
	t.Run("GET /readyz", func(t *testing.T) {
		r := mustDo(t, http.StatusOK, "GET", "/readyz", "", nil)
		var body struct {
			Status string            `json:"status"`
			Checks map[string]string `json:"checks"`
		}
		r.Decode(t, &body)
		if body.Status != "ok" || body.Checks["database"] != "ok" || body.Checks["temporal"] != "ok" {
			t.Errorf("readiness %s", r.Body)
		}
	})
	t.Run("GET /metrics uses route templates", func(t *testing.T) {
		p := newPeople(t)
		id := p.fileTicket(t, "metrics", "x")["id"].(string)
		mustDo(t, http.StatusOK, "GET", "/api/v1/tickets/"+id, p.token(asOwner), nil)
		mustDo(t, http.StatusOK, "GET", "/api/v1/tickets/"+id+"/events", p.token(asOwner), nil)
		stack.Do(t, "GET", "/api/v1/tickets/"+uuid.NewString(), p.token(asOwner), nil)
		stack.Do(t, "GET", "/no/such/"+id, "", nil)

		r := mustDo(t, http.StatusOK, "GET", "/metrics", "", nil)
		var found, foundEvents bool
		uuidRe := regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
		sc := bufio.NewScanner(bytes.NewReader(r.Body))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "ticketd_http_request_duration_seconds") {
				continue
			}
			if uuidRe.MatchString(line) {
				t.Errorf("metric carries a raw id: %s", line)
			}
			if strings.HasPrefix(line, "ticketd_http_request_duration_seconds_count{") && strings.Contains(line, `method="GET"`) {
				found = found || (strings.Contains(line, `route="/api/v1/tickets/:id"`) && strings.Contains(line, `status="200"`))
				foundEvents = foundEvents || strings.Contains(line, `route="/api/v1/tickets/:id/events"`)
			}
		}
		if !found || !foundEvents {
			t.Errorf("no ticketd_http_request_duration_seconds series with route=\"/api/v1/tickets/:id\" (and .../events):\n%s", grepLines(r.Body, "ticketd_http_request_duration_seconds_count"))
		}
	})
	t.Run("unknown route is a 404 problem", func(t *testing.T) {
		for _, path := range []string{"/nope", "/api/v1/nope", "/api/v2/tickets", "/api/v1/tickets/" + uuid.NewString() + "/nope"} {
			r := stack.Do(t, "GET", path, "", nil)
			assertProblem(t, r, http.StatusNotFound)
		}
	})
	t.Run("a trailing slash is an unknown route", func(t *testing.T) {
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/tickets/"}, {"POST", "/api/v1/tickets/"}, {"GET", "/healthz/"}, {"GET", "/api/v1/users/me/"},
		} {
			req, err := http.NewRequest(c.method, stack.API.URL+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: %d (Location %q), want 404", c.method, c.path, resp.StatusCode, resp.Header.Get("Location"))
				continue
			}
			assertProblem(t, &testenv.Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, http.StatusNotFound)
		}
	})
	t.Run("wrong method is a 405 problem with Allow", func(t *testing.T) {
		_, tok := stack.NewUser(t, models.RoleAdmin)
		for _, c := range []struct{ method, path, allow string }{
			{"DELETE", "/api/v1/categories", "GET, POST"},
			{"PATCH", "/api/v1/tickets", "POST, GET"},
			{"POST", "/api/v1/tickets/" + uuid.NewString() + "/events", "GET"},
			{"DELETE", "/api/v1/users", "GET, POST"},
			{"POST", "/healthz", "GET"},
			{"DELETE", "/openapi.yaml", "GET"},
		} {
			r := stack.Do(t, c.method, c.path, tok, nil)
			assertProblem(t, r, http.StatusMethodNotAllowed)
			if got := splitAllow(r.Header.Get("Allow")); !slices.Equal(got, splitAllow(c.allow)) {
				t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, r.Header.Get("Allow"), c.allow)
			}
			if r.Header.Get("X-Request-ID") == "" {
				t.Errorf("%s %s: no X-Request-ID", c.method, c.path)
			}
		}
	})
	t.Run("X-Request-ID is echoed or generated", func(t *testing.T) {
		_, tok := stack.NewUser(t, models.RoleCustomer)
		for _, path := range []string{"/healthz", "/api/v1/users/me", "/nope"} {
			for _, tk := range []string{"", tok} {
				r := stack.Do(t, "GET", path, tk, nil, "X-Request-ID", "req-123/abc")
				if got := r.Header.Get("X-Request-ID"); got != "req-123/abc" {
					t.Errorf("GET %s: X-Request-ID %q, want the one sent", path, got)
				}
				r = stack.Do(t, "GET", path, tk, nil)
				gen := r.Header.Get("X-Request-ID")
				if gen == "" {
					t.Errorf("GET %s: no X-Request-ID generated", path)
				}
				if again := stack.Do(t, "GET", path, tk, nil).Header.Get("X-Request-ID"); again == gen {
					t.Errorf("GET %s: generated X-Request-ID %q repeats", path, gen)
				}
			}
		}
		// Invalid ones are replaced, not echoed.
		for _, bad := range []string{strings.Repeat("x", 129), "has space", "naïve"} {
			r := stack.Do(t, "GET", "/healthz", "", nil, "X-Request-ID", bad)
			if got := r.Header.Get("X-Request-ID"); got == bad || got == "" {
				t.Errorf("invalid X-Request-ID %q answered with %q", bad, got)
			}
		}
	})
}

func splitAllow(h string) []string {
	var out []string
	for _, m := range strings.Split(h, ",") {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return out
}

func grepLines(b []byte, prefix string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
