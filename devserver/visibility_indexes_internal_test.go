package devserver

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	persistencesql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/resolver"
)

func TestKeepIndex(t *testing.T) {
	mapped := map[string]bool{"Keyword02": true, "Int02": true}
	for _, tc := range []struct {
		column sql.NullString
		keep   bool
	}{
		{sql.NullString{}, true}, // default_idx: an expression
		{sql.NullString{String: "status", Valid: true}, true},
		{sql.NullString{String: "workflow_type_name", Valid: true}, true},
		{sql.NullString{String: "workflow_id", Valid: true}, true},
		{sql.NullString{String: "TemporalNamespaceDivision", Valid: true}, true},
		{sql.NullString{String: "Keyword02", Valid: true}, true},
		{sql.NullString{String: "Int02", Valid: true}, true},
		{sql.NullString{String: "Keyword01", Valid: true}, false},
		{sql.NullString{String: "Datetime01", Valid: true}, false},
		{sql.NullString{String: "history_length", Valid: true}, false},
		{sql.NullString{String: "parent_workflow_id", Valid: true}, false},
		{sql.NullString{String: "TemporalKeyword01", Valid: true}, false},
		{sql.NullString{String: "TemporalScheduledById", Valid: true}, false},
	} {
		if got := keepIndex(tc.column, mapped); got != tc.keep {
			t.Errorf("keepIndex(%q, valid %v) = %v, want %v", tc.column.String, tc.column.Valid, got, tc.keep)
		}
	}
}

// BenchmarkVisibilityWrite times the history service's write of a
// workflow's visibility row after a change of its search attributes, through
// Temporal's SQLite plugin on the dev server's settings, with every index of
// the schema, with the indexes of unmapped custom-attribute columns dropped
// (the rule before), and with pruneVisibilityIndexes' rule.
//
//	go test -run '^$' -bench VisibilityWrite ./devserver
func BenchmarkVisibilityWrite(b *testing.B) {
	// ticketd's 8 attributes, as the dev server maps them.
	mapped := map[string]bool{"Keyword01": true, "Keyword02": true, "Keyword03": true, "Keyword04": true,
		"Keyword05": true, "Keyword06": true, "Int01": true, "Datetime01": true}
	for _, rule := range []struct {
		name string
		keep func(sql.NullString) bool
	}{
		{"all", func(sql.NullString) bool { return true }},
		{"mapped-custom", func(c sql.NullString) bool { return !customColumn.MatchString(c.String) || mapped[c.String] }},
		{"pruned", func(c sql.NullString) bool { return keepIndex(c, mapped) }},
	} {
		b.Run(rule.name, func(b *testing.B) {
			ctx := context.Background()
			path := filepath.Join(b.TempDir(), VisibilityDBFile)
			cfg := sqliteConfig(path)
			cfg.ConnectAttributes["setup"] = "true"
			vis, err := persistencesql.NewSQLDB(sqlplugin.DbKindVisibility, cfg, resolver.NewNoopResolver(),
				log.NewNoopLogger(), metrics.NoopMetricsHandler)
			if err != nil {
				b.Fatal(err)
			}
			defer vis.Close()
			admin, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
			if err != nil {
				b.Fatal(err)
			}
			_, err = dropIndexes(ctx, admin, rule.keep)
			_ = admin.Close()
			if err != nil {
				b.Fatal(err)
			}
			const workflows = 100
			for i := range workflows {
				if _, err := vis.ReplaceIntoVisibility(ctx, visibilityRow(i, 1)); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := vis.ReplaceIntoVisibility(ctx, visibilityRow(i%workflows, int64(i+2))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// visibilityRow is ticket i's visibility row at version v.
func visibilityRow(i int, v int64) *sqlplugin.VisibilityRow {
	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	n := int64(20)
	attrs := sqlplugin.VisibilitySearchAttributes{
		"Keyword01": []string{"open", "in_progress"}[v%2], "Keyword02": "normal", "Keyword03": fmt.Sprintf("agent-%d", i%4),
		"Keyword04": fmt.Sprintf("customer-%d", i), "Keyword05": "billing", "Keyword06": "within", "Int01": int64(i),
		"Datetime01": start.Add(8 * time.Hour), "TemporalChangeVersion": []string{"ticket-v4-1"},
	}
	id := fmt.Sprintf("ticket-%d", i)
	return &sqlplugin.VisibilityRow{NamespaceID: "ns", RunID: fmt.Sprintf("run-%d", i), WorkflowTypeName: "TicketLifecycle",
		WorkflowID: id, StartTime: start, ExecutionTime: start, Status: 1, HistoryLength: &n, HistorySizeBytes: &n,
		StateTransitionCount: &n, Encoding: "Proto3", TaskQueue: "tickets", SearchAttributes: &attrs,
		RootWorkflowID: id, RootRunID: fmt.Sprintf("run-%d", i), Version: v}
}
