package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ticketd/ticketd/api"
	"github.com/ticketd/ticketd/migrations"
	"github.com/ticketd/ticketd/models"
)

func runMigrate(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("migrate: want up, down [--to ID] or status")
	}
	var to string
	cfg, log, err := prepare("migrate "+args[0], args[1:], getenv, stderr, func(fs *flag.FlagSet, _ *config) {
		fs.StringVar(&to, "to", "", "down: roll back to (not including) this migration ID; empty rolls back everything")
	})
	if err != nil {
		return err
	}
	db, err := cfg.openDB(log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	switch args[0] {
	case "up":
		if err := migrations.Up(db); err != nil {
			return err
		}
	case "down":
		if err := migrations.DownTo(db, to); err != nil {
			return err
		}
	case "status":
	default:
		return fmt.Errorf("migrate: unknown action %q", args[0])
	}
	st, err := migrations.Status(db)
	if err != nil {
		return err
	}
	for _, s := range st {
		state := "pending"
		if s.Applied {
			state = "applied"
		}
		fmt.Fprintf(stdout, "%-8s %s\n", state, s.ID)
	}
	return nil
}

func runUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "passwd" {
		return runPasswd(ctx, args[1:], getenv, stdin, stderr)
	}
	if len(args) == 0 || args[0] != "add" {
		return errors.New("user: want add --email E --name N --role R [--password-stdin], or passwd --email E --password-stdin")
	}
	var (
		email, name, role string
		pwStdin           bool
	)
	cfg, log, err := prepare("user add", args[1:], getenv, stderr, func(fs *flag.FlagSet, _ *config) {
		fs.StringVar(&email, "email", "", "email address (required)")
		fs.StringVar(&name, "name", "", "display name (required)")
		fs.StringVar(&role, "role", "customer", "customer, agent or admin")
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the user's password from standard input")
	})
	if err != nil {
		return err
	}
	if email == "" || name == "" || !models.Role(role).Valid() || !strings.Contains(email, "@") {
		return errors.New("user add: --email, --name and a --role of customer, agent or admin are required")
	}
	var hash string
	if pwStdin {
		if hash, err = readPasswordHash(stdin); err != nil {
			return fmt.Errorf("user add: %w", err)
		}
	}
	db, err := cfg.openDB(log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := models.User{ID: uuid.Must(uuid.NewV7()).String(), Email: email, Name: name, Role: models.Role(role),
		Active: true, CreatedAt: now, UpdatedAt: now}
	store := models.NewStore(db)
	if err := store.CreateUser(ctx, &u); err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	if hash != "" {
		if err := store.SetPasswordHash(ctx, u.ID, hash); err != nil {
			return fmt.Errorf("user add: %w", err)
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(u)
}

func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		email string
		ttl   time.Duration
	)
	cfg, log, err := prepare("token", args, getenv, stderr, func(fs *flag.FlagSet, _ *config) {
		fs.StringVar(&email, "email", "", "the user's email (required)")
		fs.DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token is valid")
	})
	if err != nil {
		return err
	}
	if email == "" || ttl <= 0 {
		return errors.New("token: --email and a positive --ttl are required")
	}
	secret, err := cfg.jwtSecret(false)
	if err != nil {
		return err
	}
	db, err := cfg.openDB(log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	u, err := models.NewStore(db).GetUserByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	tok, err := api.IssueToken(secret, u.ID, ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// readPasswordHash reads one password (the first line) from r and hashes
// it. The password is never echoed or logged.
func readPasswordHash(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if msg := models.CheckPasswordLength(pw); msg != "" {
		return "", fmt.Errorf("the password on standard input %s", msg)
	}
	return models.HashPassword(pw, models.DefaultPasswordParams)
}

func runPasswd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stderr io.Writer) error {
	var (
		email   string
		pwStdin bool
	)
	cfg, log, err := prepare("user passwd", args, getenv, stderr, func(fs *flag.FlagSet, _ *config) {
		fs.StringVar(&email, "email", "", "the user's email (required)")
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the new password from standard input (required)")
	})
	if err != nil {
		return err
	}
	if email == "" || !pwStdin {
		return errors.New("user passwd: --email and --password-stdin are required")
	}
	hash, err := readPasswordHash(stdin)
	if err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	db, err := cfg.openDB(log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	store := models.NewStore(db)
	u, err := store.GetUserByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	if err := store.SetPasswordHash(ctx, u.ID, hash); err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	log.Info("password changed", "user_id", u.ID)
	return nil
}
