package api

import (
	"context"
	"sync"
	"time"
)

// gate bounds the changes to one ticket this process has in flight. The
// workflow engine admits only a few concurrent updates per workflow (and a
// swarm of them stalls its task processing), while a ticket has one writer
// anyway: past the bound, changes wait here, in order of arrival, until a
// slot frees or their deadline passes (then nothing was sent: 503).
type gate struct {
	max     int
	metrics queueMetrics
	mu      sync.Mutex
	sem     map[string]*slots
}

// queueMetrics records the gate's waits and refusals.
type queueMetrics interface {
	QueueWaited(time.Duration)
	QueueRejected()
}

type slots struct {
	ch    chan struct{}
	users int
}

func newGate(max int, metrics queueMetrics) *gate {
	return &gate{max: max, metrics: metrics, sem: map[string]*slots{}}
}

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
	start := time.Now()
	select {
	case s.ch <- struct{}{}:
		g.metrics.QueueWaited(time.Since(start))
		return nil
	case <-ctx.Done():
		g.release(key, s, false)
		g.metrics.QueueRejected()
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
