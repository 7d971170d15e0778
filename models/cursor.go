package models

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"
)

// ErrInvalidCursor is returned for a cursor that was not made by ticketd or
// was made for another sort order.
var ErrInvalidCursor = errors.New("invalid cursor")

// Cursor is the position after the last row of a page: the values of the
// sort key of that row. Clients see it only as an opaque string.
type Cursor struct {
	Sort     string    `json:"s"`
	Time     time.Time `json:"t"`
	Priority int       `json:"p,omitempty"`
	ID       string    `json:"i"`
	Seq      int64     `json:"q,omitempty"` // events: the last seq
	Null     bool      `json:"n,omitempty"` // sla_due_at: the last row had none
}

// Encode makes the opaque string form.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses an opaque cursor and checks it belongs to sort.
func DecodeCursor(s, sort string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrInvalidCursor
	}
	var c Cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != sort || c.ID == "" || c.Time.IsZero() {
		return nil, ErrInvalidCursor
	}
	return &c, nil
}
