package devserver

import (
	"context"
	"log/slog"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// serverLogger adapts Temporal's logger interface to slog. Temporal logs a lot
// at info level, so only records at or above level reach the handler; level is
// shared so that Stop can silence the warnings every shutdown produces.
type serverLogger struct {
	logger *slog.Logger
	level  *slog.LevelVar
	tags   []tag.Tag // from With; converted only when a record is written
}

var (
	_ log.Logger     = (*serverLogger)(nil)
	_ log.WithLogger = (*serverLogger)(nil)
)

func newServerLogger(logger *slog.Logger, level *slog.LevelVar) *serverLogger {
	return &serverLogger{logger: logger, level: level}
}

func (l *serverLogger) Debug(msg string, tags ...tag.Tag) { l.log(slog.LevelDebug, msg, tags) }
func (l *serverLogger) Info(msg string, tags ...tag.Tag)  { l.log(slog.LevelInfo, msg, tags) }
func (l *serverLogger) Warn(msg string, tags ...tag.Tag)  { l.log(slog.LevelWarn, msg, tags) }
func (l *serverLogger) Error(msg string, tags ...tag.Tag) { l.log(slog.LevelError, msg, tags) }

// DPanic, Panic and Fatal only log: an embedded dev server must not take the
// whole ticketd process down, which is what Temporal's own logger would do.
func (l *serverLogger) DPanic(msg string, tags ...tag.Tag) { l.log(slog.LevelError, msg, tags) }
func (l *serverLogger) Panic(msg string, tags ...tag.Tag)  { l.log(slog.LevelError, msg, tags) }
func (l *serverLogger) Fatal(msg string, tags ...tag.Tag)  { l.log(slog.LevelError, msg, tags) }

// With returns a logger that adds tags to every record.
func (l *serverLogger) With(tags ...tag.Tag) log.Logger {
	all := make([]tag.Tag, 0, len(l.tags)+len(tags))
	all = append(append(all, l.tags...), tags...)
	return &serverLogger{logger: l.logger, level: l.level, tags: all}
}

func (l *serverLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if level < l.level.Level() || !l.logger.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, len(l.tags)+len(tags)+1)
	attrs = append(attrs, slog.String("component", "temporal"))
	for _, t := range l.tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	l.logger.LogAttrs(ctx, level, msg, attrs...)
}
