package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Store is ticketd's data access. Ticket rows are written only through
// ApplyChange, which the ticket's workflow calls through an activity; the
// API reads with the other methods and writes users and categories.
type Store struct {
	db *gorm.DB
}

// NewStore wraps an open database.
func NewStore(db *gorm.DB) *Store { return &Store{db: db} }

// DB exposes the connection for migrations and tests.
func (s *Store) DB() *gorm.DB { return s.db }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// wrap translates a GORM error into the package's sentinels.
func wrap(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%s: %w", what, ErrConflict)
	case IsUnavailable(err):
		return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

// ---- users

// GetUser returns a user by id.
func (s *Store) GetUser(ctx context.Context, id string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Take(&u, "id = ?", id).Error
	return u, wrap(err, "get user "+id)
}

// GetUserByEmail returns a user by email (case-insensitive).
func (s *Store) GetUserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.db.WithContext(ctx).Take(&u, "email = ?", strings.ToLower(email)).Error
	return u, wrap(err, "get user by email")
}

// CreateUser inserts a user; a taken email is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.Email = strings.ToLower(u.Email)
	return wrap(s.db.WithContext(ctx).Create(u).Error, "create user")
}

// UpdateUser saves every field of u.
func (s *Store) UpdateUser(ctx context.Context, u *User) error {
	u.Email = strings.ToLower(u.Email)
	res := s.db.WithContext(ctx).Model(&User{}).Where("id = ?", u.ID).Select("email", "name", "role", "active", "updated_at").Updates(u)
	if res.Error == nil && res.RowsAffected == 0 {
		return fmt.Errorf("update user %s: %w", u.ID, ErrNotFound)
	}
	return wrap(res.Error, "update user "+u.ID)
}

// UserFilter selects users for a list.
type UserFilter struct {
	Role   Role
	Active *bool
	Limit  int
	After  *Cursor
}

// ListUsers returns users oldest first, one page.
func (s *Store) ListUsers(ctx context.Context, f UserFilter) ([]User, *Cursor, error) {
	q := s.db.WithContext(ctx).Model(&User{})
	if f.Role != "" {
		q = q.Where("role = ?", f.Role)
	}
	if f.Active != nil {
		q = q.Where("active = ?", *f.Active)
	}
	if f.After != nil {
		q = q.Where("(created_at, id) > (?, ?)", f.After.Time, f.After.ID)
	}
	var users []User
	if err := q.Order("created_at, id").Limit(f.Limit + 1).Find(&users).Error; err != nil {
		return nil, nil, wrap(err, "list users")
	}
	var next *Cursor
	if len(users) > f.Limit {
		users = users[:f.Limit]
		last := users[len(users)-1]
		next = &Cursor{Sort: "users", Time: last.CreatedAt, ID: last.ID}
	}
	return users, next, nil
}

// ---- categories

// ListCategories returns every category by name.
func (s *Store) ListCategories(ctx context.Context) ([]Category, error) {
	var cs []Category
	err := s.db.WithContext(ctx).Order("name").Find(&cs).Error
	return cs, wrap(err, "list categories")
}

// GetCategory returns a category by id.
func (s *Store) GetCategory(ctx context.Context, id string) (Category, error) {
	var c Category
	err := s.db.WithContext(ctx).Take(&c, "id = ?", id).Error
	return c, wrap(err, "get category "+id)
}

// CreateCategory inserts a category; a taken name is ErrConflict.
func (s *Store) CreateCategory(ctx context.Context, c *Category) error {
	return wrap(s.db.WithContext(ctx).Create(c).Error, "create category")
}

// ---- tickets: reads

// GetTicket returns a ticket that is not deleted.
func (s *Store) GetTicket(ctx context.Context, id string) (Ticket, error) {
	var t Ticket
	err := s.db.WithContext(ctx).Take(&t, "id = ?", id).Error
	return t, wrap(err, "get ticket "+id)
}

// getTicketUnscoped returns a ticket even when deleted.
func getTicketUnscoped(tx *gorm.DB, id string) (Ticket, error) {
	var t Ticket
	err := tx.Unscoped().Take(&t, "id = ?", id).Error
	return t, wrap(err, "get ticket "+id)
}

// The sort orders of the ticket list.
const (
	SortCreatedAsc   = "created_at"
	SortCreatedDesc  = "-created_at"
	SortUpdatedAsc   = "updated_at"
	SortUpdatedDesc  = "-updated_at"
	SortPriorityAsc  = "priority"
	SortPriorityDesc = "-priority"
	SortSLADue       = "sla_due_at"
)

// TicketSorts lists the accepted sort orders.
var TicketSorts = []string{SortCreatedAsc, SortCreatedDesc, SortUpdatedAsc, SortUpdatedDesc, SortPriorityAsc, SortPriorityDesc, SortSLADue}

// TicketFilter selects tickets for a list. Zero fields do not filter.
type TicketFilter struct {
	Statuses      []Status
	Priorities    []Priority
	AssigneeID    string // a user id
	Unassigned    bool
	CustomerID    string
	CategoryID    string
	Query         string
	CreatedAfter  *time.Time
	CreatedBefore *time.Time
	SLAStates     []SLAState
	Sort          string
	Limit         int
	After         *Cursor
}

func (s *Store) filtered(ctx context.Context, f TicketFilter) *gorm.DB {
	q := s.db.WithContext(ctx).Model(&Ticket{})
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	if len(f.Priorities) > 0 {
		q = q.Where("priority IN ?", priorityRanks(f.Priorities))
	}
	if f.Unassigned {
		q = q.Where("assignee_id IS NULL")
	} else if f.AssigneeID != "" {
		q = q.Where("assignee_id = ?", f.AssigneeID)
	}
	if f.CustomerID != "" {
		q = q.Where("customer_id = ?", f.CustomerID)
	}
	if f.CategoryID != "" {
		q = q.Where("category_id = ?", f.CategoryID)
	}
	if f.Query != "" {
		like := "%" + escapeLike(f.Query) + "%"
		op := "LIKE" // SQLite's LIKE ignores ASCII case
		if s.db.Dialector.Name() == "postgres" {
			op = "ILIKE"
		}
		q = q.Where("(subject "+op+" ? ESCAPE '\\' OR description "+op+" ? ESCAPE '\\')", like, like)
	}
	if f.CreatedAfter != nil {
		q = q.Where("created_at > ?", f.CreatedAfter.UTC())
	}
	if f.CreatedBefore != nil {
		q = q.Where("created_at < ?", f.CreatedBefore.UTC())
	}
	if len(f.SLAStates) > 0 {
		q = q.Where("sla_state IN ?", f.SLAStates)
	}
	return q
}

// priorityRanks is how ps are stored.
func priorityRanks(ps []Priority) []int {
	ranks := make([]int, len(ps))
	for i, p := range ps {
		ranks[i] = p.Rank()
	}
	return ranks
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListTickets returns one page of tickets in f.Sort order and the cursor of
// the next page (nil on the last). Pages are keyset-paginated: the cost of a
// page does not grow with its depth.
func (s *Store) ListTickets(ctx context.Context, f TicketFilter) ([]Ticket, *Cursor, error) {
	desc := strings.HasPrefix(f.Sort, "-")
	field := strings.TrimPrefix(f.Sort, "-")
	dir, cmp := "ASC", ">"
	if desc {
		dir, cmp = "DESC", "<"
	}
	q := s.filtered(ctx, f)
	switch field {
	case "priority":
		if f.After != nil {
			q = q.Where("(priority, created_at, id) "+cmp+" (?, ?, ?)", f.After.Priority, f.After.Time, f.After.ID)
		}
		q = q.Order("priority " + dir).Order("created_at " + dir).Order("id " + dir)
	case "created_at", "updated_at":
		if f.After != nil {
			q = q.Where("("+field+", id) "+cmp+" (?, ?)", f.After.Time, f.After.ID)
		}
		q = q.Order(field + " " + dir).Order("id " + dir)
	case SortSLADue:
		q = slaDueOrder(q, f.After)
	default:
		return nil, nil, fmt.Errorf("list tickets: unknown sort %q", f.Sort)
	}
	var ts []Ticket
	if err := q.Limit(f.Limit + 1).Find(&ts).Error; err != nil {
		return nil, nil, wrap(err, "list tickets")
	}
	var next *Cursor
	if len(ts) > f.Limit {
		ts = ts[:f.Limit]
		last := ts[len(ts)-1]
		next = &Cursor{Sort: f.Sort, Time: last.CreatedAt, ID: last.ID}
		switch field {
		case "updated_at":
			next.Time = last.UpdatedAt
		case "priority":
			next.Priority = last.Priority.Rank()
		case SortSLADue:
			next.Null = last.SLADueAt == nil
			if !next.Null {
				next.Time = *last.SLADueAt
			}
		}
	}
	return ts, next, nil
}

// ListReplies returns a ticket's replies, oldest first.
func (s *Store) ListReplies(ctx context.Context, ticketID string, withInternal bool) ([]Reply, error) {
	q := s.db.WithContext(ctx).Where("ticket_id = ?", ticketID)
	if !withInternal {
		q = q.Where("internal = ?", false)
	}
	rs := []Reply{}
	err := q.Order("created_at, id").Find(&rs).Error
	return rs, wrap(err, "list replies")
}

// ListEvents returns a ticket's timeline, oldest first.
func (s *Store) ListEvents(ctx context.Context, ticketID string, withInternal bool) ([]Event, error) {
	q := s.db.WithContext(ctx).Where("ticket_id = ?", ticketID)
	if !withInternal {
		q = q.Where("internal = ?", false)
	}
	es := []Event{}
	err := q.Order("seq").Find(&es).Error
	return es, wrap(err, "list events")
}

// ListTimeEntries returns a ticket's time entries, oldest first.
func (s *Store) ListTimeEntries(ctx context.Context, ticketID string) ([]TimeEntry, error) {
	es := []TimeEntry{}
	err := s.db.WithContext(ctx).Where("ticket_id = ?", ticketID).Order("created_at, id").Find(&es).Error
	return es, wrap(err, "list time entries")
}

// GetIdempotencyKey returns what a caller's Idempotency-Key created.
func (s *Store) GetIdempotencyKey(ctx context.Context, userID, key string) (IdempotencyKey, error) {
	var k IdempotencyKey
	err := s.db.WithContext(ctx).Take(&k, "user_id = ? AND key = ?", userID, key).Error
	return k, wrap(err, "get idempotency key")
}

// NextTicketNumber allocates the next human-friendly ticket number. Numbers
// increase; a number allocated for a create that then failed is skipped.
func (s *Store) NextTicketNumber(ctx context.Context) (int64, error) {
	var n int64
	// In a transaction: on SQLite that is what takes a writer's turn (a
	// write sent as a query, for its RETURNING, cannot hold one).
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return tx.Raw("UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value", "ticket_number").Scan(&n).Error
	})
	if err == nil && n == 0 {
		err = fmt.Errorf("counter ticket_number missing: %w", ErrNotFound)
	}
	return n, wrap(err, "next ticket number")
}

// ---- tickets: the one write path

// Change is one change to a ticket, computed by its workflow: the ticket's
// full new state and the events that record it (one, or two for a change
// that also moves the status automatically), plus the reply, time entry or
// idempotency key it adds.
type Change struct {
	Ticket      Ticket
	Events      []Event
	Create      bool
	Reply       *Reply
	TimeEntry   *TimeEntry
	Idempotency *IdempotencyKey
	Delete      bool
	// UpdateID is the Workflow Update that makes this change; Commit
	// records its outcome under it. Empty for changes no caller waits for.
	UpdateID string
	// Prior is the ticket as the change found it (version Ticket.Version-1),
	// when the caller knows it; Commit then need not read it.
	Prior *Ticket
}

// Stored is the ticket as an applied change leaves its row: c.Ticket,
// deleted when c deletes it.
func (c Change) Stored() Ticket {
	t := c.Ticket
	if c.Delete {
		t.DeletedAt = gorm.DeletedAt{Time: t.UpdatedAt, Valid: true}
	}
	return t
}

// ApplyChange writes a change in one transaction and returns the ticket as
// stored, and whether this call applied it. It is idempotent: a change whose
// first event (ticket, seq) is already stored is not applied again, so
// activity retries are safe.
func (s *Store) ApplyChange(ctx context.Context, c Change) (Ticket, bool, error) {
	var (
		out     Ticket
		applied bool
	)
	c.Ticket.SLAState, c.Ticket.SLADueAt = c.Ticket.SLA.Index()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var before *Ticket // counts: the state the change replaces; nil on create
		if !c.Create {
			b, err := countedState(tx, c.Ticket.ID)
			if err != nil {
				return err
			}
			before = b
		}
		if c.Create {
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&c.Ticket)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 { // a retry: the first attempt committed
				t, err := getTicketUnscoped(tx, c.Ticket.ID)
				out = t
				return err
			}
			if c.Idempotency != nil {
				if err := tx.Create(c.Idempotency).Error; err != nil {
					return err
				}
			}
		}
		if len(c.Events) == 0 {
			return fmt.Errorf("change to ticket %s records no event", c.Ticket.ID)
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&c.Events)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			// A retry of this very change is a no-op; another change that
			// claims a taken position must not pass for applied.
			var stored Event
			if err := tx.Take(&stored, "ticket_id = ? AND seq = ?", c.Ticket.ID, c.Events[0].Seq).Error; err != nil {
				return err
			}
			first := c.Events[0]
			if stored.Type != first.Type || stored.ActorID != first.ActorID || !stored.CreatedAt.Equal(first.CreatedAt) {
				return fmt.Errorf("event %d of ticket %s is another change: %w", first.Seq, c.Ticket.ID, ErrConflict)
			}
			t, err := getTicketUnscoped(tx, c.Ticket.ID)
			out = t
			return err
		}
		if !c.Create {
			if ok, err := updateOnVersion(tx, c); err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("ticket %s is not at version %d: %w", c.Ticket.ID, c.Ticket.Version-1, ErrConflict)
			}
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
		t, err := getTicketUnscoped(tx, c.Ticket.ID)
		if err != nil {
			return err
		}
		// counts: keep in the same transaction
		if err := adjustCounts(tx, before, t); err != nil {
			return err
		}
		out, applied = t, true
		return nil
	})
	return out, applied, wrap(err, "apply change to ticket "+c.Ticket.ID)
}

// ---- SLA policies and settings

// ListPolicies returns the SLA policy of every priority, lowest first.
func (s *Store) ListPolicies(ctx context.Context) ([]Policy, error) {
	ps := []Policy{}
	err := s.db.WithContext(ctx).Order("priority").Find(&ps).Error
	return ps, wrap(err, "list sla policies")
}

// GetPolicy returns the SLA policy of a priority.
func (s *Store) GetPolicy(ctx context.Context, p Priority) (Policy, error) {
	var out Policy
	err := s.db.WithContext(ctx).Take(&out, "priority = ?", p).Error
	return out, wrap(err, "get sla policy "+string(p))
}

// PutPolicy replaces the SLA policy of p.Priority.
func (s *Store) PutPolicy(ctx context.Context, p *Policy) error {
	res := s.db.WithContext(ctx).Model(&Policy{}).Where("priority = ?", p.Priority).
		Select("first_response_seconds", "resolution_seconds", "warn_at", "escalate", "calendar", "updated_at").Updates(p)
	if res.Error == nil && res.RowsAffected == 0 {
		return fmt.Errorf("put sla policy %s: %w", p.Priority, ErrNotFound)
	}
	return wrap(res.Error, "put sla policy "+string(p.Priority))
}

type setting struct {
	Key       string `gorm:"primaryKey"`
	Value     string
	UpdatedAt time.Time
}

// GetLifecycle returns the automatic-move delays.
func (s *Store) GetLifecycle(ctx context.Context) (Lifecycle, error) {
	var row setting
	err := s.db.WithContext(ctx).Table("settings").Take(&row, "key = ?", "lifecycle").Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return DefaultLifecycle, nil
	}
	if err != nil {
		return Lifecycle{}, wrap(err, "get lifecycle settings")
	}
	l := DefaultLifecycle
	if err := json.Unmarshal([]byte(row.Value), &l); err != nil {
		return Lifecycle{}, fmt.Errorf("decode lifecycle settings: %w", err)
	}
	return l, nil
}

// PutLifecycle saves the automatic-move delays.
func (s *Store) PutLifecycle(ctx context.Context, l Lifecycle) error {
	b, _ := json.Marshal(l)
	row := setting{Key: "lifecycle", Value: string(b), UpdatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	err := s.db.WithContext(ctx).Table("settings").Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "updated_at"}),
	}).Create(&row).Error
	return wrap(err, "put lifecycle settings")
}
