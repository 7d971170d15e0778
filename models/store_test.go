package models_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/migrations"
	"github.com/ticketd/ticketd/models"
)

// dialects opens a fresh, migrated database of each kind ticketd supports.
var dialects = []struct {
	name string
	open func(t *testing.T) *gorm.DB
}{
	{"postgres", func(t *testing.T) *gorm.DB {
		d, err := testenv.NewDatabase("models")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := d.Drop(); err != nil {
				t.Errorf("drop %s: %v", d.Name, err)
			}
		})
		db, err := d.Open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeDB(db) })
		return db
	}},
	{"sqlite", func(t *testing.T) *gorm.DB {
		db, err := models.Open("sqlite:"+filepath.Join(t.TempDir(), "t.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeDB(db) })
		if err := migrations.Up(db); err != nil {
			t.Fatal(err)
		}
		return db
	}},
}

// eachDialect runs fn on a fresh store of each dialect.
func eachDialect(t *testing.T, fn func(t *testing.T, s *models.Store)) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) { fn(t, models.NewStore(d.open(t))) })
	}
}

func closeDB(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		_ = s.Close()
	}
}

var base = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func newID() string { return uuid.NewString() }

func newUser(t *testing.T, s *models.Store, role models.Role) models.User {
	t.Helper()
	id := newID()
	u := models.User{ID: id, Email: id + "@example.com", Name: "u", Role: role, Active: true, CreatedAt: base, UpdatedAt: base}
	if err := s.CreateUser(t.Context(), &u); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

// newTicket is the first version of a ticket of customer, as its workflow
// would compute it.
func newTicket(t *testing.T, s *models.Store, customer models.User, mod func(*models.Ticket)) models.Ticket {
	t.Helper()
	n, err := s.NextTicketNumber(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tk := models.Ticket{
		ID: newID(), Number: n, Subject: "subject", Description: "description",
		Status: models.StatusNew, Priority: models.PriorityNormal, CustomerID: customer.ID,
		CreatedBy: customer.ID, UpdatedBy: customer.ID, CreatedAt: base, UpdatedAt: base, Version: 1,
	}
	if mod != nil {
		mod(&tk)
	}
	return tk
}

func createChange(tk models.Ticket) models.Change {
	return models.Change{Ticket: tk, Create: true, Events: []models.Event{event(tk, 1, models.EventCreated)}}
}

func event(tk models.Ticket, seq int64, typ models.EventType) models.Event {
	return models.Event{
		ID: newID(), TicketID: tk.ID, Seq: seq, Type: typ, ActorID: tk.UpdatedBy,
		Data: models.EventData{"k": "v"}, CreatedAt: tk.UpdatedAt,
	}
}

func mustCreate(t *testing.T, s *models.Store, tk models.Ticket) models.Ticket {
	t.Helper()
	got, applied, err := s.ApplyChange(t.Context(), createChange(tk))
	if err != nil || !applied {
		t.Fatalf("create ticket: applied %v, %v", applied, err)
	}
	return got
}

func count(t *testing.T, s *models.Store, model any, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.DB().Unscoped().Model(model).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestApplyChangeIsIdempotent(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		cust := newUser(t, s, models.RoleCustomer)
		agent := newUser(t, s, models.RoleAgent)
		tk := newTicket(t, s, cust, nil)

		create := createChange(tk)
		create.Idempotency = &models.IdempotencyKey{UserID: cust.ID, Key: "k1", RequestHash: "h", TicketID: tk.ID, CreatedAt: base}
		first, applied, err := s.ApplyChange(ctx, create)
		if err != nil || !applied {
			t.Fatalf("create: applied %v, %v", applied, err)
		}
		again, applied, err := s.ApplyChange(ctx, create)
		if err != nil || applied {
			t.Fatalf("create again: applied %v, %v; want a no-op", applied, err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Errorf("retried create returned\n%+v\nwant\n%+v", again, first)
		}
		if first.Version != 1 || first.Number != tk.Number || first.Subject != tk.Subject || !first.CreatedAt.Equal(base) {
			t.Errorf("created ticket = %+v", first)
		}
		if n := count(t, s, &models.Ticket{}, "id = ?", tk.ID); n != 1 {
			t.Errorf("%d ticket rows, want 1", n)
		}
		if n := count(t, s, &models.Event{}, "ticket_id = ?", tk.ID); n != 1 {
			t.Errorf("%d event rows, want 1", n)
		}
		if n := count(t, s, &models.IdempotencyKey{}, "user_id = ?", cust.ID); n != 1 {
			t.Errorf("%d idempotency keys, want 1", n)
		}
		key, err := s.GetIdempotencyKey(ctx, cust.ID, "k1")
		if err != nil || key.TicketID != tk.ID {
			t.Errorf("idempotency key = %+v, %v", key, err)
		}

		// A reply: version 2, event 2, one reply row however often it is applied.
		v2 := first
		v2.Version, v2.UpdatedAt, v2.UpdatedBy = 2, base.Add(time.Minute), agent.ID
		v2.FirstResponseAt = &v2.UpdatedAt
		reply := &models.Reply{ID: newID(), TicketID: tk.ID, AuthorID: agent.ID, Body: "hi", CreatedAt: v2.UpdatedAt}
		change := models.Change{Ticket: v2, Events: []models.Event{event(v2, 2, models.EventReplied)}, Reply: reply}
		r1, applied, err := s.ApplyChange(ctx, change)
		if err != nil || !applied {
			t.Fatalf("reply: applied %v, %v", applied, err)
		}
		r2, applied, err := s.ApplyChange(ctx, change)
		if err != nil || applied {
			t.Fatalf("reply again: applied %v, %v; want a no-op", applied, err)
		}
		if !reflect.DeepEqual(r1, r2) {
			t.Errorf("retried reply returned\n%+v\nwant\n%+v", r2, r1)
		}
		if r1.Version != 2 || r1.FirstResponseAt == nil || !r1.UpdatedAt.Equal(v2.UpdatedAt) || r1.UpdatedBy != agent.ID {
			t.Errorf("ticket after reply = %+v", r1)
		}
		if n := count(t, s, &models.Reply{}, "ticket_id = ?", tk.ID); n != 1 {
			t.Errorf("%d reply rows, want 1", n)
		}
		if n := count(t, s, &models.Event{}, "ticket_id = ?", tk.ID); n != 2 {
			t.Errorf("%d event rows, want 2", n)
		}

		// A change computed from a stale version: the ticket is at 2, so a
		// change to version 2 (from 1) is refused and writes nothing.
		stale := first
		stale.Version, stale.UpdatedAt, stale.TimeSpentMinutes = 2, base.Add(2*time.Minute), 30
		entry := &models.TimeEntry{ID: newID(), TicketID: tk.ID, AuthorID: agent.ID, Minutes: 30, CreatedAt: stale.UpdatedAt}
		_, _, err = s.ApplyChange(ctx, models.Change{Ticket: stale, Events: []models.Event{event(stale, 3, models.EventTimeLogged)}, TimeEntry: entry})
		if !errors.Is(err, models.ErrConflict) {
			t.Fatalf("stale change: err = %v, want ErrConflict", err)
		}
		if n := count(t, s, &models.Event{}, "ticket_id = ?", tk.ID); n != 2 {
			t.Errorf("%d event rows after a refused change, want 2", n)
		}
		if n := count(t, s, &models.TimeEntry{}, "ticket_id = ?", tk.ID); n != 0 {
			t.Errorf("%d time entries after a refused change, want 0", n)
		}
		got, err := s.GetTicket(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r1) {
			t.Errorf("ticket after a refused change = %+v, want %+v", got, r1)
		}

		// A change with no event is a programming error, not a silent write.
		v3 := got
		v3.Version = 3
		if _, _, err := s.ApplyChange(ctx, models.Change{Ticket: v3}); err == nil {
			t.Error("a change without events was accepted")
		}
	})
}

// TestApplyChangeRefusesAnotherChangeAtATakenSeq: idempotency must key on
// the change, not only on its position. A different change computed for a
// seq that is already stored (the workflow's state is behind the database:
// a workflow task retried after local activities wrote, a reset in Temporal
// UI) must not be answered as applied while nothing is written.
func TestApplyChangeRefusesAnotherChangeAtATakenSeq(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		cust := newUser(t, s, models.RoleCustomer)
		agent := newUser(t, s, models.RoleAgent)
		first := mustCreate(t, s, newTicket(t, s, cust, nil))

		reply := func(body string, at time.Time) models.Change {
			v2 := first
			v2.Version, v2.UpdatedAt, v2.UpdatedBy = 2, at, agent.ID
			r := &models.Reply{ID: newID(), TicketID: v2.ID, AuthorID: agent.ID, Body: body, CreatedAt: at}
			ev := event(v2, 2, models.EventReplied)
			ev.Data = models.EventData{"reply_id": r.ID}
			return models.Change{Ticket: v2, Events: []models.Event{ev}, Reply: r}
		}
		a := reply("A", base.Add(time.Minute))
		if _, applied, err := s.ApplyChange(ctx, a); err != nil || !applied {
			t.Fatalf("reply A: applied %v, %v", applied, err)
		}
		b := reply("B", base.Add(2*time.Minute))
		_, applied, err := s.ApplyChange(ctx, b)
		var stored int64
		s.DB().Model(&models.Reply{}).Where("id = ?", b.Reply.ID).Count(&stored)
		switch {
		case errors.Is(err, models.ErrConflict):
		case err == nil && stored == 0:
			t.Errorf("a different change at a taken seq returned no error (applied=%v) and wrote nothing: reply %q lost", applied, b.Reply.Body)
		default:
			t.Errorf("reply B at a taken seq: applied %v, err %v, stored %d; want ErrConflict and nothing stored", applied, err, stored)
		}
	})
}

func TestNextTicketNumberConcurrent(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		const workers, each = 16, 20
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			all  []int64
			errs []error
		)
		for range workers {
			wg.Go(func() {
				var prev int64
				for range each {
					n, err := s.NextTicketNumber(context.Background())
					mu.Lock()
					switch {
					case err != nil:
						errs = append(errs, err)
					case n <= prev:
						errs = append(errs, fmt.Errorf("got %d after %d", n, prev))
					}
					all = append(all, n)
					mu.Unlock()
					if err != nil {
						return
					}
					prev = n
				}
			})
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("%d errors, first: %v", len(errs), errs[0])
		}
		slices.Sort(all)
		for i, n := range all {
			if n != int64(i+1) {
				t.Fatalf("numbers are not 1..%d without gaps or duplicates: position %d holds %d", workers*each, i, n)
			}
		}
	})
}

// less orders tickets as the list does for sortBy: its keyset columns, then id.
func less(sortBy string, a, b models.Ticket) bool {
	desc := sortBy[0] == '-'
	if desc {
		a, b = b, a
	}
	cmpTime := func(x, y time.Time) int { return x.Compare(y) }
	var c int
	switch sortBy {
	case models.SortCreatedAsc, models.SortCreatedDesc:
		c = cmpTime(a.CreatedAt, b.CreatedAt)
	case models.SortUpdatedAsc, models.SortUpdatedDesc:
		c = cmpTime(a.UpdatedAt, b.UpdatedAt)
	case models.SortPriorityAsc, models.SortPriorityDesc:
		c = a.Priority.Rank() - b.Priority.Rank()
		if c == 0 {
			c = cmpTime(a.CreatedAt, b.CreatedAt)
		}
	}
	if c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

func ids(ts []models.Ticket) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func TestListTicketsKeyset(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		cust := newUser(t, s, models.RoleCustomer)
		other := newUser(t, s, models.RoleCustomer)
		mustCreate(t, s, newTicket(t, s, other, nil)) // not in the customer's list

		// Ties in every sort column, and times with and without fractions of
		// a second (SQLite compares times as text).
		const n = 23
		var want []models.Ticket
		for i := range n {
			tk := newTicket(t, s, cust, func(tk *models.Ticket) {
				tk.CreatedAt = base.Add(time.Duration(i/3) * 250 * time.Millisecond)
				tk.UpdatedAt = base.Add(time.Hour + time.Duration((i*7)%n/2)*1500*time.Millisecond)
				tk.Priority = models.Priorities[(i*5)%4]
				tk.Subject = fmt.Sprintf("ticket %d", i)
			})
			want = append(want, mustCreate(t, s, tk))
		}

		for _, sortBy := range models.TicketSorts {
			t.Run(sortBy, func(t *testing.T) {
				exp := slices.Clone(want)
				sort.SliceStable(exp, func(i, j int) bool { return less(sortBy, exp[i], exp[j]) })
				for _, limit := range []int{1, 4, n - 1, n, 100} {
					var (
						got    []models.Ticket
						cursor string
						pages  int
					)
					for {
						after, err := models.DecodeCursor(cursor, sortBy)
						if err != nil {
							t.Fatalf("decode cursor %q: %v", cursor, err)
						}
						page, next, err := s.ListTickets(ctx, models.TicketFilter{CustomerID: cust.ID, Sort: sortBy, Limit: limit, After: after})
						if err != nil {
							t.Fatalf("list: %v", err)
						}
						pages++
						if len(page) > limit {
							t.Fatalf("page of %d tickets, limit %d", len(page), limit)
						}
						got = append(got, page...)
						if next == nil {
							break
						}
						if len(page) != limit {
							t.Fatalf("short page (%d of %d) with a next cursor", len(page), limit)
						}
						cursor = next.Encode()
						if pages > n+1 {
							t.Fatal("pagination does not end")
						}
					}
					if !slices.Equal(ids(got), ids(exp)) {
						t.Errorf("limit %d: order\n%v\nwant\n%v", limit, ids(got), ids(exp))
					}
					if wantPages := (n + limit - 1) / limit; pages != wantPages {
						t.Errorf("limit %d: %d pages, want %d (no empty last page)", limit, pages, wantPages)
					}
				}
				if !reflect.DeepEqual(exp[0], firstOf(t, s, sortBy, cust.ID)) {
					t.Errorf("listed ticket differs from the stored one")
				}
			})
		}

		// A cursor is only good for its own sort order.
		_, next, err := s.ListTickets(ctx, models.TicketFilter{CustomerID: cust.ID, Sort: models.SortCreatedAsc, Limit: 2})
		if err != nil || next == nil {
			t.Fatalf("list: %v, %v", next, err)
		}
		if _, err := models.DecodeCursor(next.Encode(), models.SortUpdatedAsc); !errors.Is(err, models.ErrInvalidCursor) {
			t.Errorf("cursor of another sort: %v, want ErrInvalidCursor", err)
		}
	})
}

func firstOf(t *testing.T, s *models.Store, sortBy, customerID string) models.Ticket {
	t.Helper()
	ts, _, err := s.ListTickets(t.Context(), models.TicketFilter{CustomerID: customerID, Sort: sortBy, Limit: 1})
	if err != nil || len(ts) != 1 {
		t.Fatalf("list: %v, %v", ts, err)
	}
	return ts[0]
}

func TestQueryEscapesLikeWildcards(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		cust := newUser(t, s, models.RoleCustomer)
		byName := map[string]string{}
		for _, c := range []struct{ name, subject, description string }{
			{"percent", "100% broken", "x"},
			{"hundred", "100 percent broken", "x"},
			{"underscore", "snake_case name", "x"},
			{"nounderscore", "snakeXcase name", "x"},
			{"backslash", `C:\temp fails`, "x"},
			{"noslash", "C:temp fails", "x"},
			{"indesc", "nothing here", "deep in the DESCRIPTION: 50%_off"},
		} {
			tk := mustCreate(t, s, newTicket(t, s, cust, func(tk *models.Ticket) {
				tk.Subject, tk.Description = c.subject, c.description
			}))
			byName[c.name] = tk.ID
		}
		for _, c := range []struct {
			q    string
			want []string
		}{
			{"100%", []string{"percent"}},
			{"%", []string{"percent", "indesc"}},
			{"_case", []string{"underscore"}},
			{"SNAKE_CASE", []string{"underscore"}},
			{"_", []string{"underscore", "indesc"}},
			{`C:\t`, []string{"backslash"}},
			{`\`, []string{"backslash"}},
			{"%_", []string{"indesc"}},
			{"description", []string{"indesc"}},
			{"broken", []string{"percent", "hundred"}},
		} {
			t.Run(c.q, func(t *testing.T) {
				f := models.TicketFilter{CustomerID: cust.ID, Query: c.q, Sort: models.SortCreatedAsc, Limit: 100}
				ts, _, err := s.ListTickets(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, name := range c.want {
					want = append(want, byName[name])
				}
				got := ids(ts)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					var subjects []string
					for _, tk := range ts {
						subjects = append(subjects, tk.Subject)
					}
					t.Errorf("q=%q found %q, want %v", c.q, subjects, c.want)
				}
				n, _, err := s.CountTickets(ctx, f)
				if err != nil || n != int64(len(want)) {
					t.Errorf("count q=%q = %d, %v; want %d", c.q, n, err, len(want))
				}
			})
		}
	})
}

func TestCountTickets(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		cust := newUser(t, s, models.RoleCustomer)
		other := newUser(t, s, models.RoleCustomer)
		agent := newUser(t, s, models.RoleAgent)
		for i := range 7 {
			mustCreate(t, s, newTicket(t, s, cust, func(tk *models.Ticket) {
				tk.Priority = models.Priorities[i%2] // 4 low, 3 normal
				if i < 2 {
					tk.AssigneeID = &agent.ID
				}
				tk.CreatedAt = base.Add(time.Duration(i) * time.Second)
			}))
		}
		mustCreate(t, s, newTicket(t, s, other, nil))
		after := base.Add(2500 * time.Millisecond)
		for _, c := range []struct {
			name string
			f    models.TicketFilter
			want int64
		}{
			{"customer", models.TicketFilter{CustomerID: cust.ID}, 7},
			{"all", models.TicketFilter{}, 8},
			{"low", models.TicketFilter{CustomerID: cust.ID, Priorities: []models.Priority{models.PriorityLow}}, 4},
			{"assignee", models.TicketFilter{AssigneeID: agent.ID}, 2},
			{"unassigned", models.TicketFilter{CustomerID: cust.ID, Unassigned: true}, 5},
			{"status", models.TicketFilter{Statuses: []models.Status{models.StatusNew, models.StatusOpen}}, 8},
			{"no status", models.TicketFilter{Statuses: []models.Status{models.StatusClosed}}, 0},
			{"created after", models.TicketFilter{CustomerID: cust.ID, CreatedAfter: &after}, 4},
			{"created before", models.TicketFilter{CustomerID: cust.ID, CreatedBefore: &after}, 3},
			{"cursor ignored", models.TicketFilter{CustomerID: cust.ID, After: &models.Cursor{Sort: models.SortCreatedAsc, Time: base.Add(time.Hour), ID: newID()}}, 7},
		} {
			t.Run(c.name, func(t *testing.T) {
				n, exact, err := s.CountTickets(ctx, c.f)
				if err != nil {
					t.Fatal(err)
				}
				if n != c.want || !exact {
					t.Errorf("count = %d (exact %v), want exactly %d", n, exact, c.want)
				}
				c.f.Sort, c.f.Limit, c.f.After = models.SortCreatedAsc, 100, nil
				ts, _, err := s.ListTickets(ctx, c.f)
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(ts)) != n {
					t.Errorf("list finds %d, count says %d", len(ts), n)
				}
			})
		}
	})
}

func TestSoftDeletedTicketIsHidden(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		cust := newUser(t, s, models.RoleCustomer)
		admin := newUser(t, s, models.RoleAdmin)
		kept := mustCreate(t, s, newTicket(t, s, cust, nil))
		tk := mustCreate(t, s, newTicket(t, s, cust, nil))

		del := tk
		del.Version, del.UpdatedAt, del.UpdatedBy = 2, base.Add(time.Minute), admin.ID
		out, _, err := s.ApplyChange(ctx, models.Change{Ticket: del, Delete: true, Events: []models.Event{event(del, 2, models.EventDeleted)}})
		if err != nil {
			t.Fatalf("delete: %v", err)
		}
		if !out.DeletedAt.Valid || out.Version != 2 {
			t.Errorf("deleted ticket as stored = %+v", out)
		}
		if _, err := s.GetTicket(ctx, tk.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("GetTicket of a deleted ticket: %v, want ErrNotFound", err)
		}
		if _, err := s.GetTicket(ctx, kept.ID); err != nil {
			t.Errorf("GetTicket of a live ticket: %v", err)
		}
		f := models.TicketFilter{CustomerID: cust.ID, Sort: models.SortCreatedDesc, Limit: 10}
		ts, _, err := s.ListTickets(ctx, f)
		if err != nil || !slices.Equal(ids(ts), []string{kept.ID}) {
			t.Errorf("list after delete = %v, %v; want only %s", ids(ts), err, kept.ID)
		}
		if n, _, err := s.CountTickets(ctx, f); err != nil || n != 1 {
			t.Errorf("count after delete = %d, %v; want 1", n, err)
		}
		// The rows stay.
		if n := count(t, s, &models.Ticket{}, "id = ? AND deleted_at IS NOT NULL", tk.ID); n != 1 {
			t.Errorf("soft-deleted rows = %d, want 1", n)
		}
		if evs, err := s.ListEvents(ctx, tk.ID, true); err != nil || len(evs) != 2 {
			t.Errorf("events of the deleted ticket = %d, %v; want 2", len(evs), err)
		}
	})
}

func TestCreateUserDuplicateEmail(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		mk := func(email string) *models.User {
			return &models.User{ID: newID(), Email: email, Name: "n", Role: models.RoleAgent, Active: true, CreatedAt: base, UpdatedAt: base}
		}
		first := mk("Alice@Example.com")
		if err := s.CreateUser(ctx, first); err != nil {
			t.Fatal(err)
		}
		if first.Email != "alice@example.com" {
			t.Errorf("stored email %q, want it lowercased", first.Email)
		}
		for _, email := range []string{"alice@example.com", "ALICE@EXAMPLE.COM", "aLiCe@example.Com"} {
			if err := s.CreateUser(ctx, mk(email)); !errors.Is(err, models.ErrConflict) {
				t.Errorf("create %s: %v, want ErrConflict", email, err)
			}
		}
		if got, err := s.GetUserByEmail(ctx, "ALICE@example.com"); err != nil || got.ID != first.ID {
			t.Errorf("get by email: %+v, %v", got, err)
		}
		if err := s.CreateUser(ctx, mk("bob@example.com")); err != nil {
			t.Errorf("another email: %v", err)
		}
		// Updating a user onto a taken email is a conflict too.
		bob, err := s.GetUserByEmail(ctx, "bob@example.com")
		if err != nil {
			t.Fatal(err)
		}
		bob.Email = "ALICE@example.com"
		if err := s.UpdateUser(ctx, &bob); !errors.Is(err, models.ErrConflict) {
			t.Errorf("update onto a taken email: %v, want ErrConflict", err)
		}
	})
}

func TestCreateCategoryDuplicateName(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		mk := func(name string) *models.Category {
			return &models.Category{ID: newID(), Name: name, CreatedAt: base}
		}
		if err := s.CreateCategory(ctx, mk("Billing")); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"Billing", "billing", "BILLING"} {
			if err := s.CreateCategory(ctx, mk(name)); !errors.Is(err, models.ErrConflict) {
				t.Errorf("create category %q: %v, want ErrConflict", name, err)
			}
		}
		if err := s.CreateCategory(ctx, mk("Billing 2")); err != nil {
			t.Errorf("another name: %v", err)
		}
		cs, err := s.ListCategories(ctx)
		if err != nil || len(cs) != 2 {
			t.Errorf("categories = %v, %v; want 2", cs, err)
		}
	})
}

func TestIsUnavailable(t *testing.T) {
	t.Run("unreachable postgres", func(t *testing.T) {
		db, err := models.Open("postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5", nil)
		if err == nil {
			closeDB(db)
			t.Fatal("opening a database nobody serves succeeded")
		}
		if !models.IsUnavailable(err) {
			t.Errorf("IsUnavailable(%v) = false", err)
		}
	})
	t.Run("plain errors", func(t *testing.T) {
		for _, err := range []error{nil, errors.New("syntax error at or near"), models.ErrConflict, models.ErrNotFound} {
			if models.IsUnavailable(err) {
				t.Errorf("IsUnavailable(%v) = true", err)
			}
		}
		if !models.IsUnavailable(fmt.Errorf("x: %w", models.ErrUnavailable)) {
			t.Error("a wrapped ErrUnavailable is not unavailable")
		}
	})
	for _, d := range dialects {
		t.Run("closed "+d.name, func(t *testing.T) {
			db := d.open(t)
			s := models.NewStore(db)
			sqlDB, err := db.DB()
			if err != nil {
				t.Fatal(err)
			}
			if err := sqlDB.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Ping(t.Context()); !models.IsUnavailable(err) || !errors.Is(err, models.ErrUnavailable) {
				t.Errorf("Ping on a closed pool: %v, want ErrUnavailable", err)
			}
			_, err = s.GetUser(t.Context(), newID())
			if err == nil {
				t.Fatal("query on a closed pool succeeded")
			}
			if !models.IsUnavailable(err) {
				t.Errorf("IsUnavailable(%q) = false for a query on a closed pool; the API would answer 500, not 503", err)
			}
		})
	}
	t.Run("terminated postgres sessions", func(t *testing.T) {
		db := dialects[0].open(t)
		s := models.NewStore(db)
		ctx := t.Context()
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		// Kill every session of the pool from another connection, as a
		// database restart or failover would.
		admin, err := models.Open(testenv.BaseDSN(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer closeDB(admin)
		var name string
		if err := db.Raw("SELECT current_database()").Scan(&name).Error; err != nil {
			t.Fatal(err)
		}
		if err := admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()", name).Error; err != nil {
			t.Fatal(err)
		}
		// database/sql may transparently retry on a fresh connection; if it
		// does not, the error must read as unavailable.
		for range 3 {
			if _, err := s.GetUser(ctx, newID()); err != nil && !errors.Is(err, models.ErrNotFound) && !models.IsUnavailable(err) {
				t.Errorf("query on a terminated session: IsUnavailable(%v) = false", err)
			}
		}
	})
}

// On SQLite the allocation takes a writer's turn: with a busy timeout of
// zero, a writer that met another in SQLite itself would fail at once.
func TestNextTicketNumberTakesTurns(t *testing.T) {
	dsn := "file:" + filepath.Join(t.TempDir(), "t.db") +
		"?_pragma=busy_timeout(0)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate&_time_format=sqlite"
	db, err := models.Open("sqlite:"+dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB(db) })
	if err := migrations.Up(db); err != nil {
		t.Fatal(err)
	}
	s := models.NewStore(db)
	var wg sync.WaitGroup
	errs := make(chan error, 16*20)
	for range 16 {
		wg.Go(func() {
			for range 20 {
				if _, err := s.NextTicketNumber(context.Background()); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
