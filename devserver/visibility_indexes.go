package devserver

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	"go.temporal.io/api/workflowservice/v1"
)

// customColumn matches the columns SQLite visibility pre-allocates for
// custom search attributes that have an index each (Text and KeywordList
// columns have none: full-text tables serve them).
var customColumn = regexp.MustCompile(`^(Bool|Datetime|Double|Int|Keyword)[0-9]{2}$`)

// keptColumns are the system columns whose index stays: those of the queries
// the dev server's users make. Temporal UI's workflow list filters by
// status, type and workflow ID (its default order is default_idx, an index
// on an expression, which stays too) and counts by status; its schedules
// list filters by TemporalNamespaceDivision.
var keptColumns = map[string]bool{
	"status":                    true,
	"workflow_type_name":        true,
	"workflow_id":               true,
	"TemporalNamespaceDivision": true,
}

// pruneVisibilityIndexes drops the indexes of the visibility file at path
// that no query of the dev server's users needs, and returns their names.
// An index stays when its column (the one after namespace_id) is an
// expression, is in keptColumns, or is a custom-attribute column some
// namespace maps an attribute to.
//
// The history service rewrites a workflow's whole visibility row after
// every change of its search attributes, and ticketd changes them with
// every ticket change. SQLite compiles that statement anew each time, with
// code to maintain every index, then rewrites a page of each index and
// appends every page to its write-ahead log with two system calls. The
// schema has 58 indexes: one for each system column and each pre-allocated
// attribute column, used or not. With ticketd's 8 attributes 13 stay, and
// the write takes 3.4-3.5 ms instead of 6.0-7.0 ms with the 44 that the
// earlier rule kept, and 7.0-7.6 ms with all 58 (BenchmarkVisibilityWrite,
// 2 cores). A query on a column without an index (ParentWorkflowId,
// TemporalScheduledById, an attribute registered later) still works, by
// scanning the table: 12 to 38 ms at 10,000 workflows, measured once.
func pruneVisibilityIndexes(ctx context.Context, wf workflowservice.WorkflowServiceClient, path string) ([]string, error) {
	mapped, err := mappedColumns(ctx, wf)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("open visibility file %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	return dropIndexes(ctx, db, func(column sql.NullString) bool { return keepIndex(column, mapped) })
}

// dropIndexes drops the indexes of executions_visibility that keep refuses
// (see unneededIndexes) and returns the names of those it dropped.
func dropIndexes(ctx context.Context, db *sql.DB, keep func(column sql.NullString) bool) ([]string, error) {
	drop, err := unneededIndexes(ctx, db, keep)
	if err != nil {
		return nil, fmt.Errorf("list visibility indexes: %w", err)
	}
	for i, index := range drop {
		if _, err := db.ExecContext(ctx, `DROP INDEX IF EXISTS "`+strings.ReplaceAll(index, `"`, `""`)+`"`); err != nil {
			return drop[:i], fmt.Errorf("drop visibility index %s: %w", index, err)
		}
	}
	return drop, nil
}

// unneededIndexes names the indexes of executions_visibility that keep
// refuses, given the column after namespace_id (NULL for an expression).
// SQLite's own indexes (the primary key's) have no SQL and are never listed.
func unneededIndexes(ctx context.Context, db *sql.DB, keep func(column sql.NullString) bool) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT i.name, c.name FROM sqlite_master AS i, pragma_index_info(i.name) AS c
		WHERE i.type = 'index' AND i.tbl_name = 'executions_visibility' AND i.sql IS NOT NULL AND c.seqno = 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var index string
		var column sql.NullString // NULL for an expression
		if err := rows.Scan(&index, &column); err != nil {
			return nil, err
		}
		if keep(column) {
			continue
		}
		names = append(names, index)
	}
	return names, rows.Err()
}

// keepIndex says whether the index whose second column is column stays.
func keepIndex(column sql.NullString, mapped map[string]bool) bool {
	switch {
	case !column.Valid:
		return true
	case customColumn.MatchString(column.String):
		return mapped[column.String]
	default:
		return keptColumns[column.String]
	}
}

// mappedColumns is the set of visibility columns some namespace's custom
// search attribute is stored in.
func mappedColumns(ctx context.Context, wf workflowservice.WorkflowServiceClient) (map[string]bool, error) {
	mapped := make(map[string]bool)
	var token []byte
	for {
		var resp *workflowservice.ListNamespacesResponse
		err := poll(ctx, func(ctx context.Context) error {
			var err error
			resp, err = wf.ListNamespaces(ctx, &workflowservice.ListNamespacesRequest{PageSize: 100, NextPageToken: token})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list namespaces: %w", err)
		}
		for _, ns := range resp.GetNamespaces() {
			for column := range ns.GetConfig().GetCustomSearchAttributeAliases() {
				mapped[column] = true
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return mapped, nil
		}
	}
}
