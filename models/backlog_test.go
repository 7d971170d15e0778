package models_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ticketd/ticketd/models"
)

func TestCountOpenByStatus(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		cust := newUser(t, s, models.RoleCustomer)
		admin := newUser(t, s, models.RoleAdmin)
		for _, st := range []models.Status{models.StatusNew, models.StatusNew, models.StatusOpen,
			models.StatusPending, models.StatusResolved, models.StatusClosed, models.StatusClosed} {
			mustCreate(t, s, newTicket(t, s, cust, func(tk *models.Ticket) { tk.Status = st }))
		}
		// A deleted ticket is not in anybody's backlog.
		tk := mustCreate(t, s, newTicket(t, s, cust, func(tk *models.Ticket) { tk.Status = models.StatusOpen }))
		del := tk
		del.Version, del.UpdatedAt, del.UpdatedBy = 2, base.Add(time.Minute), admin.ID
		if _, _, err := s.ApplyChange(ctx, models.Change{Ticket: del, Delete: true, Events: []models.Event{event(del, 2, models.EventDeleted)}}); err != nil {
			t.Fatalf("delete: %v", err)
		}

		got, err := s.CountOpenByStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[models.Status]int64{models.StatusNew: 2, models.StatusOpen: 1, models.StatusPending: 1, models.StatusResolved: 1}
		if !maps.Equal(got, want) {
			t.Errorf("CountOpenByStatus = %v, want %v", got, want)
		}
	})
}

// TestCountOpenByStatusUsesTheStatusIndex: the scrape-time query must stay
// an index scan however many tickets there are.
func TestCountOpenByStatusUsesTheStatusIndex(t *testing.T) {
	s := models.NewStore(dialects[0].open(t))
	var plan []string
	err := s.DB().Connection(func(conn *gorm.DB) error {
		// An empty table makes a sequential scan the cheaper plan; forbid
		// it to see that the index can answer the query.
		if err := conn.Exec("SET enable_seqscan = off").Error; err != nil {
			return err
		}
		return conn.Raw(`EXPLAIN SELECT status, count(*) AS n FROM "tickets"
			WHERE status <> 'closed' AND "tickets"."deleted_at" IS NULL GROUP BY "status"`).Scan(&plan).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "tickets_status_idx") {
		t.Errorf("plan does not use tickets_status_idx:\n%s", strings.Join(plan, "\n"))
	}
}
