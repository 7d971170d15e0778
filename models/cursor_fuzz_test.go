package models

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// FuzzCursor checks the cursor codec both ways: any cursor ticketd makes
// decodes to itself under its own sort order only, and any string a client
// sends either decodes to a cursor that re-encodes to an equivalent one, or
// is ErrInvalidCursor.
func FuzzCursor(f *testing.F) {
	id := "0190b0a4-0000-7000-8000-000000000001"
	for _, c := range []Cursor{
		{Sort: "-created_at", Time: time.Date(2026, 11, 22, 12, 0, 0, 123456000, time.UTC), ID: id},
		{Sort: "priority", Time: time.Unix(0, 1).UTC(), Priority: 3, ID: id},
		{Sort: "users", Time: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), ID: id},
	} {
		f.Add(c.Encode(), c.Sort, c.Time.UnixNano(), int64(c.Priority), c.ID)
	}
	f.Add("%%%garbage", "-created_at", int64(1), int64(0), "x")
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"s":"-created_at","t":"2026-01-01T00:00:00Z","i":"x"}`)),
		"-created_at", int64(1), int64(0), "")
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"s":"-created_at","t":"2026-01-01T00:00:00+14:00","i":"`+id+`","p":1e3}`)),
		"-created_at", int64(-1), int64(-7), id)
	f.Fuzz(func(t *testing.T, s, sort string, nanos, priority int64, id string) {
		c, err := DecodeCursor(s, sort)
		switch {
		case err != nil && !errors.Is(err, ErrInvalidCursor):
			t.Fatalf("DecodeCursor(%q): error %v is not ErrInvalidCursor", s, err)
		case err == nil && s == "" && c != nil:
			t.Fatalf("empty cursor decoded to %+v", c)
		case err == nil && s != "":
			if c == nil || c.Sort != sort || c.Time.IsZero() || len(c.ID) != 36 {
				t.Fatalf("DecodeCursor(%q, %q) accepted %+v", s, sort, c)
			}
			again, err := DecodeCursor(c.Encode(), sort)
			if err != nil || !sameCursor(*again, *c) {
				t.Fatalf("cursor %+v re-encoded to %+v, %v", c, again, err)
			}
		}
		// Made by ticketd: a row's sort key (a sort order's name), with
		// the row's UUID.
		if !utf8.ValidString(sort) {
			return
		}
		if nanos == 0 {
			nanos = 1
		}
		made := Cursor{Sort: sort, Time: time.Unix(0, nanos).UTC(), Priority: int(priority % 8), ID: id}
		back, err := DecodeCursor(made.Encode(), sort)
		if _, perr := uuid.Parse(id); perr != nil || len(id) != 36 {
			if err == nil {
				t.Fatalf("cursor with id %q accepted", id)
			}
			return
		}
		if err != nil || !sameCursor(*back, made) {
			t.Fatalf("cursor %+v decoded to %+v, %v", made, back, err)
		}
		if sort != "" {
			if _, err := DecodeCursor(made.Encode(), sort+"x"); err == nil {
				t.Fatalf("cursor of sort %q accepted for %q", sort, sort+"x")
			}
		}
	})
}

func sameCursor(a, b Cursor) bool {
	return a.Sort == b.Sort && a.Time.Equal(b.Time) && a.Priority == b.Priority && strings.EqualFold(a.ID, b.ID)
}
