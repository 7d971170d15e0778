//go:build !nodev

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/worker"
	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

	"github.com/ticketd/ticketd/api"
	"github.com/ticketd/ticketd/devserver"
	"github.com/ticketd/ticketd/migrations"
	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/workflows"
)

// demoUsers are created on the first start of dev mode.
var demoUsers = []struct {
	email, name string
	role        models.Role
}{
	{"admin@example.com", "Ada Admin", models.RoleAdmin},
	{"agent@example.com", "Alan Agent", models.RoleAgent},
	{"customer@example.com", "Carla Customer", models.RoleCustomer},
	{"customer2@example.com", "Chris Customer", models.RoleCustomer},
}

func runDev(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var temporalAddr, uiAddr string
	cfg, log, err := prepare("dev", args, getenv, stderr, func(fs *flag.FlagSet, c *config) {
		httpFlag(fs, c)
		fs.StringVar(&temporalAddr, "temporal-addr", devserver.DefaultFrontendAddr, "embedded Temporal frontend address (loopback)")
		fs.StringVar(&uiAddr, "ui-addr", devserver.DefaultUIAddr, `embedded Temporal Web UI address (loopback; "" disables)`)
	})
	if err != nil {
		return err
	}
	secret, err := cfg.jwtSecret(true)
	if err != nil {
		return err
	}
	limitDevMemory(getenv)

	addr := cfg.TemporalAddress
	uiURL := ""
	if addr == "" {
		ts, err := devserver.Start(ctx, devserver.Config{
			DataDir:          filepath.Join(cfg.DataDir, "temporal"),
			FrontendAddr:     temporalAddr,
			UIAddr:           uiAddr,
			Namespace:        cfg.TemporalNamespace,
			SearchAttributes: workflows.SearchAttributes(),
			Logger:           log.With("component", "temporal-server"),
		})
		if err != nil {
			return fmt.Errorf("start embedded temporal: %w", err)
		}
		defer func() {
			if err := ts.Stop(); err != nil {
				log.Warn("stop embedded temporal", "err", err)
			}
		}()
		addr, uiURL = ts.FrontendHostPort(), ts.UIURL()
	}

	db, err := cfg.openDB(log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	if err := migrations.Up(db); err != nil {
		return err
	}
	tel, err := newTelemetry(log)
	if err != nil {
		return err
	}
	tc, err := cfg.dialTemporal(addr, cfg.TemporalAddress == "", log, tel.handler)
	if err != nil {
		return err
	}
	defer tc.Close()
	if cfg.TemporalAddress != "" {
		ensureSearchAttributes(ctx, tc, cfg.TemporalNamespace, log)
	}
	w := newWorker(tc, db, tel.metrics)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	defer w.Stop()

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return serveAPI(gctx, cfg, cfg.HTTPAddr, db, tc, secret, log, tel, func(bound string) {
			if err := printWelcome(gctx, stdout, db, secret, cfg.DataDir, bound, addr, uiURL); err != nil {
				log.Error("demo users", "err", err)
			}
		})
	})
	return g.Wait()
}

// printWelcome creates the demo users on first start and prints where
// everything is, with a token and the password per demo user.
func printWelcome(ctx context.Context, out io.Writer, db *gorm.DB, secret []byte, dataDir, apiAddr, temporalAddr, uiURL string) error {
	store := models.NewStore(db)
	password, err := demoPassword(dataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nticketd dev is running\n  API:          http://%s/api/v1  (spec: http://%s/openapi.yaml)\n  Temporal:     %s\n", apiAddr, apiAddr, temporalAddr)
	if uiURL != "" {
		fmt.Fprintf(out, "  Temporal UI:  %s\n", uiURL)
	}
	fmt.Fprintf(out, "\nSign in at http://%s/ with a demo user (tokens valid 7 days; make more with `ticketd token --email E`):\n", apiAddr)
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, d := range demoUsers {
		u, err := store.GetUserByEmail(ctx, d.email)
		if errors.Is(err, models.ErrNotFound) {
			u = models.User{ID: uuid.Must(uuid.NewV7()).String(), Email: d.email, Name: d.name, Role: d.role,
				Active: true, CreatedAt: now, UpdatedAt: now}
			err = store.CreateUser(ctx, &u)
		}
		if err != nil {
			return fmt.Errorf("demo user %s: %w", d.email, err)
		}
		pw, err := ensureDemoPassword(ctx, store, u, password)
		if err != nil {
			return fmt.Errorf("demo user %s: %w", d.email, err)
		}
		tok, err := api.IssueToken(secret, u.ID, 7*24*time.Hour, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "\n  %-8s %s  password: %s\n  export %s_TOKEN=%s\n", u.Role, u.Email, pw, tokenVar(u.Email), tok)
	}
	fmt.Fprintln(out)
	return nil
}

func tokenVar(email string) string {
	switch email {
	case "admin@example.com":
		return "ADMIN"
	case "agent@example.com":
		return "AGENT"
	case "customer@example.com":
		return "CUSTOMER"
	default:
		return "CUSTOMER2"
	}
}

// devMemoryLimit is the soft memory limit of `ticketd dev` (GOMEMLIMIT
// overrides it): a laptop tool that embeds a Temporal server should not
// keep hundreds of megabytes of garbage around, and the collector works a
// little harder near the limit instead. The live heap after the benchmark
// is about 60 MB; at 140 MB the runtime also returns idle heap pages
// sooner (RSS after the benchmark: 279-280 MB against 291-300 MB at 160 MB,
// two runs each with autoscaling pollers, and no slower).
const devMemoryLimit = 140 << 20

// devWorkflowCache bounds the ticket workflows the dev worker keeps in
// memory between their tasks (the SDK's default is 10,000); a ticket out of
// the cache replays its history at its next change.
const devWorkflowCache = 256

func limitDevMemory(getenv func(string) string) {
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(devMemoryLimit)
	}
	worker.SetStickyWorkflowCacheSize(devWorkflowCache)
}
