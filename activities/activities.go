package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/ticketd/ticketd/models"
)

// Store is what the activities need of the database.
type Store interface {
	ApplyChange(ctx context.Context, c models.Change) (models.Ticket, bool, error)
	Commit(ctx context.Context, c models.Change) (models.Committed, error)
	GetPolicy(ctx context.Context, p models.Priority) (models.Policy, error)
	GetLifecycle(ctx context.Context) (models.Lifecycle, error)
}

// Recorder counts what a change committed: creations, status moves (manual
// and automatic), first responses, resolutions and SLA events. Activities
// call it only for changes they applied, so retries and replays never
// double-count.
type Recorder interface {
	TicketCreated(priority string)
	TicketTransitioned(from, to string)
	FirstResponse(priority string, d time.Duration)
	Resolved(priority string, d time.Duration)
	SLAWarning(priority, clock string, fraction float64)
	SLABreached(priority, clock string, lateness time.Duration)
}

// Activities persists ticket changes.
type Activities struct {
	store    Store
	recorder Recorder
	now      func() time.Time
}

// New returns the activities backed by store, reporting to recorder.
func New(store Store, recorder Recorder) *Activities {
	return &Activities{store: store, recorder: recorder, now: time.Now}
}

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
	ErrTypeConflict  = "Conflict"
	ErrTypeNotFound  = "NotFound"
	ErrTypeInvalid   = "Invalid"
	ErrTypeAbandoned = "Abandoned"
)

// CommitChangeInput is one change computed by a ticket's workflow, keyed by
// the update that makes it (Change.UpdateID).
type CommitChangeInput struct {
	Change models.Change
}

// CommitChangeOutput is the seq of the ticket's last event and, unless
// this call applied the change, the ticket as stored. An applied change's
// ticket is the workflow's own (models.Change.Stored): leaving it out keeps
// the result, which the workflow's history records, small. Behind says the
// workflow's copy was stale: nothing was written, and the workflow adopts
// Ticket and LastSeq and computes its change again.
type CommitChangeOutput struct {
	Ticket      *models.Ticket `json:",omitempty"`
	LastSeq     int64
	Applied     bool
	Behind      bool
	ReplyID     *string
	TimeEntryID *string
}

// CommitChange writes one change at most once, keyed by its update ID with
// a compare-and-set on the ticket's version. Workflows run it as a local
// activity inside the update's own workflow task: when that task fails after
// the commit, the re-run finds the commit instead of writing twice.
func (a *Activities) CommitChange(ctx context.Context, in CommitChangeInput) (CommitChangeOutput, error) {
	c, err := a.store.Commit(ctx, in.Change)
	if err != nil {
		return CommitChangeOutput{}, translate(err)
	}
	if c.Applied && a.recorder != nil {
		a.record(in.Change.Events, c.Ticket)
	}
	out := CommitChangeOutput{LastSeq: c.LastSeq, Applied: c.Applied, Behind: c.Behind,
		ReplyID: c.ReplyID, TimeEntryID: c.TimeEntryID}
	if !c.Applied {
		out.Ticket = &c.Ticket
	}
	return out, nil
}

// ApplyChange writes one change of a ticket in a single transaction.
func (a *Activities) ApplyChange(ctx context.Context, in ApplyChangeInput) (ApplyChangeOutput, error) {
	t, applied, err := a.store.ApplyChange(ctx, in.Change)
	if err != nil {
		return ApplyChangeOutput{}, translate(err)
	}
	if applied && a.recorder != nil {
		a.record(in.Change.Events, t)
	}
	return ApplyChangeOutput{Ticket: t}, nil
}

func (a *Activities) record(events []models.Event, t models.Ticket) {
	for _, e := range events {
		// Local activities get the workflow's values as they are, regular
		// ones after a JSON round trip: accept both forms.
		clock, priority := fmt.Sprint(e.Data["clock"]), fmt.Sprint(e.Data["priority"])
		switch e.Type {
		case models.EventCreated:
			a.recorder.TicketCreated(string(t.Priority))
		case models.EventStatusChanged, models.EventAutoClosed, models.EventAutoResolved:
			from, to := models.Status(fmt.Sprint(e.Data["from"])), models.Status(fmt.Sprint(e.Data["to"]))
			a.recorder.TicketTransitioned(string(from), string(to))
			// Resolution is the first arrival at resolved, or at closed
			// straight from work in progress.
			if to == models.StatusResolved || (to == models.StatusClosed && from != models.StatusResolved) {
				a.recorder.Resolved(string(t.Priority), e.CreatedAt.Sub(t.CreatedAt))
			}
		case models.EventReplied:
			if t.FirstResponseAt != nil && t.FirstResponseAt.Equal(e.CreatedAt) {
				a.recorder.FirstResponse(string(t.Priority), t.FirstResponseAt.Sub(t.CreatedAt))
			}
		case models.EventSLAWarning:
			f, _ := e.Data["fraction"].(float64)
			a.recorder.SLAWarning(priority, clock, f)
		case models.EventSLABreached:
			var lateness time.Duration
			if due, ok := e.Data["due_at"].(time.Time); ok {
				lateness = a.now().Sub(due)
			} else if s, ok := e.Data["due_at"].(string); ok {
				if due, err := time.Parse(time.RFC3339Nano, s); err == nil {
					lateness = a.now().Sub(due)
				}
			}
			a.recorder.SLABreached(priority, clock, lateness)
		}
	}
}

// LoadSLAConfigInput names the priority whose policy a ticket needs.
type LoadSLAConfigInput struct {
	Priority models.Priority
}

// LoadSLAConfigOutput is the policy and the lifecycle delays in force now.
type LoadSLAConfigOutput struct {
	Policy    models.Policy
	Lifecycle models.Lifecycle
}

// LoadSLAConfig reads the SLA policy of a priority and the lifecycle
// settings. Workflows call it when a ticket is created, changes priority or
// arms an automatic move, so that what applied is recorded in the history.
func (a *Activities) LoadSLAConfig(ctx context.Context, in LoadSLAConfigInput) (LoadSLAConfigOutput, error) {
	p, err := a.store.GetPolicy(ctx, in.Priority)
	if err != nil {
		return LoadSLAConfigOutput{}, translate(err)
	}
	l, err := a.store.GetLifecycle(ctx)
	if err != nil {
		return LoadSLAConfigOutput{}, translate(err)
	}
	return LoadSLAConfigOutput{Policy: p, Lifecycle: l}, nil
}

// translate decides, once, whether Temporal should retry a failure.
func translate(err error) error {
	switch {
	case models.IsUnavailable(err):
		return err // retryable: the database may come back
	case errors.Is(err, models.ErrAbandoned):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeAbandoned, err)
	case errors.Is(err, models.ErrConflict):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeConflict, err)
	case errors.Is(err, models.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeNotFound, err)
	default:
		// Constraint violations and bad data do not heal by retrying.
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeInvalid, err)
	}
}
