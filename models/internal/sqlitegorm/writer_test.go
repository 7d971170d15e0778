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

// open opens a file database whose busy timeout is zero: a writer that found
// the write lock taken would fail at once with SQLITE_BUSY instead of
// sleeping, so only the pool's turns keep the writers apart.
func open(t *testing.T) *gorm.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "w.db") +
		"?_pragma=busy_timeout(0)&_pragma=journal_mode(WAL)&_txlock=immediate"
	db, err := gorm.Open(Open(dsn), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(8)
	t.Cleanup(func() { _ = sqlDB.Close() })
	if err := db.Exec(`CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO counters (id, n) VALUES (1, 0)`).Error; err != nil {
		t.Fatal(err)
	}
	return db
}

func TestWritersTakeTurns(t *testing.T) {
	db := open(t)
	const writers, each = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				var err error
				if i%2 == 0 {
					// A read-modify-write transaction, as ticketd's commits are.
					err = db.Transaction(func(tx *gorm.DB) error {
						var n int
						if err := tx.Raw(`SELECT n FROM counters WHERE id = 1`).Scan(&n).Error; err != nil {
							return err
						}
						return tx.Exec(`UPDATE counters SET n = ? WHERE id = 1`, n+1).Error
					})
				} else {
					// A statement outside any transaction.
					err = db.Exec(`UPDATE counters SET n = n + 1 WHERE id = 1`).Error
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d, write %d: %w", w, i, err)
				}
			}
		}()
	}
	// Readers alongside take no turn and are never refused.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
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
	wg.Wait()
	close(stop)
	readers.Wait()
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

func TestTurnEndsWithTheTransaction(t *testing.T) {
	db := open(t)
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
	db := open(t)
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
