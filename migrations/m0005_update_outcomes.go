package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// updateOutcomes records, per ticket and Workflow Update ID, whether the
// change was committed or abandoned by its caller. The row is written in the
// change's own transaction, so a re-run of a workflow task finds its commit,
// and an API that stopped waiting can fence an update that never ran.
func updateOutcomes() *gormigrate.Migration {
	type ticketUpdate struct {
		TicketID    string    `gorm:"type:uuid;primaryKey"`
		UpdateID    string    `gorm:"type:varchar(255);primaryKey"`
		State       string    `gorm:"type:varchar(16);not null"`
		Version     int64     `gorm:"not null"`
		ReplyID     *string   `gorm:"type:uuid"`
		TimeEntryID *string   `gorm:"type:uuid"`
		CreatedAt   time.Time `gorm:"type:timestamptz;not null"`
	}
	return &gormigrate.Migration{
		ID: "0005_update_outcomes",
		Migrate: func(tx *gorm.DB) error {
			return tx.Migrator().CreateTable(&ticketUpdate{})
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(&ticketUpdate{})
		},
	}
}
