package models

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"reflect"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Ticket counts.
//
// A list's `total` must answer in constant time at a million tickets. The
// counts users ask for most (every ticket, tickets by status or priority, a
// customer's own tickets by status: "My requests") come from ticket_counts, a
// table of counters that ApplyChange keeps in the same transaction as each
// change, so they are exact. Any other filter is counted exactly up to
// ExactCountLimit matches with a count that stops there; past it PostgreSQL
// answers with the planner's estimate (flagged inexact) and SQLite, the small
// single-machine default, counts on.
//
// ticket_counts has one row per (customer_id, status, priority, shard);
// customer_id "" holds the counts over every customer. A ticket's changes go
// to the shard of its id, so concurrent changes to different tickets seldom
// wait for the same row lock. Only the sum over a scope's shards means anything: a shard
// may hold a negative number (backfills put everything in shard 0).
// Soft-deleted tickets are not counted.

// ExactCountLimit is how many matches a filtered count always counts exactly.
const ExactCountLimit = 10000

// countShards is how many rows each (customer, status) count is spread over.
const countShards = 8

// everyone is the customer_id of the counters over all customers.
const everyone = ""

// boundedCountTimeout caps the bounded exact count on PostgreSQL (in
// milliseconds); past it the count is the planner's estimate. Counting
// 10,001 matches through an index takes a few milliseconds; the cap is for
// filters no index serves (a two-letter q over a million tickets), and high
// enough that a busy machine does not turn an exact count into an estimate.
const boundedCountTimeout = 200

type countKey struct {
	customerID string
	status     Status
	priority   int // Priority.Rank
	shard      int
}

func countShard(ticketID string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(ticketID))
	return int(h.Sum32() % countShards)
}

// adjustCounts moves the counters from a ticket's stored state before a
// change (nil when the change creates it) to its state after. It must run in
// the change's transaction. Changes that keep the status, the priority, the
// customer and the deleted flag write nothing.
func adjustCounts(tx *gorm.DB, before *Ticket, after Ticket) error {
	deltas := map[countKey]int64{}
	add := func(t *Ticket, d int64) {
		if t == nil || t.DeletedAt.Valid {
			return
		}
		shard, rank := countShard(t.ID), t.Priority.Rank()
		deltas[countKey{everyone, t.Status, rank, shard}] += d
		deltas[countKey{t.CustomerID, t.Status, rank, shard}] += d
	}
	add(before, -1)
	add(&after, 1)
	keys := make([]countKey, 0, len(deltas))
	for k, d := range deltas {
		if d != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	// One statement, rows in a fixed order: transactions lock counter rows
	// in the same order and cannot deadlock on them.
	slices.SortFunc(keys, func(a, b countKey) int {
		return cmp.Or(strings.Compare(a.customerID, b.customerID), strings.Compare(string(a.status), string(b.status)),
			a.priority-b.priority, a.shard-b.shard)
	})
	var sql strings.Builder
	sql.WriteString("INSERT INTO ticket_counts (customer_id, status, priority, shard, n) VALUES ")
	args := make([]any, 0, 5*len(keys))
	for i, k := range keys {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, ?, ?)")
		args = append(args, k.customerID, string(k.status), k.priority, k.shard, deltas[k])
	}
	sql.WriteString(" ON CONFLICT (customer_id, status, priority, shard) DO UPDATE SET n = ticket_counts.n + excluded.n")
	if err := tx.Exec(sql.String(), args...).Error; err != nil {
		return fmt.Errorf("adjust ticket counts: %w", err)
	}
	return nil
}

// countedState reads what the counters know of a stored ticket: its id,
// customer, status, priority and deleted flag (and version). ApplyChange
// reads it before a change's conditional update; when that update then succeeds the
// row was at the version read, so this is the state the change replaced.
func countedState(tx *gorm.DB, id string) (*Ticket, error) {
	var t Ticket
	err := tx.Unscoped().Select("id", "customer_id", "status", "priority", "deleted_at", "version").Take(&t, "id = ?", id).Error
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// counterScope reports whether the counters can answer f: no filter but
// statuses, priorities and a customer.
func counterScope(f TicketFilter) bool {
	g := f
	g.Statuses, g.Priorities, g.CustomerID, g.Sort, g.Limit, g.After = nil, nil, "", "", 0, nil
	return reflect.ValueOf(g).IsZero()
}

// CountTickets counts the tickets matching f, ignoring its cursor and page
// size, and reports whether the count is exact (see the package's "Ticket
// counts"). It answers in about constant time on PostgreSQL.
func (s *Store) CountTickets(ctx context.Context, f TicketFilter) (total int64, exact bool, err error) {
	if counterScope(f) {
		n, err := s.countFromCounters(ctx, f)
		return n, true, wrap(err, "count tickets")
	}
	if s.db.Dialector.Name() != "postgres" {
		var n int64
		err := s.db.WithContext(ctx).Raw("SELECT count(*) FROM (?) s", s.filtered(ctx, f).Select("1").Limit(ExactCountLimit+1)).Scan(&n).Error
		if err == nil && n > ExactCountLimit {
			err = s.filtered(ctx, f).Count(&n).Error
		}
		return n, true, wrap(err, "count tickets")
	}
	// The planner's estimate is asked for on another connection while the
	// bounded count runs, so a count past ExactCountLimit costs no second
	// round trip; planning alone takes a fraction of the count's time.
	var (
		est    int64
		estErr error
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		est, estErr = s.estimateCount(ctx, f)
	}()
	n, err := s.boundedCount(ctx, f)
	<-done
	var pgErr *pgconn.PgError
	switch {
	case err == nil && n <= ExactCountLimit:
		return n, true, nil
	case err == nil, errors.As(err, &pgErr) && pgErr.Code == "57014": // query_canceled: the timeout
		if estErr != nil {
			return 0, false, wrap(estErr, "estimate ticket count")
		}
		if n > ExactCountLimit {
			est = max(est, n) // we counted that many
		}
		return est, false, nil
	default:
		return 0, false, wrap(err, "count tickets")
	}
}

func (s *Store) countFromCounters(ctx context.Context, f TicketFilter) (int64, error) {
	q := s.db.WithContext(ctx).Table("ticket_counts").Where("customer_id = ?", f.CustomerID)
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	if len(f.Priorities) > 0 {
		q = q.Where("priority IN ?", priorityRanks(f.Priorities))
	}
	var n int64
	err := q.Select("COALESCE(SUM(n), 0)").Scan(&n).Error
	return n, err
}

// boundedCount counts f's matches on PostgreSQL, stopping at
// ExactCountLimit+1 and giving up after boundedCountTimeout.
func (s *Store) boundedCount(ctx context.Context, f TicketFilter) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(fmt.Sprintf("SET LOCAL statement_timeout = %d", boundedCountTimeout)).Error; err != nil {
			return err
		}
		return tx.Raw("SELECT count(*) FROM (?) s", s.filtered(ctx, f).Select("1").Limit(ExactCountLimit+1)).Scan(&n).Error
	})
	return n, err
}

// estimateCount is the planner's estimate of f's matches.
func (s *Store) estimateCount(ctx context.Context, f TicketFilter) (int64, error) {
	var out string
	if err := s.db.WithContext(ctx).Raw("EXPLAIN (FORMAT JSON) ?", s.filtered(ctx, f).Select("1")).Row().Scan(&out); err != nil {
		return 0, err
	}
	var plan []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || len(plan) == 0 {
		return 0, fmt.Errorf("read the planner's estimate: %w (%q)", err, out)
	}
	return int64(plan[0].Plan.Rows), nil
}

// RecountTickets rebuilds the counters from the ticket rows, for a bulk load
// that bypassed ApplyChange. On PostgreSQL it blocks ticket writes while it
// runs.
func (s *Store) RecountTickets(ctx context.Context) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if tx.Dialector.Name() == "postgres" {
			if err := tx.Exec("LOCK TABLE tickets IN SHARE MODE").Error; err != nil {
				return err
			}
		}
		if err := tx.Exec("DELETE FROM ticket_counts").Error; err != nil {
			return err
		}
		return tx.Exec(fillTicketCounts).Error
	})
	return wrap(err, "recount tickets")
}

// fillTicketCounts fills an empty ticket_counts from the ticket rows (into
// shard 0).
const fillTicketCounts = `INSERT INTO ticket_counts (customer_id, status, priority, shard, n)
	SELECT '', status, priority, 0, count(*) FROM tickets WHERE deleted_at IS NULL GROUP BY status, priority
	UNION ALL
	SELECT CAST(customer_id AS TEXT), status, priority, 0, count(*) FROM tickets WHERE deleted_at IS NULL
	GROUP BY customer_id, status, priority`
