package sqlitegorm

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// maxCachedStmts bounds the cache: gorm writes each call site's query with
// the same text every time, but a query with an IN list has one text per
// list length. Past the bound, queries run unprepared as before.
const maxCachedStmts = 512

// cacheable says whether a text is a query or a data change, which call
// sites repeat; save points (gorm names each one afresh), schema changes
// and pragmas run once and stay one-shot.
func cacheable(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	for _, verb := range []string{"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"} {
		if len(q) >= len(verb) && strings.EqualFold(q[:len(verb)], verb) {
			return true
		}
	}
	return false
}

// stmtCache holds a prepared statement per query text.
type stmtCache struct {
	db  *sql.DB
	max int

	mu    sync.RWMutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB, max int) *stmtCache {
	return &stmtCache{db: db, max: max, stmts: make(map[string]*sql.Stmt)}
}

// get returns query's prepared statement, preparing it on first use; nil
// when the text is not cacheable, the cache is full or the query does not
// prepare (its error then comes from running it unprepared, as it would
// have).
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	if !cacheable(query) {
		return nil
	}
	c.mu.RLock()
	st, ok := c.stmts[query]
	full := len(c.stmts) >= c.max
	c.mu.RUnlock()
	if ok || full {
		return st
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.stmts[query]; ok {
		_ = st.Close() // another caller prepared it first
		return prev
	}
	if len(c.stmts) >= c.max {
		_ = st.Close()
		return nil
	}
	c.stmts[query] = st
	return st
}

// len is the number of cached statements.
func (c *stmtCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.stmts)
}
