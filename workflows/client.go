package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/ticketd/ticketd/models"
)

// Client sends changes to ticket workflows and translates their failures
// into the models package's errors, once, for the API.
type Client struct {
	c        client.Client
	outcomes Outcomes
}

// Outcomes settles an update whose outcome the client could not learn from
// Temporal: it returns the change if it was committed, and otherwise makes
// sure it never will be.
type Outcomes interface {
	SettleUpdate(ctx context.Context, ticketID, updateID string) (models.Settled, error)
}

// NewClient wraps a Temporal client; outcomes settles updates whose outcome
// is unknown (a timeout, a lost connection).
func NewClient(c client.Client, outcomes Outcomes) *Client { return &Client{c: c, outcomes: outcomes} }

// settleTimeout bounds the settling of an unknown outcome after the
// caller's own deadline has passed.
const settleTimeout = 5 * time.Second

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
	if in.Request.Attempt == "" {
		in.Request.Attempt = uuid.NewString()
	}
	start := c.c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID:                       WorkflowID(in.TicketID),
		TaskQueue:                TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// A run whose create was abandoned fails, and a retry may start anew;
		// a ticket's finished workflow is never started again.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		StaticSummary:         Summary(in.Number, in.Request.Subject),
		TypedSearchAttributes: temporal.NewSearchAttributes(attrs...),
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
	var res UpdateResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	if err != nil {
		return c.settle(ctx, in.TicketID, CreateOutcomeID(in.Request.Attempt), fmt.Errorf("create ticket %s: %w", in.TicketID, err))
	}
	return res, nil
}

// Update sends one change to a ticket's workflow and waits for the stored
// result.
func (c *Client) Update(ctx context.Context, ticketID, update string, arg any) (UpdateResult, error) {
	return c.UpdateWithID(ctx, ticketID, uuid.NewString(), update, arg)
}

// UpdateWithID is Update under an update ID of the caller's choosing: the
// same ID sent again is the same update, answered once.
func (c *Client) UpdateWithID(ctx context.Context, ticketID, updateID, update string, arg any) (UpdateResult, error) {
	h, err := c.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		UpdateID:     updateID,
		WorkflowID:   WorkflowID(ticketID),
		UpdateName:   update,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res UpdateResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	if err != nil {
		return c.settle(ctx, ticketID, updateID, fmt.Errorf("%s ticket %s: %w", update, ticketID, err))
	}
	return res, nil
}

// settle answers for an update that failed with err. A few failures say
// for sure that the update never reached the workflow (the server refused
// more work, or the request itself). Any other leaves room for a commit:
// a timeout or a lost connection says nothing, and even a refusal may come
// from a workflow whose task committed the update and was then lost, so
// that the update, run again after another one's, was checked against a
// state it had already changed. Then the update is settled by its ID in the
// database: a committed change is the answer; otherwise the update is
// fenced so that it can never commit, and the caller gets err (for a
// timeout, 503: nothing was written).
func (c *Client) settle(ctx context.Context, ticketID, updateID string, err error) (UpdateResult, error) {
	if c.outcomes == nil || knownOutcome(err) {
		return UpdateResult{}, translate(err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	for {
		s, serr := c.outcomes.SettleUpdate(sctx, ticketID, updateID)
		if serr == nil {
			if s.Committed {
				return UpdateResult{Ticket: s.Ticket, Reply: s.Reply, TimeEntry: s.TimeEntry}, nil
			}
			return UpdateResult{}, translate(err)
		}
		select {
		case <-sctx.Done():
			return UpdateResult{}, fmt.Errorf("%w: settle update %s: %w", models.ErrUnavailable, updateID, serr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// knownOutcome says whether err tells for sure that the update was never
// run, so that nothing can have been committed.
func knownOutcome(err error) bool {
	var (
		busy    *serviceerror.ResourceExhausted
		started *serviceerror.WorkflowExecutionAlreadyStarted
		invalid *serviceerror.InvalidArgument
	)
	return errors.As(err, &busy) || errors.As(err, &started) || errors.As(err, &invalid)
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
