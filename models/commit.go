package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Outcomes of a Workflow Update, as recorded in ticket_updates.
const (
	OutcomeCommitted = "committed"
	OutcomeAbandoned = "abandoned"
)

// ErrAbandoned is returned when a change's update was abandoned by its
// caller before the change could be committed: it must never be.
var ErrAbandoned = errors.New("update abandoned by its caller")

// TicketUpdate is the recorded outcome of one Workflow Update of a ticket.
type TicketUpdate struct {
	TicketID    string `gorm:"primaryKey"`
	UpdateID    string `gorm:"primaryKey"`
	State       string
	Version     int64
	ReplyID     *string
	TimeEntryID *string
	CreatedAt   time.Time
}

// Committed is the result of Commit: the ticket as stored and the seq of
// its last timeline event. Applied says this call wrote the change; Behind
// says the caller's copy of the ticket is older than the stored row (a
// change committed by an earlier attempt it does not know about), so
// nothing was written and the caller should adopt Ticket and LastSeq and
// compute its change again.
type Committed struct {
	Ticket  Ticket
	LastSeq int64
	Applied bool
	Behind  bool
	// Reply and TimeEntry are what a change already committed under the
	// same update ID added.
	ReplyID     *string
	TimeEntryID *string
}

// errBehind rolls back a transaction whose ticket moved on.
var errBehind = errors.New("ticket is ahead of the change")

// Commit writes a change at most once, in one transaction. A change with an
// UpdateID is recorded under it: committing it again (a re-run workflow
// task) returns the first commit, and an update its caller abandoned is
// refused with ErrAbandoned. A non-create change applies only on top of
// version Ticket.Version-1 (compare-and-set); otherwise the stored row is
// returned with Behind set and nothing is written.
func (s *Store) Commit(ctx context.Context, c Change) (Committed, error) {
	if len(c.Events) == 0 {
		return Committed{}, fmt.Errorf("change to ticket %s records no event", c.Ticket.ID)
	}
	c.Ticket.SLAState, c.Ticket.SLADueAt = c.Ticket.SLA.Index()
	var out Committed
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var before *Ticket // counts: nil on create
		if c.UpdateID != "" {
			rec := TicketUpdate{TicketID: c.Ticket.ID, UpdateID: c.UpdateID, State: OutcomeCommitted,
				Version: c.Ticket.Version, CreatedAt: c.Ticket.UpdatedAt}
			if c.Reply != nil {
				rec.ReplyID = &c.Reply.ID
			}
			if c.TimeEntry != nil {
				rec.TimeEntryID = &c.TimeEntry.ID
			}
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rec)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				var prev TicketUpdate
				if err := tx.Take(&prev, "ticket_id = ? AND update_id = ?", c.Ticket.ID, c.UpdateID).Error; err != nil {
					return err
				}
				if prev.State != OutcomeCommitted {
					return ErrAbandoned
				}
				cur, err := currentState(tx, c.Ticket.ID)
				out = cur
				out.ReplyID, out.TimeEntryID = prev.ReplyID, prev.TimeEntryID
				return err
			}
		}
		if c.Create {
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&c.Ticket)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return errBehind
			}
			if c.Idempotency != nil {
				if err := tx.Create(c.Idempotency).Error; err != nil {
					return err
				}
			}
		} else {
			if c.Prior != nil && c.Prior.ID == c.Ticket.ID && c.Prior.Version == c.Ticket.Version-1 {
				// The compare-and-set below holds the row to the version the
				// change was computed on: the prior state is the one it
				// replaces (counts).
				before = c.Prior
			} else {
				b, err := countedState(tx, c.Ticket.ID) // counts: the state this change replaces
				if err != nil {
					return err
				}
				before = b
			}
			if ok, err := updateOnVersion(tx, c); err != nil {
				return err
			} else if !ok {
				return errBehind
			}
		}
		if err := tx.Create(&c.Events).Error; err != nil {
			return err
		}
		if c.Reply != nil {
			if err := tx.Create(c.Reply).Error; err != nil {
				return err
			}
		}
		if c.TimeEntry != nil {
			if err := tx.Create(c.TimeEntry).Error; err != nil {
				return err
			}
		}
		// The row now holds exactly the change's ticket, and its timeline ends
		// with the change's last event: no need to read them back.
		stored := c.Stored()
		// counts: keep in the same transaction
		if err := adjustCounts(tx, before, stored); err != nil {
			return err
		}
		out = Committed{Ticket: stored, LastSeq: c.Events[len(c.Events)-1].Seq, Applied: true}
		return nil
	})
	if errors.Is(err, errBehind) {
		cur, err := currentState(s.db.WithContext(ctx), c.Ticket.ID)
		cur.Behind = true
		return cur, wrap(err, "commit change to ticket "+c.Ticket.ID)
	}
	if errors.Is(err, ErrAbandoned) {
		return Committed{}, fmt.Errorf("commit update %s of ticket %s: %w", c.UpdateID, c.Ticket.ID, ErrAbandoned)
	}
	return out, wrap(err, "commit change to ticket "+c.Ticket.ID)
}

// currentState reads a ticket (deleted or not) and its last event's seq.
func currentState(tx *gorm.DB, ticketID string) (Committed, error) {
	t, err := getTicketUnscoped(tx, ticketID)
	if err != nil {
		return Committed{}, err
	}
	var last int64
	if err := tx.Model(&Event{}).Where("ticket_id = ?", ticketID).
		Select("COALESCE(MAX(seq), 0)").Scan(&last).Error; err != nil {
		return Committed{}, err
	}
	return Committed{Ticket: t, LastSeq: last}, nil
}

// Settled is the outcome of an update whose caller stopped waiting.
type Settled struct {
	// Committed says the update's change was committed; Ticket is then
	// the ticket as stored now, with the reply or time entry it added.
	Committed bool
	Ticket    Ticket
	Reply     *Reply
	TimeEntry *TimeEntry
}

// SettleUpdate decides the outcome of an update whose caller stopped
// waiting: if its change was committed, it returns that commit; otherwise it
// records the update as abandoned, so that it can never commit later.
// Exactly one of the two happens, whatever runs concurrently.
func (s *Store) SettleUpdate(ctx context.Context, ticketID, updateID string) (Settled, error) {
	var out Settled
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		rec := TicketUpdate{TicketID: ticketID, UpdateID: updateID, State: OutcomeAbandoned,
			CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rec)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			return nil
		}
		var prev TicketUpdate
		if err := tx.Take(&prev, "ticket_id = ? AND update_id = ?", ticketID, updateID).Error; err != nil {
			return err
		}
		if prev.State != OutcomeCommitted {
			return nil
		}
		t, err := getTicketUnscoped(tx, ticketID)
		if err != nil {
			return err
		}
		out = Settled{Committed: true, Ticket: t}
		if prev.ReplyID != nil {
			out.Reply = &Reply{}
			if err := tx.Take(out.Reply, "id = ?", *prev.ReplyID).Error; err != nil {
				return err
			}
		}
		if prev.TimeEntryID != nil {
			out.TimeEntry = &TimeEntry{}
			if err := tx.Take(out.TimeEntry, "id = ?", *prev.TimeEntryID).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return out, wrap(err, "settle update "+updateID+" of ticket "+ticketID)
}

// updateOnVersion stores c's ticket over the row at version
// Ticket.Version-1 (compare-and-set) and reports whether that row was there.
func updateOnVersion(tx *gorm.DB, c Change) (bool, error) {
	t := c.Stored()
	res := tx.Unscoped().Model(&Ticket{}).
		Where("id = ? AND version = ?", t.ID, t.Version-1).
		Select("*").Omit("id", "number", "created_at", "created_by").
		Updates(&t)
	return res.RowsAffected == 1, res.Error
}
