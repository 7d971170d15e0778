package migrations

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// webUI adds what the web UI needs: a password hash per user, and each
// ticket's SLA state and next due time as plain indexed columns (the ledger
// itself is JSON), filled in for the tickets that exist.
func webUI() *gormigrate.Migration {
	type user struct {
		PasswordHash string `gorm:"type:varchar(255);not null;default:''"`
	}
	type ticket struct {
		SLAState *string    `gorm:"column:sla_state;type:varchar(16)"`
		SLADueAt *time.Time `gorm:"column:sla_due_at;type:timestamptz"`
	}
	indexes := []string{
		`CREATE INDEX tickets_sla_due_idx ON tickets (sla_due_at, id) WHERE deleted_at IS NULL`,
		`CREATE INDEX tickets_sla_state_idx ON tickets (sla_state, sla_due_at, id) WHERE deleted_at IS NULL`,
	}
	return &gormigrate.Migration{
		ID: "0004_web_ui",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Table("users").Migrator().AddColumn(&user{}, "PasswordHash"); err != nil {
				return err
			}
			for _, col := range []string{"SLAState", "SLADueAt"} {
				if err := tx.Table("tickets").Migrator().AddColumn(&ticket{}, col); err != nil {
					return err
				}
			}
			if err := backfillSLAIndex(tx); err != nil {
				return err
			}
			for _, q := range indexes {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			for _, q := range []string{`DROP INDEX IF EXISTS tickets_sla_state_idx`, `DROP INDEX IF EXISTS tickets_sla_due_idx`} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			for _, col := range []string{"SLADueAt", "SLAState"} {
				if err := tx.Table("tickets").Migrator().DropColumn(&ticket{}, col); err != nil {
					return err
				}
			}
			return tx.Table("users").Migrator().DropColumn(&user{}, "PasswordHash")
		},
	}
}

// backfillSLAIndex derives sla_state and sla_due_at from the stored ledger
// of every ticket that has one, in batches. The derivation is frozen here
// (models.SLA.Index is the live one), as migrations import nothing of ours.
func backfillSLAIndex(tx *gorm.DB) error {
	type clock struct {
		Running  bool       `json:"running"`
		Stopped  bool       `json:"stopped"`
		Breached bool       `json:"breached"`
		DueAt    *time.Time `json:"due_at"`
		Warned   []float64  `json:"warned"`
	}
	type ledger struct {
		FirstResponse clock `json:"first_response"`
		Resolution    clock `json:"resolution"`
	}
	type row struct {
		ID  string
		SLA string
	}
	rank := map[string]int{"met": 0, "paused": 1, "running": 2, "warning": 3, "breached": 4}
	after := "00000000-0000-0000-0000-000000000000" // below every id, and a valid uuid
	for {
		var rows []row
		if err := tx.Table("tickets").Select("id, sla").Where("sla IS NOT NULL AND id > ?", after).
			Order("id").Limit(1000).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read ticket ledgers: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		for _, r := range rows {
			after = r.ID
			var l ledger
			if err := json.Unmarshal([]byte(r.SLA), &l); err != nil {
				return fmt.Errorf("ticket %s: sla: %w", r.ID, err)
			}
			state, due := "", (*time.Time)(nil)
			for _, c := range []clock{l.FirstResponse, l.Resolution} {
				s := "paused"
				switch {
				case c.Breached:
					s = "breached"
				case c.Stopped:
					s = "met"
				case len(c.Warned) > 0:
					s = "warning"
				case c.Running:
					s = "running"
				}
				if state == "" || rank[s] > rank[state] {
					state = s
				}
				if c.Running && !c.Stopped && c.DueAt != nil && (due == nil || c.DueAt.Before(*due)) {
					d := c.DueAt.UTC()
					due = &d
				}
			}
			if err := tx.Table("tickets").Where("id = ?", r.ID).
				Updates(map[string]any{"sla_state": state, "sla_due_at": due}).Error; err != nil {
				return fmt.Errorf("ticket %s: %w", r.ID, err)
			}
		}
	}
}
