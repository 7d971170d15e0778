package migrations

import (
	"strings"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// ticketQueueIndexes adds the indexes of the two work queues, so a page of
// either reads about 20 index entries however many tickets there are:
//   - an agent's queue (assignee_id = X, a status that still needs work,
//     sorted by updated_at): only tickets not yet resolved or closed, by
//     assignee then last change;
//   - the unassigned tickets (assignee_id IS NULL, typically status new,
//     newest first): by status then creation.
//
// Resolved and closed tickets, most of them in an older database, are in
// neither, so both stay small.
func ticketQueueIndexes() *gormigrate.Migration {
	indexes := []struct{ name, def string }{
		{"tickets_assignee_queue_idx", `ON tickets (assignee_id, updated_at, id)%s
			WHERE deleted_at IS NULL AND status IN ('new', 'open', 'in_progress', 'pending', 'on_hold')`},
		{"tickets_unassigned_idx", `ON tickets (status, created_at, id) WHERE deleted_at IS NULL AND assignee_id IS NULL`},
	}
	return &gormigrate.Migration{
		ID: "0007_ticket_queue_indexes",
		Migrate: func(tx *gorm.DB) error {
			// On PostgreSQL the queue's index carries the status too, so
			// counting an agent's queue reads the index only.
			include := ""
			if tx.Dialector.Name() == "postgres" {
				include = " INCLUDE (status)"
			}
			for _, ix := range indexes {
				if err := tx.Exec("CREATE INDEX " + ix.name + " " + strings.ReplaceAll(ix.def, "%s", include)).Error; err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			for _, ix := range indexes {
				if err := tx.Exec("DROP INDEX IF EXISTS " + ix.name).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}
}
