package workflows

import (
	"time"

	"github.com/ticketd/ticketd/activities"
	"github.com/ticketd/ticketd/models"
)

// LifecycleInput starts a ticket's workflow. State is set only when the
// workflow continues as new (or in tests, to start from any status).
type LifecycleInput struct {
	TicketID string
	Number   int64
	State    *models.Ticket
	Events   int64 // seq of the ticket's last timeline event, with State

	// Carried over by continue-as-new with State.
	SLAEnabled  bool             // the run that started the ticket ran the SLA engine
	Lifecycle   models.Lifecycle // the automatic-move delays in force
	StatusSince time.Time        // when the ticket entered its status
}

// Actor is who makes a change; the API has checked their permissions.
type Actor struct {
	ID   string
	Role models.Role
}

// CreateRequest creates the ticket; it is the first update of every
// workflow.
type CreateRequest struct {
	Actor          Actor
	Subject        string
	Description    string
	Priority       models.Priority
	CategoryID     *string
	CustomerID     string
	IdempotencyKey string
	RequestHash    string
	FollowUpOf     *string   // the closed ticket this one continues
	Deadline       time.Time // when the caller stops waiting; zero: none
	// SLA is the policy and lifecycle delays in force, read by the caller
	// so the workflow need not read them; nil: the workflow reads them.
	SLA *activities.LoadSLAConfigOutput
	// Attempt identifies the caller's HTTP attempt; the create's outcome is
	// recorded under it (CreateOutcomeID), and the caller settles it by it.
	Attempt string
}

// EditRequest changes fields; nil fields stay as they are.
type EditRequest struct {
	Actor       Actor
	Subject     *string
	Description *string
	Priority    *models.Priority
	SetCategory bool // CategoryID is applied, nil clears it
	CategoryID  *string
	IfVersion   int64     // 0: no precondition
	Deadline    time.Time // when the caller stops waiting; zero: none
	// SLA is the configuration of the new priority, read by the caller so
	// the workflow need not read it; nil: the workflow reads it.
	SLA *activities.LoadSLAConfigOutput
}

// StatusRequest moves the ticket to another status.
type StatusRequest struct {
	Actor    Actor
	Status   models.Status
	Reason   string
	Deadline time.Time // when the caller stops waiting; zero: none
	// SLA is the ticket's priority's configuration and the lifecycle
	// delays, read by the caller for a move that arms an automatic one
	// (resolved, pending); nil: the workflow reads them.
	SLA *activities.LoadSLAConfigOutput
}

// AssignRequest sets or clears the assignee.
type AssignRequest struct {
	Actor      Actor
	AssigneeID *string
	Deadline   time.Time // when the caller stops waiting; zero: none
}

// ReplyRequest adds a reply or an internal note.
type ReplyRequest struct {
	Actor    Actor
	Body     string
	Internal bool
	Deadline time.Time // when the caller stops waiting; zero: none
}

// TimeRequest logs time spent.
type TimeRequest struct {
	Actor    Actor
	Minutes  int
	Note     string
	Deadline time.Time // when the caller stops waiting; zero: none
}

// DeleteRequest soft-deletes the ticket and ends its workflow.
type DeleteRequest struct {
	Actor    Actor
	Deadline time.Time // when the caller stops waiting; zero: none
}

// UpdateResult is what every update returns: the ticket as stored, and the
// reply or time entry the update added.
type UpdateResult struct {
	Ticket    models.Ticket
	Reply     *models.Reply
	TimeEntry *models.TimeEntry
}
