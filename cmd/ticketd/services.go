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

// newMetrics makes a process's registry and metrics.
func newMetrics() (*prometheus.Registry, *monitoring.Metrics) {
	reg := prometheus.NewRegistry()
	return reg, monitoring.NewMetrics(reg)
}

// serveAPI serves the API on addr until ctx ends, then drains in-flight
// requests. ready, if not nil, receives the bound address.
func serveAPI(ctx context.Context, cfg config, addr string, db *gorm.DB, tc client.Client, secret []byte,
	log *slog.Logger, reg *prometheus.Registry, metrics *monitoring.Metrics, ready func(string)) error {
	srv := api.New(api.Config{
		JWTSecret:     secret,
		RatePerSecond: cfg.RatePerSecond,
		RateBurst:     cfg.RateBurst,
	}, models.NewStore(db), workflows.NewClient(tc, models.NewStore(db)), log, metrics, reg)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	hs := &http.Server{
		Handler:           web.Mount(srv.Handler(), web.New()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
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
	db, tc, err := cfg.connect(log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	defer tc.Close()
	reg, metrics := newMetrics()
	return serveAPI(ctx, cfg, cfg.HTTPAddr, db, tc, secret, log, reg, metrics, nil)
}

func runWorker(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var metricsAddr string
	cfg, log, err := prepare("worker", args, getenv, stderr, func(fs *flag.FlagSet, _ *config) {
		fs.StringVar(&metricsAddr, "metrics-addr", or(getenv("METRICS_ADDR"), "127.0.0.1:9091"), `serve /metrics here (METRICS_ADDR; "" disables)`)
	})
	if err != nil {
		return err
	}
	db, tc, err := cfg.connect(log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	defer tc.Close()
	ensureSearchAttributes(ctx, tc, cfg.TemporalNamespace, log)
	reg, metrics := newMetrics()
	if metricsAddr != "" {
		ms := &http.Server{Addr: metricsAddr, Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := ms.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server", "err", err)
			}
		}()
		defer ms.Close()
	}
	w := newWorker(tc, db, metrics)
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
func (c config) connect(log *slog.Logger) (*gorm.DB, client.Client, error) {
	db, err := c.openDB(log)
	if err != nil {
		return nil, nil, err
	}
	tc, err := c.dialTemporal(or(c.TemporalAddress, "127.0.0.1:7233"), log)
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
