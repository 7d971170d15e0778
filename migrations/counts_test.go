package migrations_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ticketd/ticketd/migrations"
	"github.com/ticketd/ticketd/models"
)

// TestTicketCountsBackfill: 0006_ticket_counts and then
// 0008_ticket_counts_by_priority fill the counters from the tickets stored
// before them, leaving out the soft-deleted ones; rolling 0008 back leaves
// 0006's counters, filled, and rolling 0006 back drops them.
func TestTicketCountsBackfill(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			if err := migrations.Up(db); err != nil {
				t.Fatalf("up: %v", err)
			}
			if err := migrations.DownTo(db, "0005_update_outcomes"); err != nil {
				t.Fatalf("down to 0005: %v", err)
			}
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			var customers []models.User
			for range 2 {
				u := models.User{ID: uuid.NewString(), Email: uuid.NewString() + "@example.com", Name: "c",
					Role: models.RoleCustomer, Active: true, CreatedAt: now, UpdatedAt: now}
				if err := db.Create(&u).Error; err != nil {
					t.Fatal(err)
				}
				customers = append(customers, u)
			}
			// customer 0: 3 new (2 urgent), 2 closed (one of them deleted);
			// customer 1: 1 open (urgent).
			rows := []struct {
				cust     int
				status   models.Status
				priority models.Priority
				deleted  bool
			}{{0, models.StatusNew, models.PriorityUrgent, false}, {0, models.StatusNew, models.PriorityUrgent, false},
				{0, models.StatusNew, models.PriorityNormal, false}, {0, models.StatusClosed, models.PriorityNormal, false},
				{0, models.StatusClosed, models.PriorityUrgent, true}, {1, models.StatusOpen, models.PriorityUrgent, false}}
			for i, r := range rows {
				c := customers[r.cust]
				tk := models.Ticket{ID: uuid.NewString(), Number: int64(i + 1), Subject: "s", Description: "d", Status: r.status,
					Priority: r.priority, CustomerID: c.ID, CreatedBy: c.ID, UpdatedBy: c.ID,
					CreatedAt: now, UpdatedAt: now, Version: 1}
				if r.deleted {
					tk.DeletedAt.Time, tk.DeletedAt.Valid = now, true
				}
				if err := db.Create(&tk).Error; err != nil {
					t.Fatal(err)
				}
			}
			if err := migrations.Up(db); err != nil {
				t.Fatalf("up: %v", err)
			}
			store := models.NewStore(db)
			for _, c := range []struct {
				name string
				f    models.TicketFilter
				want int64
			}{
				{"all", models.TicketFilter{}, 5},
				{"new", models.TicketFilter{Statuses: []models.Status{models.StatusNew}}, 3},
				{"closed", models.TicketFilter{Statuses: []models.Status{models.StatusClosed}}, 1},
				{"customer 0", models.TicketFilter{CustomerID: customers[0].ID}, 4},
				{"customer 1 open", models.TicketFilter{CustomerID: customers[1].ID, Statuses: []models.Status{models.StatusOpen}}, 1},
				{"customer 1 new", models.TicketFilter{CustomerID: customers[1].ID, Statuses: []models.Status{models.StatusNew}}, 0},
				{"urgent", models.TicketFilter{Priorities: []models.Priority{models.PriorityUrgent}}, 3},
				{"urgent new", models.TicketFilter{Priorities: []models.Priority{models.PriorityUrgent}, Statuses: []models.Status{models.StatusNew}}, 2},
				{"customer 0 normal", models.TicketFilter{CustomerID: customers[0].ID, Priorities: []models.Priority{models.PriorityNormal}}, 2},
				{"low", models.TicketFilter{Priorities: []models.Priority{models.PriorityLow}}, 0},
			} {
				n, exact, err := store.CountTickets(t.Context(), c.f)
				if err != nil || n != c.want || !exact {
					t.Errorf("%s: count = %d (exact %v), %v; want exactly %d", c.name, n, exact, err, c.want)
				}
			}
			var rowsInTable int64
			if err := db.Table("ticket_counts").Count(&rowsInTable).Error; err != nil || rowsInTable == 0 {
				t.Errorf("ticket_counts has %d rows, %v; want the backfill", rowsInTable, err)
			}
			if err := migrations.DownTo(db, "0007_ticket_queue_indexes"); err != nil {
				t.Fatalf("down to 0007: %v", err)
			}
			var byStatus []struct {
				Status string
				N      int64
			}
			if err := db.Raw(`SELECT status, SUM(n) AS n FROM ticket_counts WHERE customer_id = '' GROUP BY status ORDER BY status`).
				Scan(&byStatus).Error; err != nil {
				t.Fatalf("0006's counters after rolling back 0008: %v", err)
			}
			if got := fmt.Sprint(byStatus); got != "[{closed 1} {new 3} {open 1}]" {
				t.Errorf("0006's counters by status after rolling back 0008 = %s", got)
			}
			if db.Migrator().HasColumn("ticket_counts", "priority") {
				t.Error("ticket_counts kept its priority column after rolling back 0008")
			}
			if err := migrations.DownTo(db, "0005_update_outcomes"); err != nil {
				t.Fatalf("down to 0005: %v", err)
			}
			if db.Migrator().HasTable("ticket_counts") {
				t.Error("ticket_counts survived the rollback of 0006")
			}
		})
	}
}
