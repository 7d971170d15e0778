package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

func initialSchema() *gormigrate.Migration {
	type user struct {
		ID        string    `gorm:"type:uuid;primaryKey"`
		Email     string    `gorm:"type:varchar(254);not null;uniqueIndex:users_email_key"`
		Name      string    `gorm:"type:varchar(200);not null"`
		Role      string    `gorm:"type:varchar(16);not null"`
		Active    bool      `gorm:"not null"`
		CreatedAt time.Time `gorm:"type:timestamptz;not null"`
		UpdatedAt time.Time `gorm:"type:timestamptz;not null"`
	}
	type category struct {
		ID        string    `gorm:"type:uuid;primaryKey"`
		Name      string    `gorm:"type:varchar(100);not null"`
		CreatedAt time.Time `gorm:"type:timestamptz;not null"`
	}
	type ticket struct {
		ID               string     `gorm:"type:uuid;primaryKey"`
		Number           int64      `gorm:"not null;uniqueIndex:tickets_number_key"`
		Subject          string     `gorm:"type:varchar(200);not null"`
		Description      string     `gorm:"type:text;not null"`
		Status           string     `gorm:"type:varchar(16);not null"`
		StatusReason     *string    `gorm:"type:varchar(500)"`
		Priority         int16      `gorm:"type:smallint;not null"`
		CategoryID       *string    `gorm:"type:uuid"`
		Category         *category  `gorm:"foreignKey:CategoryID;constraint:OnDelete:RESTRICT"`
		CustomerID       string     `gorm:"type:uuid;not null"`
		Customer         *user      `gorm:"foreignKey:CustomerID;constraint:OnDelete:RESTRICT"`
		AssigneeID       *string    `gorm:"type:uuid"`
		Assignee         *user      `gorm:"foreignKey:AssigneeID;constraint:OnDelete:RESTRICT"`
		CreatedBy        string     `gorm:"type:uuid;not null"`
		UpdatedBy        string     `gorm:"type:uuid;not null"`
		CreatedAt        time.Time  `gorm:"type:timestamptz;not null"`
		UpdatedAt        time.Time  `gorm:"type:timestamptz;not null"`
		FirstResponseAt  *time.Time `gorm:"type:timestamptz"`
		ResolvedAt       *time.Time `gorm:"type:timestamptz"`
		ClosedAt         *time.Time `gorm:"type:timestamptz"`
		TimeSpentMinutes int        `gorm:"not null;default:0"`
		Version          int64      `gorm:"not null"`
		DeletedAt        *time.Time `gorm:"type:timestamptz"`
	}
	type reply struct {
		ID        string    `gorm:"type:uuid;primaryKey"`
		TicketID  string    `gorm:"type:uuid;not null"`
		Ticket    *ticket   `gorm:"foreignKey:TicketID;constraint:OnDelete:CASCADE"`
		AuthorID  string    `gorm:"type:uuid;not null"`
		Author    *user     `gorm:"foreignKey:AuthorID;constraint:OnDelete:RESTRICT"`
		Body      string    `gorm:"type:text;not null"`
		Internal  bool      `gorm:"not null"`
		CreatedAt time.Time `gorm:"type:timestamptz;not null"`
	}
	type ticketEvent struct {
		ID        string    `gorm:"type:uuid;primaryKey"`
		TicketID  string    `gorm:"type:uuid;not null;uniqueIndex:ticket_events_ticket_seq_key,priority:1"`
		Ticket    *ticket   `gorm:"foreignKey:TicketID;constraint:OnDelete:CASCADE"`
		Seq       int64     `gorm:"not null;uniqueIndex:ticket_events_ticket_seq_key,priority:2"`
		Type      string    `gorm:"type:varchar(32);not null"`
		ActorID   string    `gorm:"type:uuid;not null"`
		Internal  bool      `gorm:"not null"`
		Data      string    `gorm:"type:jsonb;not null"`
		CreatedAt time.Time `gorm:"type:timestamptz;not null"`
	}
	type timeEntry struct {
		ID        string    `gorm:"type:uuid;primaryKey"`
		TicketID  string    `gorm:"type:uuid;not null"`
		Ticket    *ticket   `gorm:"foreignKey:TicketID;constraint:OnDelete:CASCADE"`
		AuthorID  string    `gorm:"type:uuid;not null"`
		Author    *user     `gorm:"foreignKey:AuthorID;constraint:OnDelete:RESTRICT"`
		Minutes   int       `gorm:"not null"`
		Note      string    `gorm:"type:varchar(1000);not null"`
		CreatedAt time.Time `gorm:"type:timestamptz;not null"`
	}
	type idempotencyKey struct {
		UserID      string    `gorm:"type:uuid;primaryKey"`
		Key         string    `gorm:"type:varchar(255);primaryKey"`
		RequestHash string    `gorm:"type:varchar(64);not null"`
		TicketID    string    `gorm:"type:uuid;not null"`
		CreatedAt   time.Time `gorm:"type:timestamptz;not null"`
	}
	type counter struct {
		Name  string `gorm:"type:varchar(64);primaryKey"`
		Value int64  `gorm:"not null"`
	}
	tables := []any{&user{}, &category{}, &ticket{}, &reply{}, &ticketEvent{}, &timeEntry{}, &idempotencyKey{}, &counter{}}

	// Every list filter and keyset order has an index; soft-deleted tickets
	// are never listed, so the indexes skip them.
	indexes := []string{
		`CREATE INDEX tickets_created_idx ON tickets (created_at, id) WHERE deleted_at IS NULL`,
		`CREATE INDEX tickets_updated_idx ON tickets (updated_at, id) WHERE deleted_at IS NULL`,
		`CREATE INDEX tickets_priority_idx ON tickets (priority, created_at, id) WHERE deleted_at IS NULL`,
		`CREATE INDEX tickets_customer_idx ON tickets (customer_id, created_at, id) WHERE deleted_at IS NULL`,
		`CREATE INDEX tickets_status_idx ON tickets (status, created_at, id) WHERE deleted_at IS NULL`,
		`CREATE INDEX tickets_assignee_idx ON tickets (assignee_id, created_at, id) WHERE deleted_at IS NULL`,
		`CREATE INDEX tickets_category_idx ON tickets (category_id, created_at, id) WHERE deleted_at IS NULL`,
		`CREATE INDEX replies_ticket_idx ON replies (ticket_id, created_at, id)`,
		`CREATE INDEX time_entries_ticket_idx ON time_entries (ticket_id, created_at, id)`,
		`CREATE INDEX users_role_idx ON users (role, created_at, id)`,
		`CREATE INDEX users_created_idx ON users (created_at, id)`,
		`CREATE UNIQUE INDEX categories_name_key ON categories (lower(name))`,
	}
	return &gormigrate.Migration{
		ID: "0001_initial_schema",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Migrator().CreateTable(tables...); err != nil {
				return err
			}
			for _, q := range indexes {
				if err := tx.Exec(q).Error; err != nil {
					return err
				}
			}
			return tx.Create(&counter{Name: "ticket_number", Value: 0}).Error
		},
		Rollback: func(tx *gorm.DB) error {
			for i := len(tables) - 1; i >= 0; i-- {
				if err := tx.Migrator().DropTable(tables[i]); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
