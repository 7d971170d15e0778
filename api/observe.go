package api

import (
	"context"
	"errors"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/monitoring"
	"github.com/ticketd/ticketd/workflows"
)

// changeKinds name the kinds of change in metrics (ticketd_ticket_changes_total
// and the update label of the Update metrics).
var changeKinds = []string{"create", "edit", "status", "assign", "reply", "time", "delete"}

// updateLabels maps a workflow Update's name to its metrics label.
var updateLabels = map[string]string{
	workflows.UpdateCreate:       "create",
	workflows.UpdateEdit:         "edit",
	workflows.UpdateChangeStatus: "status",
	workflows.UpdateAssign:       "assign",
	workflows.UpdateAddReply:     "reply",
	workflows.UpdateLogTime:      "time",
	workflows.UpdateDelete:       "delete",
}

// MetricLabels are the label values ticketd's metrics know in advance: every
// priority, every move the status graph allows, both SLA clocks, every kind
// of change.
func MetricLabels() monitoring.Labels {
	l := monitoring.Labels{
		Clocks:      []string{string(models.ClockFirstResponse), string(models.ClockResolution)},
		ChangeKinds: changeKinds,
		Updates:     changeKinds,
	}
	for _, p := range models.Priorities {
		l.Priorities = append(l.Priorities, string(p))
	}
	for _, from := range models.Statuses {
		for _, to := range models.Transitions(from) {
			l.Transitions = append(l.Transitions, [2]string{string(from), string(to)})
		}
	}
	return l
}

// OpenStatuses are the statuses ticketd_tickets_open reports.
func OpenStatuses() []string {
	var out []string
	for _, s := range models.Statuses {
		if s != models.StatusClosed {
			out = append(out, string(s))
		}
	}
	return out
}

// meteredTickets times every Update round trip and counts its failures by
// reason: the API's view of the engine.
type meteredTickets struct {
	next    Tickets
	metrics *monitoring.Metrics
}

func (t meteredTickets) Create(ctx context.Context, in workflows.CreateInput) (workflows.UpdateResult, error) {
	start := time.Now()
	res, err := t.next.Create(ctx, in)
	t.metrics.UpdateDone(updateLabel(workflows.UpdateCreate), time.Since(start), failureReason(err))
	return res, err
}

func (t meteredTickets) Update(ctx context.Context, ticketID, update string, arg any) (workflows.UpdateResult, error) {
	start := time.Now()
	res, err := t.next.Update(ctx, ticketID, update, arg)
	t.metrics.UpdateDone(updateLabel(update), time.Since(start), failureReason(err))
	return res, err
}

func (t meteredTickets) Ping(ctx context.Context) error { return t.next.Ping(ctx) }

func updateLabel(name string) string {
	if l, ok := updateLabels[name]; ok {
		return l
	}
	return name
}

// failureReason classifies an Update's error for
// ticketd_workflow_update_failures_total; "" means it succeeded.
func failureReason(err error) string {
	var (
		trans *models.TransitionError
		valid *models.ValidationError
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return monitoring.UpdateTimeout
	case errors.Is(err, models.ErrBusy):
		return monitoring.UpdateBusy
	case models.IsUnavailable(err):
		return monitoring.UpdateUnavailable
	case errors.As(err, &trans), errors.As(err, &valid), errors.Is(err, models.ErrTicketClosed),
		errors.Is(err, models.ErrNotFound), errors.Is(err, models.ErrConflict),
		errors.Is(err, models.ErrPrecondition), errors.Is(err, models.ErrForbidden):
		return monitoring.UpdateRejected
	default:
		return monitoring.UpdateOther
	}
}

// logTicket adds the ticket and its workflow to the request's log records.
func logTicket(c *gin.Context, ticketID string) {
	monitoring.AddLogAttrs(c.Request.Context(), "ticket_id", ticketID, "workflow_id", workflows.WorkflowID(ticketID))
}
