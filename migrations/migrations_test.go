package migrations_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"gorm.io/gorm"

	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/migrations"
	"github.com/ticketd/ticketd/models"
)

// ticketdTables are the tables 0001_initial_schema creates.
var ticketdTables = []string{
	"categories", "counters", "idempotency_keys", "replies",
	"ticket_events", "tickets", "time_entries", "users",
}

// initialIndexes are the indexes 0001_initial_schema names, on both
// dialects: the unique ones declared on the frozen structs and the ones it
// creates by hand.
var initialIndexes = []string{
	"users_email_key", "tickets_number_key", "ticket_events_ticket_seq_key",
	"tickets_created_idx", "tickets_updated_idx", "tickets_priority_idx",
	"tickets_customer_idx", "tickets_status_idx", "tickets_assignee_idx",
	"tickets_category_idx", "replies_ticket_idx", "time_entries_ticket_idx",
	"users_role_idx", "users_created_idx", "categories_name_key",
}

// trigramIndexes are what 0002_ticket_text_search adds on PostgreSQL only.
var trigramIndexes = []string{"tickets_subject_trgm_idx", "tickets_description_trgm_idx"}

type dialect struct {
	name string
	open func(t *testing.T) *gorm.DB
}

// dialects opens a fresh, unmigrated database of each kind.
var dialects = []dialect{
	{"postgres", func(t *testing.T) *gorm.DB {
		d, err := testenv.NewDatabase("migrations")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := d.Drop(); err != nil {
				t.Errorf("drop %s: %v", d.Name, err)
			}
		})
		// Not d.Open: that migrates, and these tests migrate themselves.
		db, err := models.Open(d.DSN, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeDB(db) })
		return db
	}},
	{"sqlite", func(t *testing.T) *gorm.DB {
		db, err := models.Open("sqlite:"+filepath.Join(t.TempDir(), "t.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeDB(db) })
		return db
	}},
}

func closeDB(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		_ = s.Close()
	}
}

// tables lists the tables of the database's main schema.
func tables(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var names []string
	var err error
	if db.Dialector.Name() == "postgres" {
		err = db.Raw(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`).Scan(&names).Error
	} else {
		err = db.Raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).Scan(&names).Error
	}
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	return names
}

// indexes lists the indexes of the database's main schema.
func indexes(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var names []string
	var err error
	if db.Dialector.Name() == "postgres" {
		err = db.Raw(`SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname`).Scan(&names).Error
	} else {
		err = db.Raw(`SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name`).Scan(&names).Error
	}
	if err != nil {
		t.Fatalf("list indexes: %v", err)
	}
	return names
}

func applied(t *testing.T, db *gorm.DB) map[string]bool {
	t.Helper()
	st, err := migrations.Status(db)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	ids := make([]string, len(st))
	out := map[string]bool{}
	for i, s := range st {
		ids[i] = s.ID
		out[s.ID] = s.Applied
	}
	var want []string
	for _, m := range migrations.All() {
		want = append(want, m.ID)
	}
	if !slices.Equal(ids, want) {
		t.Fatalf("status lists %v, want every migration in order %v", ids, want)
	}
	return out
}

func wantAllApplied(t *testing.T, db *gorm.DB, want bool) {
	t.Helper()
	for id, ok := range applied(t, db) {
		if ok != want {
			t.Errorf("migration %s applied = %v, want %v", id, ok, want)
		}
	}
}

// wantSchema checks the tables and indexes of a fully migrated database.
func wantSchema(t *testing.T, db *gorm.DB) {
	t.Helper()
	have := tables(t, db)
	for _, name := range append(slices.Clone(ticketdTables), migrations.TableName) {
		if !slices.Contains(have, name) {
			t.Errorf("table %s missing; have %v", name, have)
		}
	}
	idx := indexes(t, db)
	want := slices.Clone(initialIndexes)
	if db.Dialector.Name() == "postgres" {
		want = append(want, trigramIndexes...)
	}
	for _, name := range want {
		if !slices.Contains(idx, name) {
			t.Errorf("index %s missing; have %v", name, idx)
		}
	}
}

// wantWorks writes and reads through the store on the migrated schema.
func wantWorks(t *testing.T, db *gorm.DB) {
	t.Helper()
	store := models.NewStore(db)
	ctx := t.Context()
	n1, err := store.NextTicketNumber(ctx)
	if err != nil {
		t.Fatalf("next ticket number: %v", err)
	}
	n2, err := store.NextTicketNumber(ctx)
	if err != nil {
		t.Fatalf("next ticket number: %v", err)
	}
	if n1 != 1 || n2 != 2 {
		t.Errorf("ticket numbers on a fresh schema = %d, %d; want 1, 2 (the counter is seeded by 0001)", n1, n2)
	}
	if _, _, err := store.ListTickets(ctx, models.TicketFilter{Sort: models.SortCreatedDesc, Limit: 10, Query: "x"}); err != nil {
		t.Errorf("list tickets: %v", err)
	}
}

func TestUpDownUp(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			wantAllApplied(t, db, false)

			if err := migrations.Up(db); err != nil {
				t.Fatalf("up: %v", err)
			}
			wantAllApplied(t, db, true)
			wantSchema(t, db)
			wantWorks(t, db)

			// Up again is a no-op.
			if err := migrations.Up(db); err != nil {
				t.Fatalf("second up: %v", err)
			}
			wantAllApplied(t, db, true)

			if err := migrations.DownTo(db, ""); err != nil {
				t.Fatalf("down to nothing: %v", err)
			}
			wantAllApplied(t, db, false)
			if got := tables(t, db); !slices.Equal(got, []string{migrations.TableName}) {
				t.Errorf("tables after a full rollback = %v, want only %s", got, migrations.TableName)
			}
			var rows int64
			if err := db.Table(migrations.TableName).Count(&rows).Error; err != nil {
				t.Fatal(err)
			}
			if rows != 0 {
				t.Errorf("%s has %d rows after a full rollback, want 0", migrations.TableName, rows)
			}
			for _, name := range indexes(t, db) {
				if slices.Contains(initialIndexes, name) || slices.Contains(trigramIndexes, name) {
					t.Errorf("index %s survived the rollback", name)
				}
			}

			if err := migrations.Up(db); err != nil {
				t.Fatalf("up after down: %v", err)
			}
			wantAllApplied(t, db, true)
			wantSchema(t, db)
			wantWorks(t, db)
		})
	}
}

func TestDownToTarget(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			if err := migrations.Up(db); err != nil {
				t.Fatalf("up: %v", err)
			}
			if err := migrations.DownTo(db, "0001_initial_schema"); err != nil {
				t.Fatalf("down to 0001: %v", err)
			}
			st := applied(t, db)
			if !st["0001_initial_schema"] || st["0002_ticket_text_search"] {
				t.Errorf("after down to 0001: applied = %v, want only 0001", st)
			}
			have := tables(t, db)
			for _, name := range ticketdTables {
				if !slices.Contains(have, name) {
					t.Errorf("table %s missing after rolling back 0002 only", name)
				}
			}
			idx := indexes(t, db)
			for _, name := range trigramIndexes {
				if slices.Contains(idx, name) {
					t.Errorf("index %s of 0002 survived its rollback", name)
				}
			}
			for _, name := range initialIndexes {
				if !slices.Contains(idx, name) {
					t.Errorf("index %s of 0001 missing after rolling back 0002 only", name)
				}
			}
			// Down to where we are is a no-op.
			if err := migrations.DownTo(db, "0001_initial_schema"); err != nil {
				t.Fatalf("second down to 0001: %v", err)
			}
			if err := migrations.Up(db); err != nil {
				t.Fatalf("up again: %v", err)
			}
			wantAllApplied(t, db, true)
			wantSchema(t, db)
		})
	}
}

func TestDownToUnknownTarget(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)
			if err := migrations.Up(db); err != nil {
				t.Fatalf("up: %v", err)
			}
			err := migrations.DownTo(db, "nope")
			if !errors.Is(err, migrations.ErrUnknownTarget) {
				t.Fatalf("down to nope = %v, want ErrUnknownTarget", err)
			}
			// Nothing was rolled back.
			wantAllApplied(t, db, true)
		})
	}
}
