package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"
	"gorm.io/gorm"

	"github.com/ticketd/ticketd/activities"
	"github.com/ticketd/ticketd/api"
	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/monitoring"
	"github.com/ticketd/ticketd/workflows"
)

// Secret signs the test tokens.
var Secret = []byte("test-secret-test-secret-test-secret!")

// Stack is the whole service on real parts: the worker and the API of one
// process, on a PostgreSQL database and an in-process Temporal server.
type Stack struct {
	DB       *gorm.DB
	Store    *models.Store
	Temporal client.Client
	API      *httptest.Server
	Handler  http.Handler
	Server   *api.Server
	Registry *prometheus.Registry
	worker   worker.Worker
	router   routers.Router
	mu       sync.Mutex
	seen     map[string]bool // "METHOD /spec/path" of responses validated
}

// StackOptions tune NewStack.
type StackOptions struct {
	UpdateTimeout time.Duration
	RatePerSecond float64
	RateBurst     int
	// Temporal overrides the client the API sends updates with (e.g. one
	// through a fault-injecting proxy); the worker keeps the direct one.
	Temporal client.Client
	// DB overrides the database the API reads from.
	DB *gorm.DB
	// Interceptors wrap the worker's workflows (e.g. to make a workflow
	// task fail at a chosen point).
	Interceptors []interceptor.WorkerInterceptor
	// StreamHeartbeat and StreamPoll tune the API's Server-Sent Events.
	StreamHeartbeat time.Duration
	StreamPoll      time.Duration
	// TrustedProxies lets tests name their client address in
	// X-Forwarded-For (sign-in throttling counts per address).
	TrustedProxies []string
}

// NewStack starts a worker on ts and serves the API on db.
func NewStack(db *gorm.DB, ts *temporaltest.TestServer, opts StackOptions) (*Stack, error) {
	tc := ts.GetDefaultClient()
	reg := prometheus.NewRegistry()
	metrics := monitoring.NewMetrics(reg)
	wopts := workflows.WorkerOptions(0)
	wopts.Interceptors = opts.Interceptors
	w := worker.New(tc, workflows.TaskQueue, wopts)
	workflows.Register(w, activities.New(models.NewStore(db), metrics))
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	apiTemporal, apiDB := tc, db
	if opts.Temporal != nil {
		apiTemporal = opts.Temporal
	}
	if opts.DB != nil {
		apiDB = opts.DB
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := api.New(api.Config{
		JWTSecret: Secret, UpdateTimeout: opts.UpdateTimeout,
		RatePerSecond: opts.RatePerSecond, RateBurst: opts.RateBurst,
		StreamHeartbeat: opts.StreamHeartbeat, StreamPoll: opts.StreamPoll, TrustedProxies: opts.TrustedProxies,
	}, models.NewStore(apiDB), workflows.NewClient(apiTemporal, models.NewStore(apiDB)), log, metrics, reg)
	h := srv.Handler()
	router, err := SpecRouter()
	if err != nil {
		w.Stop()
		return nil, err
	}
	return &Stack{
		DB: db, Store: models.NewStore(db), Temporal: tc, Handler: h, Server: srv, API: httptest.NewServer(h),
		Registry: reg, worker: w, router: router, seen: map[string]bool{},
	}, nil
}

// Close stops the API and the worker.
func (s *Stack) Close() {
	s.API.Close()
	s.worker.Stop()
}

// SpecRouter routes requests to the operations of api/openapi.yaml.
func SpecRouter() (routers.Router, error) {
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPISpec())
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi.yaml is invalid: %w", err)
	}
	doc.Servers = nil // match paths whatever the test server's address
	return gorillamux.NewRouter(doc)
}

// Seen lists the operations whose responses were validated.
func (s *Stack) Seen() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]bool, len(s.seen))
	for k, v := range s.seen {
		out[k] = v
	}
	return out
}

// NewUser inserts an active user with role and returns it with a token.
func (s *Stack) NewUser(t testing.TB, role models.Role) (models.User, string) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	id := uuid.Must(uuid.NewV7()).String()
	u := models.User{ID: id, Email: string(role) + "-" + id + "@example.com", Name: "Test " + string(role),
		Role: role, Active: true, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateUser(context.Background(), &u); err != nil {
		t.Fatalf("create %s: %v", role, err)
	}
	return u, Token(t, u.ID)
}

// Token signs a one-hour token for userID.
func Token(t testing.TB, userID string) string {
	t.Helper()
	tok, err := api.IssueToken(Secret, userID, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Response is a finished HTTP exchange.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map is the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	m := map[string]any{}
	r.Decode(t, &m)
	return m
}

// Do sends a request (body: nil, a string sent as is, or a value sent as
// JSON) with the token, and validates the response against the spec.
// headers are name, value pairs.
func (s *Stack) Do(t testing.TB, method, path, token string, body any, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.API.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.API.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if err := s.validate(req, out); err != nil {
		t.Errorf("%s %s → %d does not match openapi.yaml: %v\nbody: %s", method, path, out.Status, err, raw)
	}
	return out
}

func (s *Stack) validate(req *http.Request, r *Response) error {
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		if r.Status == http.StatusNotFound || r.Status == http.StatusMethodNotAllowed {
			return nil // no such operation in the spec, and the API agrees
		}
		return fmt.Errorf("no operation for the request: %w", err)
	}
	s.mu.Lock()
	s.seen[req.Method+" "+route.Path] = true
	s.mu.Unlock()
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true},
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: r.Status, Header: r.Header,
		Body: io.NopCloser(bytes.NewReader(r.Body)), Options: in.Options,
	})
}
