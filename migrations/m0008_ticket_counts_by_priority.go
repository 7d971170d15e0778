package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// ticketCountsByPriority splits the ticket counters by priority as well, so
// that a count filtered by priority (with statuses, a customer or both) is
// exact at any size instead of an estimate past 10,000 matches. It rebuilds
// ticket_counts from the tickets, blocking ticket writes on PostgreSQL while
// it does.
func ticketCountsByPriority() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "0008_ticket_counts_by_priority",
		Migrate: func(tx *gorm.DB) error {
			return recreateTicketCounts(tx, &ticketCountV2{}, fillTicketCountsV2)
		},
		Rollback: func(tx *gorm.DB) error {
			return recreateTicketCounts(tx, &ticketCountV1{}, fillTicketCountsV1)
		},
	}
}

// recreateTicketCounts replaces ticket_counts with a table of row's shape
// filled by fill. Tickets are locked first, as a change takes its ticket row
// before its counter rows.
func recreateTicketCounts(tx *gorm.DB, row any, fill string) error {
	if err := lockTickets(tx); err != nil {
		return err
	}
	if err := tx.Migrator().DropTable("ticket_counts"); err != nil {
		return err
	}
	return createTicketCounts(tx, row, fill)
}

// ticketCountV2 is a row of ticket_counts from 0008 on; Priority is the
// tickets' priority column (its rank, 1 low to 4 urgent).
type ticketCountV2 struct {
	CustomerID string `gorm:"type:varchar(36);primaryKey"`
	Status     string `gorm:"type:varchar(16);primaryKey"`
	Priority   int16  `gorm:"type:smallint;primaryKey;autoIncrement:false"`
	Shard      int16  `gorm:"type:smallint;primaryKey;autoIncrement:false"`
	N          int64  `gorm:"not null"`
}

func (ticketCountV2) TableName() string { return "ticket_counts" }

const fillTicketCountsV2 = `INSERT INTO ticket_counts (customer_id, status, priority, shard, n)
	SELECT '', status, priority, 0, count(*) FROM tickets WHERE deleted_at IS NULL GROUP BY status, priority
	UNION ALL
	SELECT CAST(customer_id AS TEXT), status, priority, 0, count(*) FROM tickets WHERE deleted_at IS NULL
	GROUP BY customer_id, status, priority`
