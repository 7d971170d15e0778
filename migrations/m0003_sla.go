package migrations

import (
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// slaEngine adds SLA policies (one per priority, with defaults), the
// lifecycle settings, each ticket's SLA ledger and follow-up link.
func slaEngine() *gormigrate.Migration {
	type slaPolicy struct {
		Priority             int16     `gorm:"type:smallint;primaryKey;autoIncrement:false"`
		FirstResponseSeconds int64     `gorm:"not null"`
		ResolutionSeconds    int64     `gorm:"not null"`
		WarnAt               string    `gorm:"type:jsonb;not null"`
		Escalate             bool      `gorm:"not null"`
		Calendar             *string   `gorm:"type:jsonb"`
		UpdatedAt            time.Time `gorm:"type:timestamptz;not null"`
	}
	type setting struct {
		Key       string    `gorm:"type:varchar(64);primaryKey"`
		Value     string    `gorm:"type:jsonb;not null"`
		UpdatedAt time.Time `gorm:"type:timestamptz;not null"`
	}
	type ticket struct {
		SLA        *string `gorm:"column:sla;type:jsonb"`
		FollowUpOf *string `gorm:"type:uuid"`
	}
	const hour = 3600
	defaults := []slaPolicy{ // low, normal, high, urgent; around the clock
		{Priority: 1, FirstResponseSeconds: 24 * hour, ResolutionSeconds: 168 * hour},
		{Priority: 2, FirstResponseSeconds: 8 * hour, ResolutionSeconds: 72 * hour},
		{Priority: 3, FirstResponseSeconds: 4 * hour, ResolutionSeconds: 24 * hour},
		{Priority: 4, FirstResponseSeconds: 1 * hour, ResolutionSeconds: 4 * hour},
	}
	return &gormigrate.Migration{
		ID: "0003_sla_engine",
		Migrate: func(tx *gorm.DB) error {
			if err := tx.Migrator().CreateTable(&slaPolicy{}, &setting{}); err != nil {
				return err
			}
			now := time.Now().UTC().Truncate(time.Microsecond)
			for i := range defaults {
				defaults[i].WarnAt, defaults[i].UpdatedAt = "[0.75,0.9]", now
			}
			if err := tx.Create(&defaults).Error; err != nil {
				return err
			}
			if err := tx.Create(&setting{Key: "lifecycle", UpdatedAt: now,
				Value: `{"resolved_auto_close_seconds":345600,"pending_auto_resolve_seconds":604800}`}).Error; err != nil {
				return err
			}
			for _, col := range []string{"SLA", "FollowUpOf"} {
				if err := tx.Table("tickets").Migrator().AddColumn(&ticket{}, col); err != nil {
					return err
				}
			}
			return tx.Exec(`CREATE INDEX tickets_follow_up_idx ON tickets (follow_up_of) WHERE follow_up_of IS NOT NULL`).Error
		},
		Rollback: func(tx *gorm.DB) error {
			if err := tx.Exec(`DROP INDEX IF EXISTS tickets_follow_up_idx`).Error; err != nil {
				return err
			}
			for _, col := range []string{"FollowUpOf", "SLA"} {
				if err := tx.Table("tickets").Migrator().DropColumn(&ticket{}, col); err != nil {
					return err
				}
			}
			return tx.Migrator().DropTable(&setting{}, &slaPolicy{})
		},
	}
}
