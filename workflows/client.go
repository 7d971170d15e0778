package workflows

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/ticketd/ticketd/models"
)

// Client sends changes to ticket workflows and translates their failures
// into the models package's errors, once, for the API.
type Client struct {
	c client.Client
}

// NewClient wraps a Temporal client.
func NewClient(c client.Client) *Client { return &Client{c: c} }

// CreateInput starts a ticket's workflow and creates the ticket in it.
type CreateInput struct {
	TicketID string
	Number   int64
	Request  CreateRequest
}

// Create starts the ticket's workflow and sends it the create update in one
// call (Update-with-Start). The update ID is fixed, so a retried create, even
// a concurrent one, attaches to the first and gets the same ticket.
func (c *Client) Create(ctx context.Context, in CreateInput) (UpdateResult, error) {
	attrs := []temporal.SearchAttributeUpdate{
		AttrStatus.ValueSet(string(models.StatusNew)),
		AttrPriority.ValueSet(string(in.Request.Priority)),
		AttrCustomer.ValueSet(in.Request.CustomerID),
		AttrNumber.ValueSet(in.Number),
	}
	if in.Request.CategoryID != nil {
		attrs = append(attrs, AttrCategory.ValueSet(*in.Request.CategoryID))
	}
	start := c.c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       WorkflowID(in.TicketID),
		TaskQueue:                TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		StaticSummary:            Summary(in.Number, in.Request.Subject),
		TypedSearchAttributes:    temporal.NewSearchAttributes(attrs...),
	}, LifecycleWorkflow, LifecycleInput{TicketID: in.TicketID, Number: in.Number})
	h, err := c.c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: start,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateID:     CreateUpdateID,
			UpdateName:   UpdateCreate,
			Args:         []any{in.Request},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err != nil {
		return UpdateResult{}, fmt.Errorf("create ticket %s: %w", in.TicketID, translate(err))
	}
	var res UpdateResult
	if err := h.Get(ctx, &res); err != nil {
		return UpdateResult{}, fmt.Errorf("create ticket %s: %w", in.TicketID, translate(err))
	}
	return res, nil
}

// Update sends one change to a ticket's workflow and waits for the stored
// result.
func (c *Client) Update(ctx context.Context, ticketID, update string, arg any) (UpdateResult, error) {
	h, err := c.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   WorkflowID(ticketID),
		UpdateName:   update,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return UpdateResult{}, fmt.Errorf("%s ticket %s: %w", update, ticketID, translate(err))
	}
	var res UpdateResult
	if err := h.Get(ctx, &res); err != nil {
		return UpdateResult{}, fmt.Errorf("%s ticket %s: %w", update, ticketID, translate(err))
	}
	return res, nil
}

// Ping checks the Temporal frontend answers.
func (c *Client) Ping(ctx context.Context) error {
	if _, err := c.c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("%w: temporal: %w", models.ErrUnavailable, err)
	}
	return nil
}

// translate maps a Temporal failure to the models package's errors.
func translate(err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		switch app.Type() {
		case ErrTypeClosed:
			return fmt.Errorf("%s: %w", app.Message(), models.ErrTicketClosed)
		case ErrTypeInvalidTransition:
			return &models.TransitionError{}
		case ErrTypeNotFound:
			return fmt.Errorf("%s: %w", app.Message(), models.ErrNotFound)
		case ErrTypeConflict:
			return fmt.Errorf("%s: %w", app.Message(), models.ErrConflict)
		case ErrTypePrecondition:
			return fmt.Errorf("%s: %w", app.Message(), models.ErrPrecondition)
		case ErrTypeForbidden:
			return fmt.Errorf("%s: %w", app.Message(), models.ErrForbidden)
		case ErrTypeValidation:
			return models.Invalid("", "%s", app.Message())
		case ErrTypeUnavailable:
			return fmt.Errorf("%s: %w", app.Message(), models.ErrUnavailable)
		}
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		// The workflow has ended: the ticket was closed (or deleted) meanwhile.
		return fmt.Errorf("ticket workflow has ended: %w", models.ErrTicketClosed)
	}
	var busy *serviceerror.ResourceExhausted
	if errors.As(err, &busy) {
		// e.g. more concurrent updates to one workflow than the server admits
		return fmt.Errorf("temporal: %s: %w", busy.Message, models.ErrBusy)
	}
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return fmt.Errorf("ticket workflow already ran: %w", models.ErrConflict)
	}
	// Anything else means Temporal could not be reached or did not answer in
	// time; the caller's deadline bounds the wait.
	return fmt.Errorf("%w: temporal: %w", models.ErrUnavailable, err)
}
