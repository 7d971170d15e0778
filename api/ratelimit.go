package api

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// limiter keeps one token bucket per user. Idle buckets are dropped so the
// map does not grow without bound.
type limiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	users map[string]*bucket
	swept time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	if burst <= 0 {
		burst = int(math.Max(1, 2*perSecond))
	}
	return &limiter{rate: rate.Limit(perSecond), burst: burst, users: map[string]*bucket{}}
}

// allow reports whether user may make a request now, or how many seconds
// to wait.
func (l *limiter) allow(user string, now time.Time) (bool, int) {
	if l.rate <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for id, b := range l.users {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.users, id)
			}
		}
		l.swept = now
	}
	b, ok := l.users[user]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.users[user] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, int(math.Ceil(d.Seconds()))
	}
	return true, 0
}

func (s *Server) rateLimit(c *gin.Context) {
	if ok, wait := s.limiter.allow(caller(c).ID, time.Now()); !ok {
		s.fail(c, &rateLimited{retryAfter: max(wait, 1)})
		c.Abort()
		return
	}
	c.Next()
}

// gate bounds the changes to one ticket this process has in flight. The
// workflow engine admits only a few concurrent updates per workflow (and a
// swarm of them stalls its task processing), while a ticket has one writer
// anyway: past the bound, changes wait here, in order of arrival, until a
// slot frees or their deadline passes (then nothing was sent: 503).
type gate struct {
	max int
	mu  sync.Mutex
	sem map[string]*slots
}

type slots struct {
	ch    chan struct{}
	users int
}

func newGate(max int) *gate { return &gate{max: max, sem: map[string]*slots{}} }

// enter takes a slot for key, waiting until ctx ends; leave must follow a
// nil return.
func (g *gate) enter(ctx context.Context, key string) error {
	g.mu.Lock()
	s, ok := g.sem[key]
	if !ok {
		s = &slots{ch: make(chan struct{}, g.max)}
		g.sem[key] = s
	}
	s.users++
	g.mu.Unlock()
	select {
	case s.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		g.release(key, s, false)
		return ctx.Err()
	}
}

func (g *gate) leave(key string) {
	g.mu.Lock()
	s := g.sem[key]
	g.mu.Unlock()
	g.release(key, s, true)
}

func (g *gate) release(key string, s *slots, held bool) {
	if held {
		<-s.ch
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if s.users--; s.users == 0 {
		delete(g.sem, key)
	}
}
