package models_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ticketd/ticketd/models"
)

// realCount is COUNT(*) over the live tickets matching where.
func realCount(t *testing.T, s *models.Store, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.DB().Model(&models.Ticket{}).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// wantCountsMatch checks every count the counters answer (all, by status,
// by priority, by both, by customer with either, several statuses) against
// COUNT(*).
func wantCountsMatch(t *testing.T, s *models.Store, customers []models.User, step string) {
	t.Helper()
	ctx := t.Context()
	check := func(f models.TicketFilter, where string, args ...any) {
		t.Helper()
		got, exact, err := s.CountTickets(ctx, f)
		if err != nil {
			t.Fatalf("%s: count %+v: %v", step, f, err)
		}
		if want := realCount(t, s, where, args...); got != want || !exact {
			t.Errorf("%s: count %+v = %d (exact %v), COUNT(*) = %d", step, f, got, exact, want)
		}
	}
	check(models.TicketFilter{}, "1 = 1")
	check(models.TicketFilter{Statuses: []models.Status{models.StatusOpen, models.StatusPending, models.StatusOnHold}},
		"status IN ?", []models.Status{models.StatusOpen, models.StatusPending, models.StatusOnHold})
	for _, st := range models.Statuses {
		check(models.TicketFilter{Statuses: []models.Status{st}}, "status = ?", st)
	}
	for _, p := range models.Priorities {
		check(models.TicketFilter{Priorities: []models.Priority{p}}, "priority = ?", p)
		check(models.TicketFilter{Priorities: []models.Priority{p}, Statuses: []models.Status{models.StatusOpen, models.StatusNew}},
			"priority = ? AND status IN ?", p, []models.Status{models.StatusOpen, models.StatusNew})
	}
	check(models.TicketFilter{Priorities: []models.Priority{models.PriorityHigh, models.PriorityUrgent}},
		"priority IN ?", []models.Priority{models.PriorityHigh, models.PriorityUrgent})
	for _, c := range customers {
		check(models.TicketFilter{CustomerID: c.ID, Priorities: []models.Priority{models.PriorityLow}},
			"customer_id = ? AND priority = ?", c.ID, models.PriorityLow)
		check(models.TicketFilter{CustomerID: c.ID}, "customer_id = ?", c.ID)
		for _, st := range models.Statuses {
			check(models.TicketFilter{CustomerID: c.ID, Statuses: []models.Status{st}}, "customer_id = ? AND status = ?", c.ID, st)
		}
	}
}

// TestCountersFollowRandomChanges applies a random sequence of creates,
// status changes, priority changes, other changes, deletes and retries through ApplyChange and
// checks the counters against COUNT(*) along the way.
func TestCountersFollowRandomChanges(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		rng := rand.New(rand.NewPCG(8, 5))
		customers := []models.User{newUser(t, s, models.RoleCustomer), newUser(t, s, models.RoleCustomer), newUser(t, s, models.RoleCustomer)}
		admin := newUser(t, s, models.RoleAdmin)
		var live []models.Ticket // current stored state of the tickets not deleted
		seq := map[string]int64{}
		now := base
		apply := func(c models.Change) models.Ticket {
			t.Helper()
			if rng.IntN(2) == 0 { // the write path keyed by Workflow Update ID
				c.UpdateID = newID()
				out, err := s.Commit(ctx, c)
				if err != nil || !out.Applied {
					t.Fatalf("commit %+v: %+v, %v", c.Ticket, out, err)
				}
				if rng.IntN(4) == 0 { // a re-run workflow task: finds its commit
					if again, err := s.Commit(ctx, c); err != nil || again.Applied {
						t.Fatalf("commit again: %+v, %v; want the first commit", again, err)
					}
				}
				return out.Ticket
			}
			out, applied, err := s.ApplyChange(ctx, c)
			if err != nil || !applied {
				t.Fatalf("apply %+v: applied %v, %v", c.Ticket, applied, err)
			}
			if rng.IntN(4) == 0 { // an activity retry: a no-op
				if _, applied, err := s.ApplyChange(ctx, c); err != nil || applied {
					t.Fatalf("retry: applied %v, %v; want a no-op", applied, err)
				}
			}
			return out
		}
		for step := range 200 {
			now = now.Add(time.Second)
			switch op := rng.IntN(10); {
			case op < 3 || len(live) == 0:
				tk := newTicket(t, s, customers[rng.IntN(len(customers))], func(tk *models.Ticket) {
					tk.CreatedAt, tk.UpdatedAt = now, now
					tk.Priority = models.Priorities[rng.IntN(len(models.Priorities))]
				})
				seq[tk.ID] = 1
				live = append(live, apply(createChange(tk)))
			default:
				i := rng.IntN(len(live))
				next := live[i]
				next.Version++
				next.UpdatedAt, next.UpdatedBy = now, admin.ID
				seq[next.ID]++
				typ := models.EventUpdated
				c := models.Change{Ticket: next}
				switch {
				case op < 7:
					next.Status = models.Statuses[rng.IntN(len(models.Statuses))]
					typ = models.EventStatusChanged
				case op < 8:
					next.Priority = models.Priorities[rng.IntN(len(models.Priorities))]
				case op < 9:
					next.Subject = fmt.Sprintf("subject %d", step)
				default:
					typ, c.Delete = models.EventDeleted, true
				}
				c.Ticket = next
				c.Events = []models.Event{event(next, seq[next.ID], typ)}
				out := apply(c)
				if c.Delete {
					live = append(live[:i], live[i+1:]...)
				} else {
					live[i] = out
				}
			}
			if step%25 == 24 {
				wantCountsMatch(t, s, customers, fmt.Sprintf("after step %d", step))
			}
		}
		// A change refused for a stale version leaves the counters alone.
		stale := live[0]
		stale.Status = models.StatusClosed
		if stale.Status == live[0].Status {
			stale.Status = models.StatusOpen
		}
		stale.UpdatedAt = now.Add(time.Second)
		seq[stale.ID]++
		if _, _, err := s.ApplyChange(ctx, models.Change{Ticket: stale, Events: []models.Event{event(stale, seq[stale.ID], models.EventStatusChanged)}}); err == nil {
			t.Fatal("a change at the stored version was applied")
		}
		if out, err := s.Commit(ctx, models.Change{Ticket: stale, UpdateID: newID(), Events: []models.Event{event(stale, seq[stale.ID], models.EventStatusChanged)}}); err != nil || out.Applied || !out.Behind {
			t.Fatalf("a commit at the stored version: %+v, %v; want Behind", out, err)
		}
		wantCountsMatch(t, s, customers, "after a refused change")

		// Rebuilding the counters from the rows changes no count.
		if err := s.RecountTickets(ctx); err != nil {
			t.Fatal(err)
		}
		wantCountsMatch(t, s, customers, "after a recount")
	})
}

// TestCountBeyondTheExactLimit: a filter the counters do not answer is
// counted exactly up to models.ExactCountLimit; past it PostgreSQL answers
// an estimate flagged inexact and SQLite counts on.
func TestCountBeyondTheExactLimit(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		cust := newUser(t, s, models.RoleCustomer)
		agent := newUser(t, s, models.RoleAgent)
		const many = models.ExactCountLimit + 50
		// A bulk load straight into the table, as cmd/readbench does, then
		// the counters rebuilt from it.
		batch := make([]models.Ticket, 0, many)
		for i := range many {
			tk := models.Ticket{
				ID: newID(), Number: int64(i + 1), Subject: "bulk", Description: "bulk", Status: models.StatusOpen,
				Priority: models.PriorityLow, CustomerID: cust.ID, CreatedBy: cust.ID, UpdatedBy: cust.ID,
				CreatedAt: base.Add(time.Duration(i) * time.Millisecond), UpdatedAt: base, Version: 1,
			}
			if i < 30 {
				tk.Priority, tk.AssigneeID = models.PriorityHigh, &agent.ID
			}
			batch = append(batch, tk)
		}
		if err := s.DB().CreateInBatches(batch, 500).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.RecountTickets(ctx); err != nil {
			t.Fatal(err)
		}
		postgres := s.DB().Dialector.Name() == "postgres"
		if postgres {
			if err := s.DB().Exec("ANALYZE tickets").Error; err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range []struct {
			name      string
			f         models.TicketFilter
			want      int64
			estimated bool // on PostgreSQL
		}{
			{"every ticket (counters)", models.TicketFilter{}, many, false},
			{"status (counters)", models.TicketFilter{Statuses: []models.Status{models.StatusOpen}}, many, false},
			{"customer and status (counters)", models.TicketFilter{CustomerID: cust.ID, Statuses: []models.Status{models.StatusOpen}}, many, false},
			{"priority (counters)", models.TicketFilter{Priorities: []models.Priority{models.PriorityLow}}, many - 30, false},
			{"few matches", models.TicketFilter{Priorities: []models.Priority{models.PriorityHigh}, AssigneeID: agent.ID}, 30, false},
			{"assignee", models.TicketFilter{AssigneeID: agent.ID, Statuses: []models.Status{models.StatusOpen}}, 30, false},
			{"exactly at the limit", models.TicketFilter{Priorities: []models.Priority{models.PriorityLow}, CreatedBefore: new(base.Add(time.Duration(models.ExactCountLimit+30) * time.Millisecond))}, models.ExactCountLimit, false},
			{"past the limit", models.TicketFilter{Priorities: []models.Priority{models.PriorityLow}, Unassigned: true}, many - 30, true},
			{"text past the limit", models.TicketFilter{Query: "bul"}, many, true},
		} {
			t.Run(c.name, func(t *testing.T) {
				n, exact, err := s.CountTickets(ctx, c.f)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case postgres && c.estimated:
					// An estimate: flagged, and never below what was counted.
					if exact || n <= models.ExactCountLimit {
						t.Errorf("count = %d, exact %v; want an estimate above %d flagged inexact", n, exact, models.ExactCountLimit)
					}
					if n < c.want/2 || n > c.want*2 {
						t.Errorf("estimate %d is far from the real %d", n, c.want)
					}
				case n != c.want || !exact:
					t.Errorf("count = %d, exact %v; want exactly %d", n, exact, c.want)
				}
			})
		}
	})
}

// TestCountersUnderConcurrentChanges: many transactions moving the same
// counters at once neither lose an update nor deadlock.
func TestCountersUnderConcurrentChanges(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		customers := []models.User{newUser(t, s, models.RoleCustomer), newUser(t, s, models.RoleCustomer)}
		admin := newUser(t, s, models.RoleAdmin)
		const workers, perWorker = 8, 12
		tickets := make([][]models.Ticket, workers)
		for w := range workers {
			for i := range perWorker {
				tickets[w] = append(tickets[w], newTicket(t, s, customers[(w+i)%2], nil))
			}
		}
		errs := make(chan error, workers)
		for w := range workers {
			go func() {
				errs <- func() error {
					for i, tk := range tickets[w] {
						if _, _, err := s.ApplyChange(ctx, createChange(tk)); err != nil {
							return err
						}
						next := tk
						next.Version, next.Status, next.UpdatedBy = 2, models.Statuses[1+(w+i)%6], admin.ID
						c := models.Change{Ticket: next, Events: []models.Event{event(next, 2, models.EventStatusChanged)}}
						if i%3 == 0 {
							c.Delete = true
						}
						if _, _, err := s.ApplyChange(ctx, c); err != nil {
							return err
						}
					}
					return nil
				}()
			}()
		}
		for range workers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		wantCountsMatch(t, s, customers, "after concurrent changes")
		if got := realCount(t, s, "1 = 1"); got != workers*perWorker*2/3 {
			t.Errorf("%d live tickets, want %d", got, workers*perWorker*2/3)
		}
	})
}
