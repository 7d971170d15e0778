package migrations_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ticketd/ticketd/migrations"
)

// TestWebUIBackfill checks that 0004_web_ui derives the SLA index columns
// of the tickets that exist, and rolls back.
func TestWebUIBackfill(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			if err := migrations.New(db).MigrateTo("0003_sla_engine"); err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
			user := uuid.NewString()
			if err := db.Table("users").Create(map[string]any{"id": user, "email": "b@example.com", "name": "B",
				"role": "customer", "active": true, "created_at": now, "updated_at": now}).Error; err != nil {
				t.Fatal(err)
			}
			ledgers := map[string]struct {
				sla, state string
				due        *time.Time
			}{
				"running": {`{"first_response":{"running":true,"due_at":"2026-03-01T10:00:00Z"},"resolution":{"running":true,"due_at":"2026-03-01T13:00:00Z"}}`, "running", ptr(now.Add(time.Hour))},
				"warning": {`{"first_response":{"running":true,"due_at":"2026-03-01T10:00:00Z","warned":[0.75]},"resolution":{"running":true,"due_at":"2026-03-01T13:00:00Z"}}`, "warning", ptr(now.Add(time.Hour))},
				"met":     {`{"first_response":{"stopped":true},"resolution":{"stopped":true}}`, "met", nil},
				"legacy":  {"", "", nil},
			}
			ids := map[string]string{}
			n := 0
			for name, l := range ledgers {
				n++
				id := uuid.NewString()
				ids[name] = id
				row := map[string]any{"id": id, "number": n, "subject": name, "description": "x", "status": "open", "priority": 2,
					"customer_id": user, "created_by": user, "updated_by": user, "created_at": now, "updated_at": now, "version": 1}
				if l.sla != "" {
					row["sla"] = l.sla
				}
				if err := db.Table("tickets").Create(row).Error; err != nil {
					t.Fatal(err)
				}
			}
			if err := migrations.Up(db); err != nil {
				t.Fatal(err)
			}
			for name, l := range ledgers {
				var got struct {
					SLAState *string
					SLADueAt *time.Time
				}
				if err := db.Table("tickets").Select("sla_state, sla_due_at").Where("id = ?", ids[name]).Take(&got).Error; err != nil {
					t.Fatal(err)
				}
				state := ""
				if got.SLAState != nil {
					state = *got.SLAState
				}
				if state != l.state {
					t.Errorf("%s: sla_state %q, want %q", name, state, l.state)
				}
				if (got.SLADueAt == nil) != (l.due == nil) || (l.due != nil && !got.SLADueAt.Equal(*l.due)) {
					t.Errorf("%s: sla_due_at %v, want %v", name, got.SLADueAt, l.due)
				}
			}
			if err := migrations.DownTo(db, "0003_sla_engine"); err != nil {
				t.Fatal(err)
			}
			for _, col := range []string{"sla_state", "sla_due_at"} {
				if db.Migrator().HasColumn("tickets", col) {
					t.Errorf("tickets.%s survived the rollback", col)
				}
			}
			if db.Migrator().HasColumn("users", "password_hash") {
				t.Error("users.password_hash survived the rollback")
			}
			if err := migrations.Up(db); err != nil {
				t.Fatalf("up again: %v", err)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
