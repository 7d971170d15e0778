package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// slaDueOrder orders tickets by their soonest running SLA clock, those
// without one last, and continues after cursor.
func slaDueOrder(q *gorm.DB, after *Cursor) *gorm.DB {
	if after != nil {
		if after.Null {
			q = q.Where("sla_due_at IS NULL AND id > ?", after.ID)
		} else {
			q = q.Where("(sla_due_at > ? OR (sla_due_at = ? AND id > ?) OR sla_due_at IS NULL)", after.Time, after.Time, after.ID)
		}
	}
	return q.Order("sla_due_at ASC NULLS LAST").Order("id ASC")
}

// ---- passwords

type credentials struct {
	User
	PasswordHash string
}

// UserForLogin returns the user with email and their password hash ("" if
// they have none).
func (s *Store) UserForLogin(ctx context.Context, email string) (User, string, error) {
	var c credentials
	err := s.db.WithContext(ctx).Table("users").Take(&c, "email = ?", strings.ToLower(email)).Error
	return c.User, c.PasswordHash, wrap(err, "get user by email")
}

// PasswordHash returns a user's password hash, "" if they have none.
func (s *Store) PasswordHash(ctx context.Context, userID string) (string, error) {
	var hash string
	err := s.db.WithContext(ctx).Table("users").Select("password_hash").Where("id = ?", userID).Take(&hash).Error
	return hash, wrap(err, "get password of user "+userID)
}

// SetPasswordHash stores a user's password hash.
func (s *Store) SetPasswordHash(ctx context.Context, userID, hash string) error {
	res := s.db.WithContext(ctx).Table("users").Where("id = ?", userID).
		Updates(map[string]any{"password_hash": hash, "updated_at": time.Now().UTC().Truncate(time.Microsecond)})
	if res.Error == nil && res.RowsAffected == 0 {
		return fmt.Errorf("set password of user %s: %w", userID, ErrNotFound)
	}
	return wrap(res.Error, "set password of user "+userID)
}

// UsersByID returns the users with the given ids that exist, by id.
func (s *Store) UsersByID(ctx context.Context, ids []string) (map[string]User, error) {
	out := make(map[string]User, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var us []User
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&us).Error; err != nil {
		return nil, wrap(err, "get users")
	}
	for _, u := range us {
		out[u.ID] = u
	}
	return out, nil
}

// ---- a ticket's timeline, page by page

// GetReply returns one reply of a ticket; an internal one only withInternal.
func (s *Store) GetReply(ctx context.Context, ticketID, replyID string, withInternal bool) (Reply, error) {
	q := s.db.WithContext(ctx).Where("ticket_id = ? AND id = ?", ticketID, replyID)
	if !withInternal {
		q = q.Where("internal = ?", false)
	}
	var r Reply
	err := q.Take(&r).Error
	return r, wrap(err, "get reply "+replyID)
}

// PageReplies returns up to limit replies of a ticket after cursor, oldest
// first, and the cursor of the next page (nil on the last).
func (s *Store) PageReplies(ctx context.Context, ticketID string, withInternal bool, after *Cursor, limit int) ([]Reply, *Cursor, error) {
	q := s.db.WithContext(ctx).Where("ticket_id = ?", ticketID)
	if !withInternal {
		q = q.Where("internal = ?", false)
	}
	if after != nil {
		q = q.Where("(created_at, id) > (?, ?)", after.Time, after.ID)
	}
	rs := []Reply{}
	if err := q.Order("created_at, id").Limit(limit + 1).Find(&rs).Error; err != nil {
		return nil, nil, wrap(err, "list replies")
	}
	var next *Cursor
	if len(rs) > limit {
		rs = rs[:limit]
		last := rs[len(rs)-1]
		next = &Cursor{Sort: CursorReplies, Time: last.CreatedAt, ID: last.ID}
	}
	return rs, next, nil
}

// The lists of a ticket's timeline, as cursors name them.
const (
	CursorReplies     = "replies"
	CursorEvents      = "events"
	CursorTimeEntries = "time_entries"
)

// PageEvents returns up to limit events of a ticket with seq after
// afterSeq, by seq, and the cursor of the next page (nil on the last).
func (s *Store) PageEvents(ctx context.Context, ticketID string, withInternal bool, afterSeq int64, limit int) ([]Event, *Cursor, error) {
	q := s.db.WithContext(ctx).Where("ticket_id = ? AND seq > ?", ticketID, afterSeq)
	if !withInternal {
		q = q.Where("internal = ?", false)
	}
	es := []Event{}
	if err := q.Order("seq").Limit(limit + 1).Find(&es).Error; err != nil {
		return nil, nil, wrap(err, "list events")
	}
	var next *Cursor
	if len(es) > limit {
		es = es[:limit]
		last := es[len(es)-1]
		next = &Cursor{Sort: CursorEvents, Time: last.CreatedAt, ID: last.ID, Seq: last.Seq}
	}
	return es, next, nil
}

// LastEventSeq is the seq of a ticket's latest event, 0 if it has none.
func (s *Store) LastEventSeq(ctx context.Context, ticketID string) (int64, error) {
	var seq *int64
	err := s.db.WithContext(ctx).Model(&Event{}).Select("max(seq)").Where("ticket_id = ?", ticketID).Scan(&seq).Error
	if err != nil || seq == nil {
		return 0, wrap(err, "last event of ticket "+ticketID)
	}
	return *seq, nil
}

// PageTimeEntries returns up to limit time entries of a ticket after
// cursor, oldest first, and the cursor of the next page (nil on the last).
func (s *Store) PageTimeEntries(ctx context.Context, ticketID string, after *Cursor, limit int) ([]TimeEntry, *Cursor, error) {
	q := s.db.WithContext(ctx).Where("ticket_id = ?", ticketID)
	if after != nil {
		q = q.Where("(created_at, id) > (?, ?)", after.Time, after.ID)
	}
	es := []TimeEntry{}
	if err := q.Order("created_at, id").Limit(limit + 1).Find(&es).Error; err != nil {
		return nil, nil, wrap(err, "list time entries")
	}
	var next *Cursor
	if len(es) > limit {
		es = es[:limit]
		last := es[len(es)-1]
		next = &Cursor{Sort: CursorTimeEntries, Time: last.CreatedAt, ID: last.ID}
	}
	return es, next, nil
}

// ---- changes, for live updates

// TicketChange is a ticket's state after a change.
type TicketChange struct {
	ID        string
	Version   int64
	Status    Status
	UpdatedAt time.Time
}

// TicketChangesSince returns the tickets (not deleted) whose latest change
// comes after (since, afterID) in (updated_at, id) order, oldest change
// first, at most limit; only customerID's when it is not "".
func (s *Store) TicketChangesSince(ctx context.Context, since time.Time, afterID, customerID string, limit int) ([]TicketChange, error) {
	if afterID == "" {
		afterID = SystemActorID // the nil UUID sorts before every id
	}
	q := s.db.WithContext(ctx).Model(&Ticket{}).Select("id, version, status, updated_at").
		Where("(updated_at, id) > (?, ?)", since.UTC(), afterID)
	if customerID != "" {
		q = q.Where("customer_id = ?", customerID)
	}
	var out []TicketChange
	err := q.Order("updated_at, id").Limit(limit).Scan(&out).Error
	for i := range out {
		out[i].UpdatedAt = out[i].UpdatedAt.UTC()
	}
	return out, wrap(err, "list ticket changes")
}
