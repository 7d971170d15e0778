package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"gorm.io/gorm"

	"github.com/ticketd/ticketd/activities"
	"github.com/ticketd/ticketd/api"
	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/monitoring"
	"github.com/ticketd/ticketd/web"
	"github.com/ticketd/ticketd/workflows"
)

// shutdownGrace is how long in-flight requests and activities get to finish
// after SIGTERM.
const shutdownGrace = 30 * time.Second

// newWorker builds the ticket worker on c.
func newWorker(c client.Client, db *gorm.DB, metrics *monitoring.Metrics) worker.Worker {
	w := worker.New(c, workflows.TaskQueue, workflows.WorkerOptions(shutdownGrace))
	workflows.Register(w, activities.New(models.NewStore(db), metrics))
	return w
}

// telemetry is a process's metrics: one registry holding ticketd's own
// families and the Temporal SDK's, which the process's Temporal client
// reports through handler.
type telemetry struct {
	reg     *prometheus.Registry
	metrics *monitoring.Metrics
	handler client.MetricsHandler
}

func newTelemetry(log *slog.Logger) (telemetry, error) {
	reg := prometheus.NewRegistry()
	h, err := monitoring.NewTemporalMetrics(reg, log)
	if err != nil {
		return telemetry{}, err
	}
	return telemetry{reg: reg, metrics: monitoring.NewMetrics(reg, api.MetricLabels()), handler: h}, nil
}

// backlogTTL is how long a count of open tickets serves scrapes.
const backlogTTL = 5 * time.Second

// registerBacklog adds ticketd_tickets_open, read from db at scrape time.
// Only API processes export it: workers would repeat the same numbers.
func (t telemetry) registerBacklog(db *gorm.DB, log *slog.Logger) {
	store := models.NewStore(db)
	count := func(ctx context.Context) (map[string]int64, error) {
		byStatus, err := store.CountOpenByStatus(ctx)
		out := make(map[string]int64, len(byStatus))
		for s, n := range byStatus {
			out[string(s)] = n
		}
		return out, err
	}
	t.reg.MustRegister(monitoring.NewBacklog(count, api.OpenStatuses(), backlogTTL, log))
}

// serveAPI serves the API on addr until ctx ends, then drains in-flight
// requests. ready, if not nil, receives the bound address.
func serveAPI(ctx context.Context, cfg config, addr string, db *gorm.DB, tc client.Client, secret []byte,
	log *slog.Logger, tel telemetry, ready func(string)) error {
	tel.registerBacklog(db, log)
	srv := api.New(api.Config{
		JWTSecret:         secret,
		RatePerSecond:     cfg.RatePerSecond,
		RateBurst:         cfg.RateBurst,
		MaxBodyBytes:      cfg.Limits.MaxBodyBytes,
		AnonRatePerSecond: cfg.Limits.AnonRatePerSecond,
		AnonRateBurst:     cfg.Limits.AnonRateBurst,
		TrustedProxies:    cfg.Limits.TrustedProxies,
	}, models.NewStore(db), workflows.NewClient(tc, models.NewStore(db)), log, tel.metrics, tel.reg)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	hs := newHTTPServer(web.Mount(srv.Handler(), web.New()), cfg.Limits)
	hs.RegisterOnShutdown(srv.Drain) // end the event streams, or Shutdown waits for them
	log.Info("api listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve api: %w", err)
	case <-ctx.Done():
	}
	log.Info("api shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down api: %w", err)
	}
	return nil
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, log, err := prepare("serve", args, getenv, stderr, httpFlag)
	if err != nil {
		return err
	}
	secret, err := cfg.jwtSecret(false)
	if err != nil {
		return err
	}
	tel, err := newTelemetry(log)
	if err != nil {
		return err
	}
	db, tc, err := cfg.connect(log, tel.handler)
	if err != nil {
		return err
	}
	defer closeDB(db)
	defer tc.Close()
	return serveAPI(ctx, cfg, cfg.HTTPAddr, db, tc, secret, log, tel, nil)
}

func runWorker(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var metricsAddr string
	cfg, log, err := prepare("worker", args, getenv, stderr, func(fs *flag.FlagSet, _ *config) {
		fs.StringVar(&metricsAddr, "metrics-addr", or(getenv("METRICS_ADDR"), "127.0.0.1:9091"), `serve /metrics here (METRICS_ADDR; "" disables)`)
	})
	if err != nil {
		return err
	}
	tel, err := newTelemetry(log)
	if err != nil {
		return err
	}
	db, tc, err := cfg.connect(log, tel.handler)
	if err != nil {
		return err
	}
	defer closeDB(db)
	defer tc.Close()
	ensureSearchAttributes(ctx, tc, cfg.TemporalNamespace, log)
	if metricsAddr != "" {
		ln, err := net.Listen("tcp", metricsAddr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", metricsAddr, err)
		}
		ms := &http.Server{Handler: metricsMux(tel.reg), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := ms.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server", "err", err)
			}
		}()
		defer ms.Close()
		metricsAddr = ln.Addr().String()
	}
	w := newWorker(tc, db, tel.metrics)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	log.Info("worker started", "task_queue", workflows.TaskQueue, "metrics", metricsAddr)
	<-ctx.Done()
	log.Info("worker stopping; finishing in-flight activities")
	w.Stop()
	return nil
}

// ensureSearchAttributes registers the ticket search attributes, logging
// rather than failing: in production a platform team may own them.
func ensureSearchAttributes(ctx context.Context, tc client.Client, namespace string, log *slog.Logger) {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := workflows.EnsureSearchAttributes(sctx, tc, namespace); err != nil {
		log.Warn("could not register search attributes; register them with the temporal CLI", "err", err)
	}
}

// connect opens the database and a client of the Temporal cluster, for the
// production commands.
func (c config) connect(log *slog.Logger, metrics client.MetricsHandler) (*gorm.DB, client.Client, error) {
	db, err := c.openDB(log)
	if err != nil {
		return nil, nil, err
	}
	tc, err := c.dialTemporal(or(c.TemporalAddress, "127.0.0.1:7233"), false, log, metrics)
	if err != nil {
		closeDB(db)
		return nil, nil, err
	}
	return db, tc, nil
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// metricsMux serves a worker's /metrics (and a liveness /healthz for
// orchestrators).
func metricsMux(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	return mux
}
