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
// columns have none; Temporal's own attributes are named Temporal…).
var customColumn = regexp.MustCompile(`^(Bool|Datetime|Double|Int|Keyword)[0-9]{2}$`)

// pruneVisibilityIndexes drops the indexes of the visibility file at path
// that cover a custom search attribute column no namespace maps an
// attribute to, and returns their names.
//
// SQLite visibility pre-allocates 22 such columns, each with an index, and
// the history service rewrites a workflow's whole row after every change of
// its search attributes: ticketd changes them with every ticket change.
// SQLite compiles that statement anew each time, with code to maintain
// every index, and then maintains them. With ticketd's 8 attributes, 14 of
// the 58 indexes cover columns nothing can hold; dropping them makes a
// change's visibility write about a quarter cheaper. A query on such a
// column (an attribute registered later) still works, by scanning the
// table, which is what a laptop's few thousand rows cost anyway.
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

	drop, err := unmappedIndexes(ctx, db, mapped)
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

// unmappedIndexes names the indexes of executions_visibility whose column
// after namespace_id is a custom-attribute column not in mapped.
func unmappedIndexes(ctx context.Context, db *sql.DB, mapped map[string]bool) ([]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT i.name, c.name FROM sqlite_master AS i, pragma_index_info(i.name) AS c
		WHERE i.type = 'index' AND i.tbl_name = 'executions_visibility' AND c.seqno = 1`)
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
		if customColumn.MatchString(column.String) && !mapped[column.String] {
			names = append(names, index)
		}
	}
	return names, rows.Err()
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
