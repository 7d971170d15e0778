package monitoring_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/monitoring"
)

// lines decodes JSON log output.
func lines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestLoggerCarriesContextAttributes(t *testing.T) {
	var buf bytes.Buffer
	log, err := monitoring.NewLogger(&buf, "info", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := monitoring.WithLogAttrs(context.Background(), "request_id", "r-1")
	monitoring.AddLogAttrs(ctx, "user_id", "u-1")
	monitoring.AddLogAttrs(ctx, "ticket_id", "t-1", "workflow_id", "ticket-t-1")
	log.InfoContext(ctx, "request", "status", 200)
	log.InfoContext(ctx, "explicit", "ticket_id", "t-2") // the record's own value wins, once
	log.Info("no context")
	child := monitoring.WithLogAttrs(ctx, "request_id", "r-2")
	monitoring.AddLogAttrs(child, "user_id", "u-2")
	log.InfoContext(ctx, "parent unchanged")
	log.InfoContext(child, "child")

	got := lines(t, &buf)
	if len(got) != 5 {
		t.Fatalf("%d records, want 5: %s", len(got), buf.String())
	}
	for _, c := range []struct {
		i    int
		want map[string]any
	}{
		{0, map[string]any{"msg": "request", "request_id": "r-1", "user_id": "u-1", "ticket_id": "t-1", "workflow_id": "ticket-t-1", "status": 200.0}},
		{1, map[string]any{"ticket_id": "t-2", "request_id": "r-1"}},
		{3, map[string]any{"request_id": "r-1", "user_id": "u-1"}},
		{4, map[string]any{"request_id": "r-2", "user_id": "u-2", "ticket_id": "t-1"}},
	} {
		for k, v := range c.want {
			if got[c.i][k] != v {
				t.Errorf("record %d: %s = %v, want %v (%v)", c.i, k, got[c.i][k], v, got[c.i])
			}
		}
	}
	if _, ok := got[2]["request_id"]; ok {
		t.Errorf("a record without context has a request_id: %v", got[2])
	}
	if n := strings.Count(strings.Split(buf.String(), "\n")[1], `"ticket_id"`); n != 1 {
		t.Errorf("ticket_id appears %d times in %s", n, strings.Split(buf.String(), "\n")[1])
	}
}

func TestNewLoggerRejectsBadSettings(t *testing.T) {
	for _, c := range []struct{ level, format string }{{"loud", "json"}, {"info", "xml"}} {
		if _, err := monitoring.NewLogger(&bytes.Buffer{}, c.level, c.format); err == nil {
			t.Errorf("NewLogger(%q, %q) accepted", c.level, c.format)
		}
	}
}

// TestGormLogger runs real queries on SQLite: slow queries and failures are
// logged with their duration and SQL, never with parameter values; a
// missing record is not an error worth a log line.
func TestGormLogger(t *testing.T) {
	var buf bytes.Buffer
	log, _ := monitoring.NewLogger(&buf, "debug", "json")
	open := func(slow time.Duration) *gorm.DB {
		db, err := models.Open("sqlite:"+filepath.Join(t.TempDir(), "t.db"), monitoring.NewGormLogger(log, slow))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if s, err := db.DB(); err == nil {
				_ = s.Close()
			}
		})
		if err := db.Exec("CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT)").Error; err != nil {
			t.Fatal(err)
		}
		return db
	}
	const secret = "carla.customer@example.com"

	t.Run("slow query", func(t *testing.T) {
		buf.Reset()
		db := open(time.Nanosecond)
		buf.Reset()
		if err := db.Exec("INSERT INTO people (email) VALUES (?)", secret).Error; err != nil {
			t.Fatal(err)
		}
		recs := lines(t, &buf)
		if len(recs) != 1 || recs[0]["msg"] != "slow query" || recs[0]["level"] != "WARN" {
			t.Fatalf("records %v, want one slow-query warning", recs)
		}
		sql, _ := recs[0]["sql"].(string)
		if !strings.Contains(sql, "INSERT INTO people") || !strings.Contains(sql, "?") {
			t.Errorf("sql = %q, want the statement with its placeholder", sql)
		}
		if _, ok := recs[0]["duration_ms"].(float64); !ok {
			t.Errorf("no duration_ms in %v", recs[0])
		}
		if strings.Contains(buf.String(), secret) {
			t.Errorf("a parameter value reached the log: %s", buf.String())
		}
	})
	t.Run("fast queries are quiet", func(t *testing.T) {
		db := open(time.Hour)
		buf.Reset()
		if err := db.Exec("INSERT INTO people (email) VALUES (?)", secret).Error; err != nil {
			t.Fatal(err)
		}
		if buf.Len() != 0 {
			t.Errorf("logged %s", buf.String())
		}
	})
	t.Run("failure", func(t *testing.T) {
		db := open(time.Hour)
		buf.Reset()
		err := db.Exec("INSERT INTO nobody (email) VALUES (?)", secret).Error
		if err == nil {
			t.Fatal("insert into a missing table succeeded")
		}
		recs := lines(t, &buf)
		if len(recs) != 1 || recs[0]["msg"] != "query failed" || recs[0]["level"] != "ERROR" || recs[0]["err"] == nil {
			t.Fatalf("records %v, want one query-failed error", recs)
		}
		if strings.Contains(buf.String(), secret) {
			t.Errorf("a parameter value reached the log: %s", buf.String())
		}
	})
	t.Run("record not found", func(t *testing.T) {
		db := open(time.Hour)
		buf.Reset()
		var p struct {
			ID    int
			Email string
		}
		err := db.Table("people").Where("email = ?", secret).First(&p).Error
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			t.Fatalf("First: %v, want not found", err)
		}
		if buf.Len() != 0 {
			t.Errorf("logged %s", buf.String())
		}
	})
}
