package workflows

import "go.temporal.io/sdk/temporal"

// Every name Temporal stores. Renaming one breaks running workflows and
// recorded histories: add new names, never rename old ones.
const (
	// TaskQueue is where ticket workflows and activities run.
	TaskQueue = "tickets"

	// LifecycleWorkflow is the workflow type of TicketLifecycle.
	LifecycleWorkflow = "TicketLifecycle"

	// WorkflowIDPrefix + ticket id is a ticket's workflow ID.
	WorkflowIDPrefix = "ticket-"

	// Updates: one per kind of change.
	UpdateCreate       = "create"
	UpdateEdit         = "edit"
	UpdateChangeStatus = "change_status"
	UpdateAssign       = "assign"
	UpdateAddReply     = "add_reply"
	UpdateLogTime      = "log_time"
	UpdateDelete       = "delete"

	// CreateUpdateID is the update ID of every create: Temporal deduplicates
	// updates by ID, so a retried create attaches to the first one.
	CreateUpdateID = "create"

	// QueryState returns the live ticket state.
	QueryState = "state"

	// ActivityApplyChange persists one change of a ticket.
	ActivityApplyChange = "ApplyChange"

	// ActivityCommitChange persists one change of a ticket, keyed by its
	// update; workflows run it as a local activity.
	ActivityCommitChange = "CommitChange"

	// ActivityLoadSLAConfig reads an SLA policy and the lifecycle delays.
	ActivityLoadSLAConfig = "LoadSLAConfig"
)

// Error types of the ApplicationErrors that updates fail with. The API maps
// them to HTTP statuses.
const (
	ErrTypeClosed            = "TicketClosed"
	ErrTypeInvalidTransition = "InvalidTransition"
	ErrTypeNotFound          = "NotFound"
	ErrTypeConflict          = "Conflict"
	ErrTypeValidation        = "Validation"
	ErrTypeUnavailable       = "Unavailable"
	ErrTypePrecondition      = "PreconditionFailed"
	ErrTypeForbidden         = "Forbidden"
	// ErrTypeCreateAbandoned fails a workflow whose create was fenced by
	// its caller: the ticket never existed in that run.
	ErrTypeCreateAbandoned = "CreateAbandoned"
)

// Search attributes support leads filter on in Temporal UI. Never one named
// "Status": that would shadow Temporal's ExecutionStatus in queries.
var (
	AttrStatus   = temporal.NewSearchAttributeKeyKeyword("TicketStatus")
	AttrPriority = temporal.NewSearchAttributeKeyKeyword("TicketPriority")
	AttrAssignee = temporal.NewSearchAttributeKeyKeyword("TicketAssignee")
	AttrCustomer = temporal.NewSearchAttributeKeyKeyword("TicketCustomer")
	AttrCategory = temporal.NewSearchAttributeKeyKeyword("TicketCategory")
	AttrNumber   = temporal.NewSearchAttributeKeyInt64("TicketNumber")
	AttrSLAState = temporal.NewSearchAttributeKeyKeyword("SLAState")
	AttrSLADueAt = temporal.NewSearchAttributeKeyTime("SLADueAt")
)

// CreateOutcomeID is the key under which a create's outcome is recorded:
// one per HTTP attempt, so that fencing an attempt leaves its retry free.
func CreateOutcomeID(attempt string) string { return CreateUpdateID + ":" + attempt }

// WorkflowID is the ID of a ticket's workflow.
func WorkflowID(ticketID string) string { return WorkflowIDPrefix + ticketID }
