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
	return &gormigrate.Migration{
		ID: "0006_ticket_counts",
		Migrate: func(tx *gorm.DB) error {
			return createTicketCounts(tx, &ticketCountV1{}, fillTicketCountsV1)
		},
		Rollback: func(tx *gorm.DB) error {
			return tx.Migrator().DropTable(&ticketCountV1{})
		},
	}
}

// ticketCountV1 is a row of ticket_counts as 0006 made it.
type ticketCountV1 struct {
	CustomerID string `gorm:"type:varchar(36);primaryKey"`
	Status     string `gorm:"type:varchar(16);primaryKey"`
	Shard      int16  `gorm:"type:smallint;primaryKey;autoIncrement:false"`
	N          int64  `gorm:"not null"`
}

func (ticketCountV1) TableName() string { return "ticket_counts" }

const fillTicketCountsV1 = `INSERT INTO ticket_counts (customer_id, status, shard, n)
	SELECT '', status, 0, count(*) FROM tickets WHERE deleted_at IS NULL GROUP BY status
	UNION ALL
	SELECT CAST(customer_id AS TEXT), status, 0, count(*) FROM tickets WHERE deleted_at IS NULL GROUP BY customer_id, status`

// createTicketCounts creates ticket_counts with row's shape and fills it
// with fill. On PostgreSQL it first blocks ticket writes until the
// migration's transaction ends, so no change slips between the count and the
// commit.
func createTicketCounts(tx *gorm.DB, row any, fill string) error {
	if err := lockTickets(tx); err != nil {
		return err
	}
	if err := tx.Migrator().CreateTable(row); err != nil {
		return err
	}
	return tx.Exec(fill).Error
}

// lockTickets blocks ticket writes on PostgreSQL until the transaction ends.
func lockTickets(tx *gorm.DB) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	return tx.Exec(`LOCK TABLE tickets IN SHARE MODE`).Error
}
