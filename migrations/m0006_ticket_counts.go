package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// ticketCounts adds the ticket counters (one row per customer, status and
// shard; customer_id "" (empty) counts every customer's tickets) that the store keeps
// in the same transaction as each change, and fills them from the tickets
// already stored. On PostgreSQL it blocks ticket writes while it fills them,
// so no change slips between the count and the commit.
func ticketCounts() *gormigrate.Migration {
	type ticketCount struct {
		CustomerID string `gorm:"type:varchar(36);primaryKey"`
		Status     string `gorm:"type:varchar(16);primaryKey"`
		Shard      int16  `gorm:"type:smallint;primaryKey;autoIncrement:false"`
		N          int64  `gorm:"not null"`
	}
	return &gormigrate.Migration{
		ID: "0006_ticket_counts",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Migrator().CreateTable(&ticketCount{}); err != nil {
				return err
			}
			if tx.Dialector.Name() == "postgres" {
				if err := tx.Exec(`LOCK TABLE tickets IN SHARE MODE`).Error; err != nil {
					return err
				}
			}
			return tx.Exec(`INSERT INTO ticket_counts (customer_id, status, shard, n)
				SELECT '', status, 0, count(*) FROM tickets WHERE deleted_at IS NULL GROUP BY status
				UNION ALL
				SELECT CAST(customer_id AS TEXT), status, 0, count(*) FROM tickets WHERE deleted_at IS NULL GROUP BY customer_id, status`).Error
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(&ticketCount{})
		},
	}
}
