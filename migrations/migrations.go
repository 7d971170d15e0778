package migrations

import (
	"errors"
	"fmt"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// TableName is the table gormigrate keeps its history in.
const TableName = "schema_migrations"

// All returns every migration in order. IDs are never renamed or reordered.
func All() []*gormigrate.Migration {
	return []*gormigrate.Migration{
		initialSchema(),
		ticketTextSearch(),
		slaEngine(),
		webUI(),
		updateOutcomes(),
		ticketCounts(),
		ticketQueueIndexes(),
		ticketCountsByPriority(),
	}
}

// New returns a migrator for db. Each migration runs in its own transaction
// on both dialects.
func New(db *gorm.DB) *gormigrate.Gormigrate {
	return gormigrate.New(db, &gormigrate.Options{
		TableName:                 TableName,
		IDColumnName:              "id",
		IDColumnSize:              255,
		UseTransaction:            true,
		ValidateUnknownMigrations: true,
	}, All())
}

// Up applies every pending migration.
func Up(db *gorm.DB) error {
	if err := New(db).Migrate(); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// ErrUnknownTarget is returned by DownTo for an ID that is not a migration.
var ErrUnknownTarget = errors.New("unknown migration id")

// DownTo rolls back every applied migration after the one with ID to; an
// empty to rolls back everything.
func DownTo(db *gorm.DB, to string) error {
	all := All()
	if to != "" {
		found := false
		for _, m := range all {
			found = found || m.ID == to
		}
		if !found {
			return fmt.Errorf("migrate down to %q: %w", to, ErrUnknownTarget)
		}
	}
	m := New(db)
	for {
		st, err := Status(db)
		if err != nil {
			return err
		}
		last := ""
		for _, s := range st {
			if s.Applied {
				last = s.ID
			}
		}
		if last == "" || last == to {
			return nil
		}
		if err := m.RollbackMigration(find(all, last)); err != nil {
			return fmt.Errorf("roll back %s: %w", last, err)
		}
	}
}

func find(all []*gormigrate.Migration, id string) *gormigrate.Migration {
	for _, m := range all {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// State is one migration and whether it has been applied.
type State struct {
	ID      string
	Applied bool
}

// Status lists every known migration and whether it has been applied.
func Status(db *gorm.DB) ([]State, error) {
	applied := map[string]bool{}
	if db.Migrator().HasTable(TableName) {
		var ids []string
		if err := db.Table(TableName).Pluck("id", &ids).Error; err != nil {
			return nil, fmt.Errorf("read migration history: %w", err)
		}
		for _, id := range ids {
			applied[id] = true
		}
	}
	all := All()
	out := make([]State, len(all))
	for i, m := range all {
		out[i] = State{ID: m.ID, Applied: applied[m.ID]}
	}
	return out, nil
}
