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

func runUser(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("user: want add --email E --name N --role R")
	}
	var email, name, role string
	cfg, log, err := prepare("user add", args[1:], getenv, stderr, func(fs *flag.FlagSet, _ *config) {
		fs.StringVar(&email, "email", "", "email address (required)")
		fs.StringVar(&name, "name", "", "display name (required)")
		fs.StringVar(&role, "role", "customer", "customer, agent or admin")
	})
	if err != nil {
		return err
	}
	if email == "" || name == "" || !models.Role(role).Valid() || !strings.Contains(email, "@") {
		return errors.New("user add: --email, --name and a --role of customer, agent or admin are required")
	}
	db, err := cfg.openDB(log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	now := time.Now().UTC().Truncate(time.Microsecond)
	u := models.User{ID: uuid.Must(uuid.NewV7()).String(), Email: email, Name: name, Role: models.Role(role),
		Active: true, CreatedAt: now, UpdatedAt: now}
	if err := models.NewStore(db).CreateUser(ctx, &u); err != nil {
		return fmt.Errorf("user add: %w", err)
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
