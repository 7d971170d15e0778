package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func testApp(t *testing.T) *Handler {
	t.Helper()
	h, err := NewFS(fstest.MapFS{
		"index.html":              {Data: []byte(`<!doctype html><script type="module" src="/assets/index-abc123.js"></script>`)},
		"assets/index-abc123.js":  {Data: []byte(`console.log(1)`)},
		"assets/index-abc123.css": {Data: []byte(`body{}`)},
		"favicon.svg":             {Data: []byte(`<svg/>`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHandler(t *testing.T) {
	h := testApp(t)
	tests := []struct {
		name, method, path string
		status             int
		cache, typ, body   string
	}{
		{"root is the app", "GET", "/", 200, "no-cache", "text/html", "index-abc123.js"},
		{"index.html is not cached", "GET", "/index.html", 200, "no-cache", "text/html", "index-abc123.js"},
		{"app route gets the app", "GET", "/tickets/0190a0b2-0000-7000-8000-000000000000", 200, "no-cache", "text/html", "<!doctype html>"},
		{"query string kept out", "GET", "/inbox?view=at-risk&q=x", 200, "no-cache", "text/html", "<!doctype html>"},
		{"hashed asset is immutable", "GET", "/assets/index-abc123.js", 200, "public, max-age=31536000, immutable", "javascript", "console.log"},
		{"stylesheet", "GET", "/assets/index-abc123.css", 200, "immutable", "text/css", "body{}"},
		{"unhashed file revalidates", "GET", "/favicon.svg", 200, "no-cache", "image/svg+xml", "<svg/>"},
		{"unknown asset is 404", "GET", "/assets/index-old999.js", 404, "no-store", "text/plain", "not found"},
		{"unknown file with an extension is 404", "GET", "/robots.txt", 404, "no-store", "text/plain", "not found"},
		{"directory traversal stays inside", "GET", "/assets/../../web.go", 404, "no-store", "text/plain", "not found"},
		{"HEAD works", "HEAD", "/", 200, "no-cache", "text/html", ""},
		{"POST is refused", "POST", "/", 405, "", "text/plain", "method not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, tt.status, rec.Body.String())
			}
			if got := rec.Header().Get("Cache-Control"); !strings.Contains(got, tt.cache) {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			if got := rec.Header().Get("Content-Type"); !strings.Contains(got, tt.typ) {
				t.Errorf("Content-Type %q, want %q", got, tt.typ)
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body %q does not contain %q", rec.Body.String(), tt.body)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			for _, want := range []string{"script-src 'self'", "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP allows inline code: %q", csp)
			}
		})
	}
}

func TestMount(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("api")) })
	h := Mount(api, testApp(t))
	tests := []struct{ path, want string }{
		{"/api/v1/tickets", "api"},
		{"/api/v1/unknown", "api"},
		{"/api", "api"},
		{"/healthz", "api"},
		{"/readyz", "api"},
		{"/metrics", "api"},
		{"/openapi.yaml", "api"},
		{"/", "<!doctype html>"},
		{"/apiary", "<!doctype html>"},
		{"/tickets/42", "<!doctype html>"},
		{"/admin/sla", "<!doctype html>"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			if !strings.HasPrefix(rec.Body.String(), tt.want) {
				t.Errorf("GET %s → %q, want %q", tt.path, rec.Body.String(), tt.want)
			}
		})
	}
}

func TestEmbedded(t *testing.T) {
	h := New()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/some/page", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	if h.Built() {
		if !strings.Contains(body, `type="module"`) || strings.Contains(body, "<script>") {
			t.Errorf("built index.html should load only module scripts from files: %s", body)
		}
	} else if !strings.Contains(body, "make build") {
		t.Errorf("placeholder should say how to build the UI: %s", body)
	}
}
