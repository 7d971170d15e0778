package sqlitegorm

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// open opens a file database with the given busy timeout (ms).
func open(t *testing.T, busyTimeout int) *gorm.DB {
	t.Helper()
	dsn := fmt.Sprintf("file:%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_txlock=immediate",
		filepath.Join(t.TempDir(), "w.db"), busyTimeout)
	db, err := gorm.Open(Open(dsn), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(8) // as models.Open has it
	sqlDB.SetMaxIdleConns(8)
	t.Cleanup(func() { _ = sqlDB.Close() })
	if err := db.Exec(`CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO counters (id, n) VALUES (1, 0)`).Error; err != nil {
		t.Fatal(err)
	}
	return db
}

// increment adds one to the counter: in a read-modify-write transaction
// (as ticketd's commits are) when inTx, else with one statement.
func increment(db *gorm.DB, inTx bool) error {
	if !inTx {
		return db.Exec(`UPDATE counters SET n = n + 1 WHERE id = 1`).Error
	}
	return db.Transaction(func(tx *gorm.DB) error {
		var n int
		if err := tx.Raw(`SELECT n FROM counters WHERE id = 1`).Scan(&n).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE counters SET n = ? WHERE id = 1`, n+1).Error
	})
}

// hammer runs 16 writers of 40 increments each, with readers alongside
// while it does, and checks that every increment failed for no reason and
// none was lost.
func hammer(t *testing.T, db *gorm.DB, readers int) {
	const writers, each = 16, 40
	errs := make(chan error, writers*each+readers)
	stop := make(chan struct{})
	var rg sync.WaitGroup
	for range readers {
		rg.Add(1)
		go func() {
			defer rg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var n int
				if err := db.Raw(`SELECT n FROM counters WHERE id = 1`).Scan(&n).Error; err != nil {
					errs <- fmt.Errorf("reader: %w", err)
					return
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := increment(db, i%2 == 0); err != nil {
					errs <- fmt.Errorf("writer %d, write %d: %w", w, i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	if err := db.Raw(`SELECT n FROM counters WHERE id = 1`).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != writers*each {
		t.Fatalf("counter %d after %d increments: lost updates", n, writers*each)
	}
}

// With a busy timeout of zero, a writer that found the write lock taken
// would fail at once with SQLITE_BUSY instead of sleeping: only the pool's
// turns keep the writers apart (without them, most writes fail).
func TestWritersTakeTurns(t *testing.T) {
	hammer(t, open(t, 0), 0)
}

// Readers take no turn. A writer can still meet a short SQLITE_BUSY while a
// reader opens its snapshot (about one run in 25 of this test with a busy
// timeout of zero), which the busy timeout ticketd sets rides out.
func TestReadersBesideWriters(t *testing.T) {
	hammer(t, open(t, 10000), 4)
}

func TestTurnEndsWithTheTransaction(t *testing.T) {
	db := open(t, 0)
	// A failed transaction, a rolled-back one and a panicking one each give
	// the turn back: the write after them does not wait.
	boom := errors.New("boom")
	if err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE counters SET n = 5 WHERE id = 1`).Error; err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("transaction error %v, want boom", err)
	}
	func() {
		defer func() { _ = recover() }()
		_ = db.Transaction(func(tx *gorm.DB) error { panic("in a transaction") })
	}()
	// Nested transactions are save points inside the same turn.
	if err := db.Transaction(func(tx *gorm.DB) error {
		return tx.Transaction(func(tx2 *gorm.DB) error {
			return tx2.Exec(`UPDATE counters SET n = n + 1 WHERE id = 1`).Error
		})
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := db.WithContext(ctx).Exec(`UPDATE counters SET n = n + 1 WHERE id = 1`).Error; err != nil {
		t.Fatalf("write after the transactions: %v", err)
	}
	var n int
	if err := db.Raw(`SELECT n FROM counters WHERE id = 1`).Scan(&n).Error; err != nil || n != 2 {
		t.Fatalf("counter %d (%v), want 2: the failed transaction's write must be rolled back", n, err)
	}
}

func TestWaitingWriterHonoursItsContext(t *testing.T) {
	db := open(t, 0)
	sqlDB, _ := db.DB()
	holder, ok := db.Begin().Statement.ConnPool.(*tx)
	if !ok {
		t.Fatal("a transaction's pool is not the turn-holding tx")
	}
	defer func() { _ = holder.Rollback() }()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	werr := db.WithContext(ctx).Exec(`UPDATE counters SET n = 9 WHERE id = 1`).Error
	if !errors.Is(werr, context.DeadlineExceeded) {
		t.Fatalf("write while another holds the turn: %v, want the context's deadline", werr)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Fatalf("waited %v for a 50 ms deadline", waited)
	}
	if st := sqlDB.Stats(); st.InUse != 1 {
		t.Fatalf("%d connections in use, want 1 (the holder's): a waiting writer holds none", st.InUse)
	}
}

func TestTransactionStatementsArePreparedOnce(t *testing.T) {
	db := open(t, 0)
	p, ok := db.ConnPool.(*pool)
	if !ok {
		t.Fatalf("pool %T, want *pool", db.ConnPool)
	}
	for range 20 {
		if err := increment(db, true); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.stmts.len(); n != 2 {
		t.Fatalf("%d cached statements after 20 transactions of the same two, want 2", n)
	}
	// A schema change recompiles a cached statement (SQLite does on its
	// next step): the SELECT * cached before the change sees the new column.
	var row struct {
		N    int
		Note string
	}
	selectAll := func() error {
		return db.Transaction(func(tx *gorm.DB) error {
			return tx.Raw(`SELECT * FROM counters WHERE id = 1`).Scan(&row).Error
		})
	}
	if err := selectAll(); err != nil || row.N != 20 || row.Note != "" {
		t.Fatalf("row %+v (%v) before the schema change", row, err)
	}
	if n := p.stmts.len(); n != 3 {
		t.Fatalf("%d cached statements, want 3 with the SELECT *", n)
	}
	if err := db.Exec(`ALTER TABLE counters ADD COLUMN note TEXT NOT NULL DEFAULT 'x'`).Error; err != nil {
		t.Fatal(err)
	}
	if err := selectAll(); err != nil || row.N != 20 || row.Note != "x" {
		t.Fatalf("row %+v (%v), want n 20 and the new column", row, err)
	}
	if n := p.stmts.len(); n != 3 {
		t.Fatalf("%d cached statements after the schema change, want still 3", n)
	}
}

func TestOnlyRepeatedStatementsAreCached(t *testing.T) {
	db := open(t, 0)
	p := db.ConnPool.(*pool)
	// Nested transactions make save points, each under a name of its own.
	for range 5 {
		_ = db.Transaction(func(tx *gorm.DB) error {
			_ = tx.Transaction(func(tx2 *gorm.DB) error { return errors.New("roll back to the save point") })
			return tx.Exec(`CREATE TABLE IF NOT EXISTS t (x INTEGER)`).Error
		})
	}
	if n := p.stmts.len(); n != 0 {
		t.Fatalf("%d cached statements after save points and DDL, want none", n)
	}
	for _, tc := range []struct {
		query string
		want  bool
	}{
		{"SELECT 1", true}, {"  select 1", true}, {"(SELECT 1) UNION (SELECT 2)", true},
		{"INSERT INTO t VALUES (1)", true}, {"update t set x = 2", true}, {"DELETE FROM t", true},
		{"WITH a AS (SELECT 1) SELECT * FROM a", true},
		{"SAVEPOINT sp123", false}, {"RELEASE SAVEPOINT sp123", false}, {"CREATE INDEX i ON t (x)", false},
		{"PRAGMA foreign_keys", false}, {"", false},
	} {
		if got := cacheable(tc.query); got != tc.want {
			t.Errorf("cacheable(%q) = %v, want %v", tc.query, got, tc.want)
		}
	}
}

func TestStatementCacheIsBounded(t *testing.T) {
	db := open(t, 0)
	p := db.ConnPool.(*pool)
	p.stmts.max = 3
	for i := range 6 {
		// Six distinct texts: the last three run unprepared.
		q := fmt.Sprintf(`UPDATE counters SET n = n + %d WHERE id = 1`, i+1)
		if err := db.Transaction(func(tx *gorm.DB) error { return tx.Exec(q).Error }); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.Raw(`SELECT n FROM counters WHERE id = 1`).Scan(&n).Error; err != nil || n != 21 {
		t.Fatalf("counter %d (%v), want 1+…+6 = 21", n, err)
	}
	if got := p.stmts.len(); got != 3 {
		t.Fatalf("%d cached statements, want the bound of 3", got)
	}
}
