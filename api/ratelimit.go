package api

import (
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
	// most bounds the number of buckets; zero leaves it to the sweep.
	most int
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

// newBoundedLimiter is a limiter that keeps at most most buckets, for keys
// a client chooses (addresses): past the bound, a new key evicts an
// arbitrary one.
func newBoundedLimiter(perSecond float64, burst, most int) *limiter {
	l := newLimiter(perSecond, burst)
	l.most = most
	return l
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
		if l.most > 0 && len(l.users) >= l.most {
			for id := range l.users { // map order is arbitrary: evict one
				delete(l.users, id)
				break
			}
		}
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
