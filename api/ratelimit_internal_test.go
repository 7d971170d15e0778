package api

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	t.Run("burst then refusal with a wait", func(t *testing.T) {
		l := newLimiter(1, 2)
		for i := range 2 {
			if ok, _ := l.allow("u", now); !ok {
				t.Fatalf("request %d of the burst refused", i)
			}
		}
		ok, wait := l.allow("u", now)
		if ok || wait != 1 {
			t.Fatalf("third request: ok %v, wait %d; want refused, wait 1", ok, wait)
		}
		if ok, _ := l.allow("u", now.Add(time.Second)); !ok {
			t.Fatal("refused after the bucket refilled")
		}
	})
	t.Run("users have their own buckets", func(t *testing.T) {
		l := newLimiter(1, 1)
		l.allow("a", now)
		if ok, _ := l.allow("b", now); !ok {
			t.Fatal("b refused because of a")
		}
	})
	t.Run("zero rate disables", func(t *testing.T) {
		l := newLimiter(0, 0)
		for range 1000 {
			if ok, _ := l.allow("u", now); !ok {
				t.Fatal("refused with limiting disabled")
			}
		}
	})
	t.Run("idle buckets are dropped", func(t *testing.T) {
		l := newLimiter(1, 1)
		l.allow("old", now)
		l.allow("new", now.Add(11*time.Minute))
		if _, ok := l.users["old"]; ok {
			t.Fatal("idle bucket kept")
		}
	})
}

func TestGate(t *testing.T) {
	t.Run("bounds in-flight changes per key and queues the rest", func(t *testing.T) {
		q := &queueCounts{}
		g := newGate(2, q)
		ctx := context.Background()
		var (
			mu       sync.Mutex
			in, most int
			wg       sync.WaitGroup
		)
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := g.enter(ctx, "t"); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				in++
				most = max(most, in)
				mu.Unlock()
				time.Sleep(time.Millisecond)
				mu.Lock()
				in--
				mu.Unlock()
				g.leave("t")
			}()
		}
		wg.Wait()
		if most > 2 {
			t.Fatalf("%d in flight at once, want at most 2", most)
		}
		if q.waits != 10 || q.rejections != 0 {
			t.Fatalf("queue metrics: %d waits, %d rejections; want 10 and 0", q.waits, q.rejections)
		}
		if len(g.sem) != 0 {
			t.Fatalf("gate keeps %d idle keys", len(g.sem))
		}
	})
	t.Run("a waiter gives up at its deadline", func(t *testing.T) {
		q := &queueCounts{}
		g := newGate(1, q)
		if err := g.enter(context.Background(), "t"); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		if err := g.enter(ctx, "t"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("enter on a full gate: %v, want deadline exceeded", err)
		}
		g.leave("t")
		if len(g.sem) != 0 {
			t.Fatalf("gate keeps %d idle keys", len(g.sem))
		}
		if q.waits != 1 || q.rejections != 1 {
			t.Fatalf("queue metrics: %d waits, %d rejections; want 1 and 1", q.waits, q.rejections)
		}
	})
}

// queueCounts records what the gate reports.
type queueCounts struct {
	mu                sync.Mutex
	waits, rejections int
}

func (q *queueCounts) QueueWaited(time.Duration) { q.mu.Lock(); q.waits++; q.mu.Unlock() }
func (q *queueCounts) QueueRejected()            { q.mu.Lock(); q.rejections++; q.mu.Unlock() }
