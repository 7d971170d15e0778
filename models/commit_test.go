package models_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/models"
)

// next is tk one version on, changed at offset d after base.
func nextVersion(tk models.Ticket, d time.Duration) models.Ticket {
	tk.Version++
	tk.UpdatedAt = base.Add(d)
	return tk
}

func TestCommitIsKeyedByUpdateID(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		cust := newUser(t, s, models.RoleCustomer)
		tk := newTicket(t, s, cust, nil)
		create := createChange(tk)
		create.UpdateID = "create"
		first, err := s.Commit(ctx, create)
		if err != nil || !first.Applied || first.Behind || first.LastSeq != 1 {
			t.Fatalf("create: %+v, %v", first, err)
		}

		// A re-run of the same update finds its commit and writes nothing.
		again, err := s.Commit(ctx, create)
		if err != nil || again.Applied || again.Behind || again.Ticket.Version != 1 {
			t.Fatalf("re-run create: %+v, %v", again, err)
		}

		v2 := nextVersion(tk, time.Minute)
		v2.Subject = "changed"
		reply := &models.Reply{ID: newID(), TicketID: tk.ID, AuthorID: cust.ID, Body: "hi", CreatedAt: v2.UpdatedAt}
		change := models.Change{Ticket: v2, Events: []models.Event{event(v2, 2, models.EventReplied)}, Reply: reply, UpdateID: "u-2"}
		got, err := s.Commit(ctx, change)
		if err != nil || !got.Applied || got.Ticket.Version != 2 || got.LastSeq != 2 {
			t.Fatalf("change: %+v, %v", got, err)
		}
		// The same update computed again, differently (a re-run workflow
		// task with other IDs and times), still finds the first commit.
		rerun := change
		rerun.Reply = &models.Reply{ID: newID(), TicketID: tk.ID, AuthorID: cust.ID, Body: "hi", CreatedAt: base.Add(2 * time.Minute)}
		rerun.Events = []models.Event{event(v2, 2, models.EventReplied)}
		got, err = s.Commit(ctx, rerun)
		if err != nil || got.Applied || got.Behind || got.ReplyID == nil || *got.ReplyID != reply.ID {
			t.Fatalf("re-run change: %+v, %v", got, err)
		}
		if n := count(t, s, &models.Reply{}, "ticket_id = ?", tk.ID); n != 1 {
			t.Errorf("replies = %d, want 1", n)
		}
		if n := count(t, s, &models.Event{}, "ticket_id = ?", tk.ID); n != 2 {
			t.Errorf("events = %d, want 2", n)
		}
	})
}

func TestCommitBehindAdoptsTheStoredTicket(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		cust := newUser(t, s, models.RoleCustomer)
		tk := mustCreate(t, s, newTicket(t, s, cust, nil))
		a := nextVersion(tk, time.Minute)
		a.Subject = "a"
		if _, err := s.Commit(ctx, models.Change{Ticket: a, Events: []models.Event{event(a, 2, models.EventUpdated)}, UpdateID: "a"}); err != nil {
			t.Fatal(err)
		}
		// Another update computed on version 1 (the workflow did not know
		// about a's commit) is refused with the stored row.
		b := nextVersion(tk, 2*time.Minute)
		b.Subject = "b"
		got, err := s.Commit(ctx, models.Change{Ticket: b, Events: []models.Event{event(b, 2, models.EventUpdated)}, UpdateID: "b"})
		if err != nil || !got.Behind || got.Applied || got.Ticket.Subject != "a" || got.Ticket.Version != 2 || got.LastSeq != 2 {
			t.Fatalf("stale change: %+v, %v", got, err)
		}
		// Nothing of b was kept, its update ID included: computed again on
		// the stored row, it commits.
		b = nextVersion(got.Ticket, 2*time.Minute)
		b.Subject = "b"
		got, err = s.Commit(ctx, models.Change{Ticket: b, Events: []models.Event{event(b, 3, models.EventUpdated)}, UpdateID: "b"})
		if err != nil || !got.Applied || got.Ticket.Version != 3 || got.LastSeq != 3 {
			t.Fatalf("change again: %+v, %v", got, err)
		}
	})
}

func TestSettleUpdate(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		cust := newUser(t, s, models.RoleCustomer)
		tk := mustCreate(t, s, newTicket(t, s, cust, nil))

		t.Run("a committed update is the answer", func(t *testing.T) {
			v := nextVersion(tk, time.Minute)
			entry := &models.TimeEntry{ID: newID(), TicketID: tk.ID, AuthorID: cust.ID, Minutes: 5, CreatedAt: v.UpdatedAt}
			v.TimeSpentMinutes = 5
			if _, err := s.Commit(ctx, models.Change{Ticket: v, Events: []models.Event{event(v, 2, models.EventTimeLogged)}, TimeEntry: entry, UpdateID: "done"}); err != nil {
				t.Fatal(err)
			}
			got, err := s.SettleUpdate(ctx, tk.ID, "done")
			if err != nil || !got.Committed || got.Ticket.Version != 2 || got.TimeEntry == nil || got.TimeEntry.ID != entry.ID {
				t.Fatalf("settle: %+v, %v", got, err)
			}
			tk = got.Ticket
		})

		t.Run("an update settled first can never commit", func(t *testing.T) {
			got, err := s.SettleUpdate(ctx, tk.ID, "late")
			if err != nil || got.Committed {
				t.Fatalf("settle: %+v, %v", got, err)
			}
			v := nextVersion(tk, 2*time.Minute)
			_, err = s.Commit(ctx, models.Change{Ticket: v, Events: []models.Event{event(v, 3, models.EventUpdated)}, UpdateID: "late"})
			if !errors.Is(err, models.ErrAbandoned) {
				t.Fatalf("commit after settle: %v, want ErrAbandoned", err)
			}
			if n := count(t, s, &models.Event{}, "ticket_id = ?", tk.ID); n != 2 {
				t.Errorf("events = %d, want 2", n)
			}
			// Settling again gives the same answer.
			if got, err := s.SettleUpdate(ctx, tk.ID, "late"); err != nil || got.Committed {
				t.Fatalf("settle again: %+v, %v", got, err)
			}
		})

		t.Run("racing a commit, exactly one wins", func(t *testing.T) {
			for i := range 20 {
				id := newID()
				v := nextVersion(tk, time.Duration(3+i)*time.Minute)
				var (
					wg        sync.WaitGroup
					committed bool
					commitErr error
					settled   models.Settled
					settleErr error
				)
				wg.Add(2)
				go func() {
					defer wg.Done()
					c, err := s.Commit(ctx, models.Change{Ticket: v, Events: []models.Event{event(v, v.Version, models.EventUpdated)}, UpdateID: id})
					committed, commitErr = err == nil && c.Applied, err
				}()
				go func() {
					defer wg.Done()
					settled, settleErr = s.SettleUpdate(ctx, tk.ID, id)
				}()
				wg.Wait()
				if settleErr != nil {
					t.Fatal(settleErr)
				}
				if committed != settled.Committed {
					t.Fatalf("round %d: committed %v (%v) but settled %+v", i, committed, commitErr, settled)
				}
				if !committed && !errors.Is(commitErr, models.ErrAbandoned) {
					t.Fatalf("round %d: commit failed with %v, want ErrAbandoned", i, commitErr)
				}
				if committed {
					tk = settled.Ticket
				}
			}
		})
	})
}
