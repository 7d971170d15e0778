package migrations

import (
	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// ticketTextSearch makes the q filter (case-insensitive substring of subject
// or description) an index scan on PostgreSQL with trigram indexes. SQLite,
// the single-machine default, scans.
func ticketTextSearch() *gormigrate.Migration {
	return &gormigrate.Migration{
		ID: "0002_ticket_text_search",
		Migrate: func(tx *gorm.DB) error {
			if tx.Dialector.Name() != "postgres" {
				return nil
			}
			for _, q := range []string{
				`CREATE EXTENSION IF NOT EXISTS pg_trgm`,
				`CREATE INDEX tickets_subject_trgm_idx ON tickets USING gin (subject gin_trgm_ops) WHERE deleted_at IS NULL`,
				`CREATE INDEX tickets_description_trgm_idx ON tickets USING gin (description gin_trgm_ops) WHERE deleted_at IS NULL`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
		Rollback: func(tx *gorm.DB) error {
			if tx.Dialector.Name() != "postgres" {
				return nil
			}
			for _, q := range []string{
				`DROP INDEX IF EXISTS tickets_description_trgm_idx`,
				`DROP INDEX IF EXISTS tickets_subject_trgm_idx`,
			} {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return nil
		},
	}
}
