package monitoring

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// NewLogger returns a slog logger writing to w. level is debug, info, warn
// or error (default info); format is json or text (default json). Records
// logged with a context carry the attributes added to it with
// AddLogAttrs (request, user, ticket and workflow IDs).
func NewLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lvl slog.Level
	if level != "" {
		if err := lvl.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", level)
		}
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch strings.ToLower(format) {
	case "", "json":
		h = slog.NewJSONHandler(w, opts)
	case "text":
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, fmt.Errorf("LOG_FORMAT %q: want json or text", format)
	}
	return slog.New(ContextHandler{Handler: h}), nil
}

type logAttrsKey struct{}

// logAttrs are the attributes a context's log records carry. Middleware
// fills them as a request goes: request ID, then user, then ticket.
type logAttrs struct {
	mu    sync.Mutex
	attrs []slog.Attr
}

// WithLogAttrs returns a context whose log records carry args (key, value
// pairs or slog.Attrs), in addition to its parent's.
func WithLogAttrs(ctx context.Context, args ...any) context.Context {
	bag := &logAttrs{}
	if parent, ok := ctx.Value(logAttrsKey{}).(*logAttrs); ok {
		bag.attrs = parent.snapshot()
	}
	bag.add(args)
	return context.WithValue(ctx, logAttrsKey{}, bag)
}

// AddLogAttrs adds args to the attributes ctx's records carry, in place, so
// a middleware further down a request's chain reaches the records of those
// above it (the access log). It does nothing to a context without
// WithLogAttrs above it.
func AddLogAttrs(ctx context.Context, args ...any) {
	if bag, ok := ctx.Value(logAttrsKey{}).(*logAttrs); ok {
		bag.add(args)
	}
}

func (b *logAttrs) add(args []any) {
	r := slog.NewRecord(time.Time{}, 0, "", 0)
	r.Add(args...)
	b.mu.Lock()
	defer b.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool {
		for i := range b.attrs {
			if b.attrs[i].Key == a.Key {
				b.attrs[i] = a
				return true
			}
		}
		b.attrs = append(b.attrs, a)
		return true
	})
}

func (b *logAttrs) snapshot() []slog.Attr {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]slog.Attr(nil), b.attrs...)
}

// ContextHandler adds the attributes of a record's context (WithLogAttrs,
// AddLogAttrs) to the record, unless the record names them itself.
type ContextHandler struct {
	slog.Handler
}

// Handle implements slog.Handler.
func (h ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if bag, ok := ctx.Value(logAttrsKey{}).(*logAttrs); ok {
			have := map[string]bool{}
			r.Attrs(func(a slog.Attr) bool {
				have[a.Key] = true
				return true
			})
			for _, a := range bag.snapshot() {
				if !have[a.Key] {
					r.AddAttrs(a)
				}
			}
		}
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h ContextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return ContextHandler{Handler: h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h ContextHandler) WithGroup(name string) slog.Handler {
	return ContextHandler{Handler: h.Handler.WithGroup(name)}
}
