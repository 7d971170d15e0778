package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ticketd/ticketd/migrations"
	"github.com/ticketd/ticketd/models"
)

// DefaultDSN is the local PostgreSQL the tests use without TEST_DATABASE_URL.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// HowToGetPostgres is printed when no server answers.
const HowToGetPostgres = `PostgreSQL is required for the tests and none answered.
Either point TEST_DATABASE_URL at one, e.g.
  export TEST_DATABASE_URL=postgres://user:pass@host:5432/db?sslmode=disable
or start one locally (Debian/Ubuntu):
  sudo apt-get install -y postgresql && sudo pg_ctlcluster $(ls /etc/postgresql) main start
  (the tests connect as postgres@127.0.0.1:5432/test; .ci/run sets this up)`

// BaseDSN is TEST_DATABASE_URL or DefaultDSN.
func BaseDSN() string {
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		return v
	}
	return DefaultDSN
}

// Database is a fresh PostgreSQL database for one suite.
type Database struct {
	DSN  string
	Name string
	base string
}

// NewDatabase creates an empty database next to BaseDSN's. Call Drop when
// done.
func NewDatabase(prefix string) (*Database, error) {
	base := BaseDSN()
	admin, err := models.Open(base, nil)
	if err != nil {
		return nil, fmt.Errorf("%w\n\n%s", err, HowToGetPostgres)
	}
	defer closeDB(admin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.WithContext(ctx).Exec("SELECT 1").Error; err != nil {
		return nil, fmt.Errorf("connect to %s: %w\n\n%s", redact(base), err, HowToGetPostgres)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	name := fmt.Sprintf("ticketd_%s_%s", prefix, hex.EncodeToString(suffix))
	if err := admin.WithContext(ctx).Exec("CREATE DATABASE " + name).Error; err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("parse TEST_DATABASE_URL: %w", err)
	}
	u.Path = "/" + name
	return &Database{DSN: u.String(), Name: name, base: base}, nil
}

// Open connects to the database and migrates it up.
func (d *Database) Open() (*gorm.DB, error) {
	db, err := models.Open(d.DSN, nil)
	if err != nil {
		return nil, err
	}
	if err := migrations.Up(db); err != nil {
		closeDB(db)
		return nil, err
	}
	return db, nil
}

// Drop removes the database, disconnecting its sessions.
func (d *Database) Drop() error {
	admin, err := models.Open(d.base, nil)
	if err != nil {
		return err
	}
	defer closeDB(admin)
	return admin.Exec("DROP DATABASE IF EXISTS " + d.Name + " WITH (FORCE)").Error
}

func closeDB(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		_ = s.Close()
	}
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the database"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxx")
	}
	return strings.TrimSpace(u.String())
}
