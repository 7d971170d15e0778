package web

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// dist holds the committed placeholder and, once `make build` ran, the
// built app in dist/app. The all: prefix keeps the pattern valid on a
// clean checkout, where dist holds only the placeholder.
//
//go:embed all:dist
var dist embed.FS

// ContentSecurityPolicy is sent with every UI response: no inline scripts
// or styles from markup, no third-party origins, API calls to this origin only.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the UI: hashed assets cached forever, index.html never
// cached, and index.html for every other path so that the app's own
// routes (/tickets/…, /inbox?view=…) survive a reload or a shared link.
type Handler struct {
	files fs.FS // the app's root (dist/app), nil when only the placeholder exists
	index []byte
	built bool
}

// New serves the embedded build, or the placeholder page when the binary
// was built without the UI.
func New() *Handler {
	app, err := fs.Sub(dist, "dist/app")
	if err == nil {
		if h, err := NewFS(app); err == nil {
			return h
		}
	}
	page, _ := dist.ReadFile("dist/placeholder.html") // committed: always there
	return &Handler{index: page}
}

// NewFS serves a built app from files (index.html at its root, hashed
// files under assets/).
func NewFS(files fs.FS) (*Handler, error) {
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		return nil, err
	}
	return &Handler{files: files, index: index, built: true}, nil
}

// Built reports whether the handler serves the real app rather than the
// placeholder.
func (h *Handler) Built() bool { return h.built }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if h.files != nil && p != "/" && p != "/index.html" {
		name := strings.TrimPrefix(p, "/")
		if f, err := fs.Stat(h.files, name); err == nil && !f.IsDir() {
			h.serveFile(w, r, name)
			return
		}
	}
	// A missing asset is a 404: answering index.html would hand the
	// browser HTML where it expects a script or a stylesheet.
	if strings.HasPrefix(p, "/assets/") || path.Ext(p) != "" && p != "/index.html" {
		hdr.Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(h.index))
}

func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	if strings.HasPrefix(name, "assets/") {
		// Vite puts a content hash in every file name under assets/.
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeFileFS(w, r, h.files, name)
}

// Mount sends the API's paths (/api/…, /healthz, /readyz, /metrics,
// /openapi.yaml) to api and every other path to ui.
func Mount(api, ui http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if IsAPIPath(r.URL.Path) {
			api.ServeHTTP(w, r)
			return
		}
		ui.ServeHTTP(w, r)
	})
}

// IsAPIPath reports whether p belongs to the API rather than the UI.
func IsAPIPath(p string) bool {
	switch p {
	case "/api", "/healthz", "/readyz", "/metrics", "/openapi.yaml":
		return true
	}
	return strings.HasPrefix(p, "/api/")
}
