package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"gorm.io/gorm"

	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/monitoring"
	"github.com/ticketd/ticketd/workflows"
)

// config is what every subcommand reads: the environment, overridden by
// flags where they exist.
type config struct {
	DatabaseURL       string
	TemporalAddress   string
	TemporalNamespace string
	// TemporalCompression is TEMPORAL_GRPC_COMPRESSION: "gzip", "none", or
	// "" for the command's default (see temporalCompression).
	TemporalCompression string
	DataDir             string
	JWTSecret           string
	HTTPAddr            string
	LogLevel            string
	LogFormat           string
	RatePerSecond       float64
	RateBurst           int
	Limits              limits
	// SlowQuery is the duration past which a database query is logged.
	SlowQuery time.Duration
}

func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		DatabaseURL:         getenv("DATABASE_URL"),
		TemporalAddress:     getenv("TEMPORAL_ADDRESS"),
		TemporalNamespace:   or(getenv("TEMPORAL_NAMESPACE"), "default"),
		TemporalCompression: getenv("TEMPORAL_GRPC_COMPRESSION"),
		DataDir:             or(getenv("TICKETD_DATA_DIR"), "./data"),
		JWTSecret:           getenv("TICKETD_JWT_SECRET"),
		HTTPAddr:            or(getenv("HTTP_ADDR"), "127.0.0.1:8080"),
		LogLevel:            or(getenv("LOG_LEVEL"), "info"),
		LogFormat:           getenv("LOG_FORMAT"),
		RatePerSecond:       50,
		RateBurst:           100,
		SlowQuery:           200 * time.Millisecond,
	}
	if v := getenv("TICKETD_SLOW_QUERY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return cfg, fmt.Errorf("TICKETD_SLOW_QUERY %q: want a duration such as 200ms (0 disables)", v)
		}
		cfg.SlowQuery = d
	}
	if v := cfg.TemporalCompression; v != "" {
		if _, err := workflows.GrpcCompression(v); err != nil {
			return cfg, fmt.Errorf("TEMPORAL_GRPC_COMPRESSION: %w", err)
		}
	}
	if v := getenv("TICKETD_RATE_LIMIT"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			return cfg, fmt.Errorf("TICKETD_RATE_LIMIT %q: want requests per second per user, 0 to disable", v)
		}
		cfg.RatePerSecond = f
	}
	if v := getenv("TICKETD_RATE_BURST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return cfg, fmt.Errorf("TICKETD_RATE_BURST %q: want a positive integer", v)
		}
		cfg.RateBurst = n
	}
	var err error
	cfg.Limits, err = loadLimits(getenv)
	return cfg, err
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// prepare reads the configuration, lets the command add its flags (the
// data dir is common to all), parses args and builds the logger: the
// opening every subcommand shares.
func prepare(name string, args []string, getenv func(string) string, stderr io.Writer, flags func(*flag.FlagSet, *config)) (config, *slog.Logger, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return cfg, nil, err
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for SQLite files and the dev JWT secret (TICKETD_DATA_DIR)")
	if flags != nil {
		flags(fs, &cfg)
	}
	if err := fs.Parse(args); err != nil {
		return cfg, nil, err
	}
	if cfg.LogFormat == "" {
		// JSON for the production commands, whose logs machines read;
		// text for a person at `ticketd dev` or the admin commands.
		cfg.LogFormat = "text"
		if name == "serve" || name == "worker" {
			cfg.LogFormat = "json"
		}
	}
	log, err := cfg.logger(stderr)
	return cfg, log, err
}

// httpFlag registers --http-addr.
func httpFlag(fs *flag.FlagSet, c *config) {
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "API listen address (HTTP_ADDR)")
}

func (c config) logger(stderr io.Writer) (*slog.Logger, error) {
	return monitoring.NewLogger(stderr, c.LogLevel, c.LogFormat)
}

// databaseDSN is DATABASE_URL or the SQLite file in the data dir.
func (c config) databaseDSN() (string, error) {
	if c.DatabaseURL != "" {
		return c.DatabaseURL, nil
	}
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return "", fmt.Errorf("create data dir: %w", err)
	}
	return "sqlite:" + filepath.Join(c.DataDir, "ticketd.db"), nil
}

func (c config) openDB(log *slog.Logger) (*gorm.DB, error) {
	dsn, err := c.databaseDSN()
	if err != nil {
		return nil, err
	}
	return models.Open(dsn, monitoring.NewGormLogger(log, c.SlowQuery))
}

const secretFile = "jwt-secret"

// jwtSecret is TICKETD_JWT_SECRET, else the secret dev mode keeps in the
// data dir; create makes one there if there is none.
func (c config) jwtSecret(create bool) ([]byte, error) {
	if c.JWTSecret != "" {
		if len(c.JWTSecret) < 32 {
			return nil, errors.New("TICKETD_JWT_SECRET must be at least 32 characters")
		}
		return []byte(c.JWTSecret), nil
	}
	path := filepath.Join(c.DataDir, secretFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return []byte(strings.TrimSpace(string(b))), nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read %s: %w", path, err)
	case !create:
		return nil, errors.New("TICKETD_JWT_SECRET is not set (and no dev secret in the data dir)")
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	secret := hex.EncodeToString(raw)
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return []byte(secret), nil
}

// temporalCompression is TEMPORAL_GRPC_COMPRESSION, else gzip (the SDK's
// default) for a cluster across a network and none for the embedded server
// on loopback, where compressing every poll, history and completion costs
// CPU on both ends and saves nothing.
func (c config) temporalCompression(embedded bool) string {
	switch {
	case c.TemporalCompression != "":
		return c.TemporalCompression
	case embedded:
		return "none"
	}
	return "gzip"
}

// dialTemporal makes a client for the frontend at addr. It connects lazily,
// so the API starts (and /readyz reports) while Temporal is still down.
// embedded says the frontend runs in this process (ticketd dev's).
func (c config) dialTemporal(addr string, embedded bool, log *slog.Logger, metrics client.MetricsHandler) (client.Client, error) {
	gc, err := workflows.GrpcCompression(c.temporalCompression(embedded))
	if err != nil {
		return nil, err
	}
	cl, err := client.NewLazyClient(client.Options{
		HostPort:          addr,
		Namespace:         c.TemporalNamespace,
		Logger:            tlog.NewStructuredLogger(log.With("component", "temporal-sdk")),
		MetricsHandler:    metrics,
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: gc},
	})
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", addr, err)
	}
	return cl, nil
}
