package monitoring

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// CountByStatus counts the tickets that are not closed, by status, in one
// query.
type CountByStatus func(ctx context.Context) (map[string]int64, error)

// Backlog is the ticketd_tickets_open gauge: a collector that reads the
// database when Prometheus scrapes, at most once per ttl, so several
// scrapers (or a dashboard refreshing fast) cost one indexed query.
type Backlog struct {
	count    CountByStatus
	statuses []string
	ttl      time.Duration
	timeout  time.Duration
	log      *slog.Logger
	now      func() time.Time
	desc     *prometheus.Desc

	mu      sync.Mutex
	at      time.Time
	last    map[string]int64
	scraped bool
}

// NewBacklog returns the collector. statuses are the open statuses, each
// exported even when no ticket has it; ttl is how long a count is reused.
func NewBacklog(count CountByStatus, statuses []string, ttl time.Duration, log *slog.Logger) *Backlog {
	return &Backlog{
		count: count, statuses: statuses, ttl: ttl, timeout: 2 * time.Second, log: log, now: time.Now,
		desc: prometheus.NewDesc("ticketd_tickets_open", "Tickets not closed, by status, read from the database at scrape time (cached a few seconds).",
			[]string{"status"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (b *Backlog) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

// Collect implements prometheus.Collector. When the database does not
// answer, the family is left out of the scrape (an absent series is honest;
// a stale count is not), and the error is logged.
func (b *Backlog) Collect(ch chan<- prometheus.Metric) {
	counts, ok := b.read()
	if !ok {
		return
	}
	for _, s := range b.statuses {
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, float64(counts[s]), s)
	}
}

func (b *Backlog) read() (map[string]int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.scraped && now.Sub(b.at) < b.ttl {
		return b.last, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	counts, err := b.count(ctx)
	if err != nil {
		b.scraped = false
		if b.log != nil {
			b.log.Warn("count open tickets for metrics", "err", err)
		}
		return nil, false
	}
	b.last, b.at, b.scraped = counts, now, true
	return counts, true
}
