package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/ticketd/ticketd/models"
)

// Store is what the activities need of the database.
type Store interface {
	ApplyChange(ctx context.Context, c models.Change) (models.Ticket, error)
}

// Activities persists ticket changes.
type Activities struct {
	store Store
}

// New returns the activities backed by store.
func New(store Store) *Activities { return &Activities{store: store} }

// ApplyChangeInput is one change computed by a ticket's workflow.
type ApplyChangeInput struct {
	Change models.Change
}

// ApplyChangeOutput is the ticket as stored after the change.
type ApplyChangeOutput struct {
	Ticket models.Ticket
}

// Error types of the non-retryable errors the activities return.
const (
	ErrTypeConflict = "Conflict"
	ErrTypeNotFound = "NotFound"
	ErrTypeInvalid  = "Invalid"
)

// ApplyChange writes one change of a ticket in a single transaction.
func (a *Activities) ApplyChange(ctx context.Context, in ApplyChangeInput) (ApplyChangeOutput, error) {
	t, err := a.store.ApplyChange(ctx, in.Change)
	if err != nil {
		return ApplyChangeOutput{}, translate(err)
	}
	return ApplyChangeOutput{Ticket: t}, nil
}

// translate decides, once, whether Temporal should retry a failure.
func translate(err error) error {
	switch {
	case models.IsUnavailable(err):
		return err // retryable: the database may come back
	case errors.Is(err, models.ErrConflict):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeConflict, err)
	case errors.Is(err, models.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeNotFound, err)
	default:
		// Constraint violations and bad data do not heal by retrying.
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalid, err)
	}
}
