package sqlitegorm

import (
	"context"
	"database/sql"
	"sync"

	"gorm.io/gorm"
)

// pool is the connection pool. It keeps SQLite's single writer in Go, and
// prepares the statements of write transactions once per connection.
//
// Writers. SQLite lets one connection write at a time. A transaction that
// finds the write lock taken (BEGIN IMMEDIATE) gets SQLITE_BUSY, and
// SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20, 25, … ms between tries,
// so a write that waited for a 1 ms commit often slept 5 or 25 ms. Here a
// transaction, or a statement run outside one with Exec, waits for its turn
// before it takes a connection, and the next writer starts as soon as the
// last one commits. Reads take no turn: in WAL mode they never wait for the
// writer. Another process writing the same file (a ticketd admin command)
// still meets the busy handler.
//
// A write sent as a query (UPDATE … RETURNING with Raw and Scan) takes no
// turn outside a transaction, since the turn would have to last until its
// rows are closed: run such writes in a transaction.
//
// A writer must not wait for a second write of its own while it holds its
// turn (an Exec on the pool inside a transaction); SQLite would have made
// that statement wait for the transaction's lock until the busy timeout.
// And every transaction must end: gorm's Transaction commits or rolls back
// on every path, and ticketd begins none otherwise.
//
// Statements. SQLite compiles each statement it is given, and the driver
// finalizes it after one use, so every statement of a ticket change's
// transaction (the compare-and-set update, the event, the update record,
// the counts) was compiled anew each time. In a write transaction the pool
// runs a prepared statement per query text instead (stmtCache), which
// database/sql prepares once on each connection it runs on. Statements
// outside transactions stay one-shot: prepared too, they let writers meet
// SQLITE_BUSY now and then despite the turns (seen in TestWritersTakeTurns
// with a busy timeout of zero; the cause was not found), and on the hot path
// they are reads of one row, cheap to compile.
type pool struct {
	*sql.DB
	turn  chan struct{} // holds a value while a writer has its turn
	stmts *stmtCache
}

func newPool(db *sql.DB) *pool {
	return &pool{DB: db, turn: make(chan struct{}, 1), stmts: newStmtCache(db, maxCachedStmts)}
}

func (p *pool) take(ctx context.Context) error {
	select {
	case p.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *pool) give() { <-p.turn }

// GetDBConn lets gorm's DB() reach the *sql.DB.
func (p *pool) GetDBConn() (*sql.DB, error) { return p.DB, nil }

// BeginTx begins a transaction once it is this writer's turn; the turn ends
// with the transaction.
func (p *pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	if err := p.take(ctx); err != nil {
		return nil, err
	}
	t, err := p.DB.BeginTx(ctx, opts)
	if err != nil {
		p.give()
		return nil, err
	}
	return &tx{Tx: t, db: p.DB, stmts: p.stmts, give: sync.OnceFunc(p.give)}, nil
}

// ExecContext runs a statement outside a transaction in the writer's turn.
func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := p.take(ctx); err != nil {
		return nil, err
	}
	defer p.give()
	return p.DB.ExecContext(ctx, query, args...)
}

// tx is a transaction holding the writer's turn until it ends.
type tx struct {
	*sql.Tx
	db    *sql.DB
	stmts *stmtCache
	give  func()
}

// stmt is query's cached statement bound to this transaction's connection
// (prepared on it once, then reused by every transaction that gets it).
// The first use of a query prepares it on another connection of the pool
// as well (database/sql has no statement of the pool without one), so the
// pool needs two connections or more; models.Open gives it 8.
//
// Runs of the same text in one transaction share that statement: a query's
// rows must be closed before its text runs again there. gorm's Find, Take
// and Scan read every row before they return; a loop over Rows() that ran
// the same query inside would not be safe.
func (t *tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := t.stmts.get(ctx, query); st != nil {
		return t.StmtContext(ctx, st)
	}
	return nil
}

func (t *tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

func (t *tx) Commit() error {
	defer t.give()
	return t.Tx.Commit()
}

func (t *tx) Rollback() error {
	defer t.give()
	return t.Tx.Rollback()
}

// GetDBConn lets gorm's DB() reach the *sql.DB from inside a transaction.
func (t *tx) GetDBConn() (*sql.DB, error) { return t.db, nil }
