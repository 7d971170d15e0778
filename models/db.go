package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ticketd/ticketd/models/internal/sqlitegorm"
)

// Open connects to the database named by dsn: a postgres:// or
// postgresql:// URL, or an SQLite file ("sqlite:" prefix optional). SQLite
// runs in WAL mode with a busy timeout and immediate transactions, so
// concurrent writers queue instead of failing. GORM logs through gl (nil:
// nowhere).
func Open(dsn string, gl logger.Interface) (*gorm.DB, error) {
	if gl == nil {
		gl = logger.Discard
	}
	cfg := &gorm.Config{
		Logger:                 gl,
		TranslateError:         true,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	var (
		db  *gorm.DB
		err error
	)
	if IsPostgres(dsn) {
		db, err = gorm.Open(postgres.Open(dsn), cfg)
		if err == nil {
			sqlDB, _ := db.DB()
			sqlDB.SetMaxOpenConns(20)
			sqlDB.SetMaxIdleConns(20)
			sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		}
	} else {
		db, err = gorm.Open(sqlitegorm.Open(SQLiteDSN(strings.TrimPrefix(dsn, "sqlite:"))), cfg)
		if err == nil {
			sqlDB, _ := db.DB()
			// As many idle as open: a connection closed when the load dips
			// is opened again (its file, pragmas and schema) moments later.
			sqlDB.SetMaxOpenConns(8)
			sqlDB.SetMaxIdleConns(8)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// SQLiteDSN adds ticketd's connection settings to an SQLite file path.
func SQLiteDSN(path string) string {
	if strings.Contains(path, "?") {
		return path
	}
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
}

// IsUnavailable reports whether err means the database could not be reached,
// as opposed to a query it refused.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exceptions; 57P0x: the server is shutting down.
		// Class 40: serialization failure or deadlock, safe to retry.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || strings.HasPrefix(pgErr.Code, "40")
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "failed to connect") ||
		strings.Contains(msg, "broken pipe") || strings.Contains(msg, "connection reset") ||
		strings.Contains(msg, "unexpected EOF") || strings.Contains(msg, "conn closed") ||
		strings.Contains(msg, "database is locked") || strings.Contains(msg, "database is closed") || errors.Is(err, context.DeadlineExceeded)
}
