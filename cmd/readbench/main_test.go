package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
)

// TestReadbenchSmall runs the whole benchmark at two small sizes on the
// tests' PostgreSQL: seeding, every query over HTTP, the table, and the
// databases dropped afterwards.
func TestReadbenchSmall(t *testing.T) {
	admin, err := models.Open(testenv.BaseDSN(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB(admin)
	benchDBs := func() []string {
		var names []string
		if err := admin.Raw(`SELECT datname FROM pg_database WHERE datname LIKE 'ticketd\_bench\_%\_5000' OR datname LIKE 'ticketd\_bench\_%\_6000'`).Scan(&names).Error; err != nil {
			t.Fatal(err)
		}
		return names
	}
	before := len(benchDBs())

	var out bytes.Buffer
	if err := run(t.Context(), []string{"--database-url", testenv.BaseDSN(), "--sizes", "5000,6000", "--requests", "10"}, &out, io.Discard); err != nil {
		t.Fatalf("readbench: %v\n%s", err, out.String())
	}
	table := out.String()
	for _, row := range []string{"get", "list (-created_at)", "agent queue (updated_at)", "unassigned new", "priority (-priority)",
		"text search (q)", "page 20 (cursor)", "count: all", "count: status", "count: agent queue", "count: priority",
		"count: created_after", "my-tickets (count=true)"} {
		if !strings.Contains(table, "\n"+row+" ") {
			t.Errorf("no row %q in\n%s", row, table)
		}
	}
	// Below 10,000 matches every count is exact.
	if strings.Contains(table, "estimate") || strings.Contains(table, "mixed") || !strings.Contains(table, "exact / exact") {
		t.Errorf("counts below 10,000 matches must be exact:\n%s", table)
	}
	if !strings.Contains(table, "6k/5k") {
		t.Errorf("no ratio column in\n%s", table)
	}
	if after := len(benchDBs()); after != before {
		t.Errorf("%d bench databases before, %d after: not dropped", before, after)
	}
}
