package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// User is a person who uses ticketd. The role comes from here, never from a
// token.
type User struct {
	ID        string    `gorm:"primaryKey" json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Category groups tickets.
type Category struct {
	ID        string    `gorm:"primaryKey" json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Ticket is one support request. Its workflow is its only writer; Version
// counts the changes and doubles as the ETag.
type Ticket struct {
	ID               string         `gorm:"primaryKey" json:"id"`
	Number           int64          `json:"number"`
	Subject          string         `json:"subject"`
	Description      string         `json:"description"`
	Status           Status         `json:"status"`
	StatusReason     *string        `json:"status_reason"`
	Priority         Priority       `json:"priority"`
	CategoryID       *string        `json:"category_id"`
	CustomerID       string         `json:"customer_id"`
	AssigneeID       *string        `json:"assignee_id"`
	CreatedBy        string         `json:"created_by"`
	UpdatedBy        string         `json:"updated_by"`
	CreatedAt        time.Time      `gorm:"autoCreateTime:false" json:"created_at"`
	UpdatedAt        time.Time      `gorm:"autoUpdateTime:false" json:"updated_at"`
	FirstResponseAt  *time.Time     `json:"first_response_at"`
	ResolvedAt       *time.Time     `json:"resolved_at"`
	ClosedAt         *time.Time     `json:"closed_at"`
	TimeSpentMinutes int            `json:"time_spent_minutes"`
	Version          int64          `json:"version"`
	FollowUpOf       *string        `json:"follow_up_of"`
	SLA              *SLA           `gorm:"serializer:json" json:"sla"`
	DeletedAt        gorm.DeletedAt `json:"-"`

	// SLAState and SLADueAt are derived from SLA (see SLA.Index) whenever
	// the ticket is stored, so lists can filter and sort on them by index.
	SLAState *string    `gorm:"column:sla_state" json:"-"`
	SLADueAt *time.Time `gorm:"column:sla_due_at" json:"-"`
}

// Reply is a message on a ticket; internal replies are notes for staff only.
type Reply struct {
	ID        string    `gorm:"primaryKey" json:"id"`
	TicketID  string    `json:"ticket_id"`
	AuthorID  string    `json:"author_id"`
	Body      string    `json:"body"`
	Internal  bool      `json:"internal"`
	CreatedAt time.Time `gorm:"autoCreateTime:false" json:"created_at"`
}

// EventType names an entry of a ticket's timeline.
type EventType string

// The timeline's event types.
const (
	EventCreated       EventType = "created"
	EventStatusChanged EventType = "status_changed"
	EventAssigned      EventType = "assigned"
	EventReplied       EventType = "replied"
	EventUpdated       EventType = "updated"
	EventTimeLogged    EventType = "time_logged"
	EventDeleted       EventType = "deleted"
	EventSLAWarning    EventType = "sla_warning"
	EventSLABreached   EventType = "sla_breached"
	EventEscalated     EventType = "escalated"
	EventAutoClosed    EventType = "auto_closed"
	EventAutoResolved  EventType = "auto_resolved"
)

// SystemActorID is the actor of changes ticketd makes by itself (SLA
// events, automatic closing).
const SystemActorID = "00000000-0000-0000-0000-000000000000"

// Event is one entry of a ticket's timeline. Seq numbers a ticket's events
// from 1 (one change may record two: the change and an automatic status
// move), so (ticket_id, seq) identifies an event and makes its persistence
// idempotent. Internal events are hidden from customers.
type Event struct {
	ID        string    `gorm:"primaryKey" json:"id"`
	TicketID  string    `json:"ticket_id"`
	Seq       int64     `json:"seq"`
	Type      EventType `json:"type"`
	ActorID   string    `json:"actor_id"`
	Internal  bool      `json:"internal"`
	Data      EventData `json:"data"`
	CreatedAt time.Time `gorm:"autoCreateTime:false" json:"created_at"`
}

// TableName keeps the table name explicit: "events" is too generic.
func (Event) TableName() string { return "ticket_events" }

// EventData is the type-specific part of an event, stored as JSON.
type EventData map[string]any

// Value stores the data as JSON text.
func (d EventData) Value() (driver.Value, error) {
	if d == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]any(d))
	return string(b), err
}

// Scan reads JSON text or bytes.
func (d *EventData) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*d = EventData{}
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan event data: unsupported type %T", src)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("scan event data: %w", err)
	}
	*d = m
	return nil
}

// TimeEntry is time an agent spent on a ticket.
type TimeEntry struct {
	ID        string    `gorm:"primaryKey" json:"id"`
	TicketID  string    `json:"ticket_id"`
	AuthorID  string    `json:"author_id"`
	Minutes   int       `json:"minutes"`
	Note      string    `json:"note"`
	CreatedAt time.Time `gorm:"autoCreateTime:false" json:"created_at"`
}

// IdempotencyKey remembers which ticket a caller's Idempotency-Key created,
// and a hash of the request, so a replay with another body is refused.
type IdempotencyKey struct {
	UserID      string `gorm:"primaryKey"`
	Key         string `gorm:"primaryKey"`
	RequestHash string
	TicketID    string
	CreatedAt   time.Time `gorm:"autoCreateTime:false"`
}

// Value stores a priority as its rank.
func (p Priority) Value() (driver.Value, error) {
	if !p.Valid() {
		return nil, fmt.Errorf("invalid priority %q", string(p))
	}
	return int64(p.Rank()), nil
}

// Scan reads a priority rank.
func (p *Priority) Scan(src any) error {
	var rank int64
	switch v := src.(type) {
	case int64:
		rank = v
	case int32:
		rank = int64(v)
	case int16:
		rank = int64(v)
	case int:
		rank = int64(v)
	default:
		return fmt.Errorf("scan priority: unsupported type %T", src)
	}
	*p = PriorityOfRank(int(rank))
	if *p == "" {
		return fmt.Errorf("scan priority: unknown rank %d", rank)
	}
	return nil
}

// The hooks below keep every time in UTC whatever the driver returns.

// AfterFind normalises times to UTC.
func (t *Ticket) AfterFind(*gorm.DB) error {
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	for _, p := range []**time.Time{&t.FirstResponseAt, &t.ResolvedAt, &t.ClosedAt} {
		if *p != nil {
			u := (*p).UTC()
			*p = &u
		}
	}
	return nil
}

// AfterFind normalises times to UTC.
func (u *User) AfterFind(*gorm.DB) error {
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return nil
}

// AfterFind normalises times to UTC.
func (c *Category) AfterFind(*gorm.DB) error { c.CreatedAt = c.CreatedAt.UTC(); return nil }

// AfterFind normalises times to UTC.
func (r *Reply) AfterFind(*gorm.DB) error { r.CreatedAt = r.CreatedAt.UTC(); return nil }

// AfterFind normalises times to UTC.
func (e *Event) AfterFind(*gorm.DB) error { e.CreatedAt = e.CreatedAt.UTC(); return nil }

// AfterFind normalises times to UTC.
func (e *TimeEntry) AfterFind(*gorm.DB) error { e.CreatedAt = e.CreatedAt.UTC(); return nil }
