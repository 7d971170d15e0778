package monitoring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
)

// GormLogger sends GORM's logs to slog: failed queries (except "record not
// found", which callers expect) and queries slower than a threshold, with
// their duration and their SQL with placeholders — never the parameter
// values, which hold customers' text and e-mail addresses.
type GormLogger struct {
	log  *slog.Logger
	slow time.Duration
}

// NewGormLogger logs to log; queries slower than slow are logged as warnings
// (0 turns slow-query logging off).
func NewGormLogger(log *slog.Logger, slow time.Duration) *GormLogger {
	return &GormLogger{log: log.With("component", "gorm"), slow: slow}
}

// LogMode implements gorm's logger.Interface; the level is slog's business.
func (l *GormLogger) LogMode(gormlogger.LogLevel) gormlogger.Interface { return l }

// Info implements gorm's logger.Interface.
func (l *GormLogger) Info(ctx context.Context, msg string, args ...any) {
	l.log.DebugContext(ctx, "gorm", "detail", fmt.Sprintf(msg, args...))
}

// Warn implements gorm's logger.Interface.
func (l *GormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, "gorm", "detail", fmt.Sprintf(msg, args...))
}

// Error implements gorm's logger.Interface.
func (l *GormLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, "gorm", "detail", fmt.Sprintf(msg, args...))
}

// ParamsFilter keeps the parameters out of the SQL GORM hands to Trace.
func (l *GormLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

// Trace implements gorm's logger.Interface.
func (l *GormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound):
		sql, rows := fc()
		level := slog.LevelError
		if errors.Is(err, gorm.ErrDuplicatedKey) || errors.Is(err, context.Canceled) {
			level = slog.LevelDebug // a conflict the caller answers, or a client gone
		}
		l.log.Log(ctx, level, "query failed", "sql", sql, "rows", rows, "duration_ms", ms(elapsed), "err", err)
	case l.slow > 0 && elapsed > l.slow:
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow query", "sql", sql, "rows", rows, "duration_ms", ms(elapsed), "threshold_ms", ms(l.slow))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
