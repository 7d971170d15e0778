package devserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/temporal"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

const (
	// DefaultFrontendAddr is where the gRPC frontend listens when
	// Config.FrontendAddr is empty: Temporal's usual port, loopback only.
	DefaultFrontendAddr = "127.0.0.1:7233"
	// DefaultUIAddr is the Web UI address `ticketd dev` uses unless told
	// otherwise. Config.UIAddr has no default: empty disables the UI.
	DefaultUIAddr = "127.0.0.1:8233"
	// DefaultNamespace is used when Config.Namespace is empty.
	DefaultNamespace = "default"
	// DBFile is the name of the SQLite file inside Config.DataDir that holds
	// Temporal's state.
	DBFile = "temporal.db"
	// VisibilityDBFile holds the visibility records (what Temporal UI lists
	// and searches) next to DBFile; see visibilityPath.
	VisibilityDBFile = "temporal-visibility.db"

	// retention is how long closed workflow executions are kept in a
	// namespace this package creates.
	retention = 7 * 24 * time.Hour
	// startTimeout bounds the wait for a ready server when ctx has no deadline.
	startTimeout = 2 * time.Minute
	// silent is a log level above every level Temporal uses.
	silent = slog.LevelError + 1
)

// Config for Start.
type Config struct {
	// DataDir holds the SQLite databases (DataDir/temporal.db with Temporal's
	// state, DataDir/temporal-visibility.db with its visibility records), so
	// namespaces, workflows and their histories survive a restart. It is
	// created if missing. Required.
	DataDir string
	// FrontendAddr is the host:port of the gRPC frontend; DefaultFrontendAddr
	// if empty. The host must be a loopback IP (or "localhost"); port 0 picks
	// a free port, see Server.FrontendHostPort.
	FrontendAddr string
	// UIAddr is the host:port of the Temporal Web UI, for example
	// DefaultUIAddr; empty disables the UI. Loopback only; port 0 picks a
	// free port, see Server.UIURL.
	UIAddr string
	// Namespace is registered if missing (retention 7 days); DefaultNamespace
	// if empty.
	Namespace string
	// SearchAttributes are custom search attributes to register in Namespace.
	// Registering one that already exists with the same type is fine; with
	// another type Start fails. SQLite visibility has a fixed number of slots
	// per type and namespace: 10 Keyword, 3 each of Int, Double, Bool,
	// Datetime, Text and KeywordList.
	SearchAttributes map[string]enums.IndexedValueType
	// Logger receives the server's logs at warn level and above; Temporal is
	// far too chatty below that. Nil discards them.
	Logger *slog.Logger
}

// Server is a running Temporal server and Web UI. Stop it with Stop.
type Server struct {
	frontendHostPort string
	logger           *slog.Logger
	logLevel         *slog.LevelVar // threshold for Temporal's own logs

	temporal temporal.Server
	dc       *serverDynamicConfig
	cached   *time.Timer // switches dc's search-attribute read-through off
	ui       *webUI      // nil if disabled

	stopOnce sync.Once
	stopErr  error
}

// Start starts the Temporal services and the Web UI and returns once the
// frontend answers health checks, history answers for the namespace, and the
// namespace and its search attributes are registered. ctx bounds that wait
// (two minutes if it has no deadline). On error everything started is stopped.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("devserver: DataDir is required")
	}
	if cfg.FrontendAddr == "" {
		cfg.FrontendAddr = DefaultFrontendAddr
	}
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}

	// Ports first: a second `ticketd dev` fails here, before touching the database.
	ports, uiIP, uiPort, err := pickPorts(cfg.FrontendAddr, cfg.UIAddr)
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("devserver: data dir: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("devserver: create data dir: %w", err)
	}
	dbPath := filepath.Join(dataDir, DBFile)
	if strings.ContainsAny(dbPath, "?#") {
		// The SQLite plugin puts the path into a file: URI unescaped.
		return nil, fmt.Errorf("devserver: data dir %q must not contain '?' or '#'", dataDir)
	}
	visPath, err := visibilityPath(dbPath, filepath.Join(dataDir, VisibilityDBFile))
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	// The visibility file first: see visibilityPath.
	visCfg := sqliteConfig(visPath)
	if err := ensureSchema(visCfg, visPath); err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	sqlCfg := sqliteConfig(dbPath)
	if err := ensureSchema(sqlCfg, dbPath); err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}

	s := &Server{
		frontendHostPort: ports.addr(ports.frontend),
		logger:           cfg.Logger,
		logLevel:         new(slog.LevelVar),
	}
	s.logLevel.Set(slog.LevelWarn)
	s.dc = newServerDynamicConfig()
	srv, err := newTemporal(ports, sqlCfg, visCfg, s.dc, newServerLogger(cfg.Logger, s.logLevel))
	if err != nil {
		return nil, fmt.Errorf("devserver: %w", err)
	}
	// Start returns once every service has started; a failed start stops
	// what it had started itself.
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("devserver: start temporal server: %w", err)
	}
	s.temporal = srv

	if err := s.waitReady(ctx, cfg, visPath); err != nil {
		return nil, errors.Join(fmt.Errorf("devserver: %w", err), s.Stop())
	}
	if uiPort != 0 {
		s.ui, err = startUI(ctx, uiIP, uiPort, s.frontendHostPort, cfg.Namespace)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("devserver: %w", err), s.Stop())
		}
	}
	s.logger.Debug("temporal dev server started", "frontend", s.frontendHostPort, "ui", s.UIURL(), "db", dbPath)
	return s, nil
}

// pickPorts resolves the frontend and UI addresses and picks free loopback
// ports for the internal services. uiPort is 0 when the UI is disabled.
func pickPorts(frontendAddr, uiAddr string) (ports servicePorts, uiIP string, uiPort int, err error) {
	picker := newPortPicker()
	ip, port, err := loopbackAddr(frontendAddr)
	if err != nil {
		return ports, "", 0, fmt.Errorf("frontend: %w", err)
	}
	ports.ip = ip
	if ports.frontend, err = picker.pick(ip, port); err != nil {
		return ports, "", 0, fmt.Errorf("frontend: %w", err)
	}
	for _, p := range []*int{&ports.history, &ports.matching, &ports.worker, &ports.frontendHTTP} {
		if *p, err = picker.pick(ip, 0); err != nil {
			return ports, "", 0, fmt.Errorf("internal service: %w", err)
		}
	}
	if uiAddr == "" {
		return ports, "", 0, nil
	}
	if uiIP, port, err = loopbackAddr(uiAddr); err != nil {
		return ports, "", 0, fmt.Errorf("web ui: %w", err)
	}
	if uiPort, err = picker.pick(uiIP, port); err != nil {
		return ports, "", 0, fmt.Errorf("web ui: %w", err)
	}
	return ports, uiIP, uiPort, nil
}

// waitReady waits for the frontend and history, then registers the namespace
// and search attributes through the frontend's own APIs and drops the
// visibility indexes (in the file at visPath) that none of them needs.
func (s *Server) waitReady(ctx context.Context, cfg Config, visPath string) error {
	conn, err := grpc.NewClient(s.frontendHostPort, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("connect to frontend: %w", err)
	}
	defer conn.Close()
	wf := workflowservice.NewWorkflowServiceClient(conn)

	if err := waitFrontend(ctx, healthpb.NewHealthClient(conn)); err != nil {
		return fmt.Errorf("wait for frontend %s: %w", s.frontendHostPort, err)
	}
	if err := ensureNamespace(ctx, wf, cfg.Namespace, retention); err != nil {
		return err
	}
	added, err := ensureSearchAttributes(ctx, operatorservice.NewOperatorServiceClient(conn), cfg.Namespace, cfg.SearchAttributes)
	if err != nil {
		return err
	}
	// From here on the services read search attributes through their
	// caches, once those hold what was just registered.
	wait := time.Duration(0)
	if added {
		wait = cachesCaughtUp
	}
	s.cached = s.dc.stopReadThrough(wait)
	dropped, err := pruneVisibilityIndexes(ctx, wf, visPath)
	if err != nil {
		return err
	}
	if len(dropped) > 0 {
		s.logger.Debug("dropped visibility indexes no query needs", "indexes", dropped)
	}
	if err := waitHistory(ctx, wf, cfg.Namespace); err != nil {
		return fmt.Errorf("wait for history service: %w", err)
	}
	return nil
}

// FrontendHostPort returns the host:port of the gRPC frontend, for
// client.Options.HostPort.
func (s *Server) FrontendHostPort() string {
	return s.frontendHostPort
}

// UIURL returns the base URL of the Web UI, such as "http://127.0.0.1:8233",
// or "" if the UI is disabled.
func (s *Server) UIURL() string {
	if s.ui == nil {
		return ""
	}
	return s.ui.url
}

// Stop stops the Web UI and then the Temporal services, letting in-flight
// requests finish. It is safe to call more than once; later calls return the
// first call's result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		// Services stopping one after another log warnings and errors about
		// each other (lost connections, cancelled polls and transactions);
		// none of them is news, and a failed stop is returned below.
		s.logLevel.Set(silent)
		var errs []error
		if s.ui != nil {
			s.ui.stop()
		}
		if s.cached != nil {
			s.cached.Stop()
		}
		if s.temporal != nil {
			if err := s.temporal.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("stop temporal server: %w", err))
			}
		}
		s.stopErr = errors.Join(errs...)
		if s.stopErr == nil {
			s.logger.Debug("temporal dev server stopped", "frontend", s.frontendHostPort)
		}
	})
	return s.stopErr
}
