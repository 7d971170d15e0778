package api

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/monitoring"
	"github.com/ticketd/ticketd/workflows"
)

//go:embed openapi.yaml
var openAPISpec []byte

// OpenAPISpec is the hand-written contract this API serves.
func OpenAPISpec() []byte { return openAPISpec }

// Store is what the API reads, and the users and categories it writes.
type Store interface {
	Ping(ctx context.Context) error
	GetUser(ctx context.Context, id string) (models.User, error)
	CreateUser(ctx context.Context, u *models.User) error
	UpdateUser(ctx context.Context, u *models.User) error
	ListUsers(ctx context.Context, f models.UserFilter) ([]models.User, *models.Cursor, error)
	ListCategories(ctx context.Context) ([]models.Category, error)
	GetCategory(ctx context.Context, id string) (models.Category, error)
	CreateCategory(ctx context.Context, c *models.Category) error
	GetTicket(ctx context.Context, id string) (models.Ticket, error)
	ListTickets(ctx context.Context, f models.TicketFilter) ([]models.Ticket, *models.Cursor, error)
	CountTickets(ctx context.Context, f models.TicketFilter) (int64, error)
	ListReplies(ctx context.Context, ticketID string, withInternal bool) ([]models.Reply, error)
	ListEvents(ctx context.Context, ticketID string, withInternal bool) ([]models.Event, error)
	ListTimeEntries(ctx context.Context, ticketID string) ([]models.TimeEntry, error)
	GetIdempotencyKey(ctx context.Context, userID, key string) (models.IdempotencyKey, error)
	NextTicketNumber(ctx context.Context) (int64, error)
	ListPolicies(ctx context.Context) ([]models.Policy, error)
	GetPolicy(ctx context.Context, p models.Priority) (models.Policy, error)
	PutPolicy(ctx context.Context, p *models.Policy) error
	GetLifecycle(ctx context.Context) (models.Lifecycle, error)
	PutLifecycle(ctx context.Context, l models.Lifecycle) error

	UserForLogin(ctx context.Context, email string) (models.User, string, error)
	PasswordHash(ctx context.Context, userID string) (string, error)
	SetPasswordHash(ctx context.Context, userID, hash string) error
	UsersByID(ctx context.Context, ids []string) (map[string]models.User, error)
	GetReply(ctx context.Context, ticketID, replyID string, withInternal bool) (models.Reply, error)
	PageReplies(ctx context.Context, ticketID string, withInternal bool, after *models.Cursor, limit int) ([]models.Reply, *models.Cursor, error)
	PageEvents(ctx context.Context, ticketID string, withInternal bool, afterSeq int64, limit int) ([]models.Event, *models.Cursor, error)
	PageTimeEntries(ctx context.Context, ticketID string, after *models.Cursor, limit int) ([]models.TimeEntry, *models.Cursor, error)
	LastEventSeq(ctx context.Context, ticketID string) (int64, error)
	TicketChangesSince(ctx context.Context, since time.Time, afterID, customerID string, limit int) ([]models.TicketChange, error)
}

// Tickets sends changes to ticket workflows.
type Tickets interface {
	Create(ctx context.Context, in workflows.CreateInput) (workflows.UpdateResult, error)
	Update(ctx context.Context, ticketID, update string, arg any) (workflows.UpdateResult, error)
	Ping(ctx context.Context) error
}

// Config tunes the API.
type Config struct {
	JWTSecret []byte
	// UpdateTimeout bounds the wait for a workflow update; past it the
	// request answers 503. Updates carry the deadline, and the workflow
	// starts no write it could finish after it, so a 503 is never followed
	// by a late write. Keep it above the workflow's persistence budget (8s).
	UpdateTimeout time.Duration
	// RatePerSecond and RateBurst shape each user's token bucket; a zero
	// rate disables rate limiting.
	RatePerSecond float64
	RateBurst     int
	// StreamHeartbeat is how often a Server-Sent Events stream sends a
	// comment line (default 15s); StreamPoll how often it looks for news
	// in the database (default 500ms). MaxStreamsPerUser caps one user's
	// open streams on this process (default 5).
	StreamHeartbeat   time.Duration
	StreamPoll        time.Duration
	MaxStreamsPerUser int
	// PasswordParams is the argon2id cost of new password hashes (default
	// models.DefaultPasswordParams).
	PasswordParams models.PasswordParams
	// TrustedProxies are the addresses (or CIDRs) of reverse proxies whose
	// X-Forwarded-For names the client, for sign-in throttling per client
	// address; none by default, so the peer address counts.
	TrustedProxies []string
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	store   Store
	tickets Tickets
	auth    *authenticator
	log     *slog.Logger
	metrics *monitoring.Metrics
	gather  prometheus.Gatherer
	limiter *limiter
	gate    *gate

	passwords  *passwords
	loginFails *failures // per email, and per user for password changes
	addrFails  *failures // per client address
	streams    *streamSlots
	drained    chan struct{}
	drainOnce  sync.Once
}

// maxInFlightPerTicket is below the engine's own per-workflow limit (10).
const maxInFlightPerTicket = 8

// New builds the API on its dependencies.
func New(cfg Config, store Store, tickets Tickets, log *slog.Logger, metrics *monitoring.Metrics, gather prometheus.Gatherer) *Server {
	if cfg.UpdateTimeout == 0 {
		cfg.UpdateTimeout = 15 * time.Second
	}
	if cfg.StreamHeartbeat <= 0 {
		cfg.StreamHeartbeat = 15 * time.Second
	}
	if cfg.StreamPoll <= 0 {
		cfg.StreamPoll = 500 * time.Millisecond
	}
	if cfg.MaxStreamsPerUser <= 0 {
		cfg.MaxStreamsPerUser = 5
	}
	if cfg.PasswordParams == (models.PasswordParams{}) {
		cfg.PasswordParams = models.DefaultPasswordParams
	}
	return &Server{
		cfg: cfg, store: store, tickets: tickets, log: log, metrics: metrics, gather: gather,
		auth:    newAuthenticator(cfg.JWTSecret, store),
		limiter: newLimiter(cfg.RatePerSecond, cfg.RateBurst),
		gate:    newGate(maxInFlightPerTicket),
		// Two argon2id computations at once keep sign-in memory at about
		// 40 MiB however many arrive.
		passwords:  newPasswords(cfg.PasswordParams, 2),
		loginFails: newFailures(loginFailsPerEmail, loginWindow, maxThrottleKeys),
		addrFails:  newFailures(loginFailsPerAddr, loginWindow, maxThrottleKeys),
		streams:    newStreamSlots(cfg.MaxStreamsPerUser),
		drained:    make(chan struct{}),
	}
}

// Handler returns the router with every route.
func (s *Server) Handler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false // an unknown path is a 404, not a redirect
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		s.log.Error("bad trusted proxies; trusting none", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(requestID, s.recover, s.metrics.Middleware(), s.accessLog)
	s.routes(r)
	r.NoRoute(func(c *gin.Context) {
		s.fail(c, models.ErrNotFound)
	})
	r.NoMethod(func(c *gin.Context) {
		writeProblem(c, problem{Type: problemType + "method-not-allowed", Title: "Method not allowed",
			Status: http.StatusMethodNotAllowed, Detail: "this resource does not support " + c.Request.Method})
	})
	return r
}

// routes declares every route: this function is the API's table of contents.
func (s *Server) routes(r *gin.Engine) {
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.gather, promhttp.HandlerOpts{})))
	r.GET("/openapi.yaml", s.openapi)
	r.POST("/api/v1/auth/login", s.login) // throttled by its own failure counts

	v1 := r.Group("/api/v1", s.requireAuth, s.rateLimit)
	v1.POST("/tickets", s.createTicket)
	v1.GET("/tickets", s.listTickets)
	v1.GET("/tickets/my-tickets", s.myTickets)
	v1.GET("/tickets/:id", s.getTicket)
	v1.PATCH("/tickets/:id", s.editTicket)
	v1.PUT("/tickets/:id", s.editTicket)
	v1.DELETE("/tickets/:id", s.deleteTicket)
	v1.POST("/tickets/:id/status", s.changeStatus)
	v1.POST("/tickets/:id/assign", s.assign)
	v1.POST("/tickets/:id/replies", s.addReply)
	v1.GET("/tickets/:id/replies", s.listReplies)
	v1.GET("/tickets/:id/replies/:reply_id", s.getReply)
	v1.GET("/tickets/:id/events", s.listEvents)
	v1.POST("/tickets/:id/time-entries", s.logTime)
	v1.GET("/tickets/:id/time-entries", s.listTimeEntries)
	v1.GET("/tickets/:id/sla", s.getTicketSLA)
	v1.POST("/tickets/:id/follow-up", s.followUp)
	v1.GET("/tickets/:id/stream", s.streamTicket)
	v1.GET("/stream", s.streamChanges)

	v1.GET("/sla-policies", s.listPolicies)
	v1.PUT("/sla-policies/:priority", s.putPolicy)
	v1.GET("/settings/lifecycle", s.getLifecycle)
	v1.PUT("/settings/lifecycle", s.putLifecycle)

	v1.GET("/categories", s.listCategories)
	v1.POST("/categories", s.createCategory)
	v1.GET("/categories/:id", s.getCategory)

	v1.GET("/users/me", s.me)
	v1.PUT("/users/me/password", s.changePassword)
	v1.GET("/users", s.listUsers)
	v1.POST("/users", s.createUser)
	v1.GET("/users/:id", s.getUser)
	v1.PATCH("/users/:id", s.updateUser)
}

// requestID echoes a sane X-Request-ID or makes one.
func requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !validRequestID(id) {
		id = uuid.NewString()
	}
	c.Header("X-Request-ID", id)
	c.Set("request_id", id)
	c.Next()
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return true
}

func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(c.Request.Context(), "handler panicked", "path", c.FullPath(), "panic", v)
			if !c.Writer.Written() {
				writeProblem(c, problem{Type: problemType + "internal", Title: "Internal server error",
					Status: http.StatusInternalServerError, Detail: "an unexpected error occurred"})
			}
			c.Abort()
		}
	}()
	c.Next()
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.log.DebugContext(c.Request.Context(), "request",
		"method", c.Request.Method, "route", c.FullPath(), "status", c.Writer.Status(),
		"duration", time.Since(start), "request_id", c.GetString("request_id"))
}

// deadline is when a workflow update's caller will have stopped waiting,
// with a second of margin for clocks.
func (s *Server) deadline() time.Time {
	return time.Now().Add(s.cfg.UpdateTimeout - time.Second)
}

// updateContext bounds a call to a workflow.
func (s *Server) updateContext(c *gin.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request.Context(), s.cfg.UpdateTimeout)
}

func (s *Server) healthz(c *gin.Context) {
	writeJSON(c, http.StatusOK, gin.H{"status": "ok"})
}

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{"database": "ok", "temporal": "ok"}
	status, code := "ok", http.StatusOK
	if err := s.store.Ping(ctx); err != nil {
		checks["database"], status, code = "unreachable", "unavailable", http.StatusServiceUnavailable
	}
	if err := s.tickets.Ping(ctx); err != nil {
		checks["temporal"], status, code = "unreachable", "unavailable", http.StatusServiceUnavailable
	}
	writeJSON(c, code, gin.H{"status": status, "checks": checks})
}

func (s *Server) openapi(c *gin.Context) {
	c.Data(http.StatusOK, "application/yaml", openAPISpec)
}
