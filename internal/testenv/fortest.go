package testenv

import (
	"testing"

	"go.temporal.io/server/temporaltest"
	"gorm.io/gorm"
)

// Postgres creates a fresh database for t and opens it; both are undone
// when t ends.
func Postgres(t testing.TB, prefix string) (*Database, *gorm.DB) {
	t.Helper()
	d, err := NewDatabase(prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Drop() })
	db, err := d.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB(db) })
	return d, db
}

// Temporal starts an in-process Temporal server for t (NewTemporal),
// stopped when t ends.
func Temporal(t testing.TB) *temporaltest.TestServer {
	t.Helper()
	ts, err := NewTemporal()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.Stop)
	return ts
}
