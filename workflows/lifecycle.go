package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/ticketd/ticketd/activities"
	"github.com/ticketd/ticketd/models"
)

// LifecycleResult is what a finished ticket workflow returns.
type LifecycleResult struct {
	Status  models.Status
	Deleted bool
}

// createTimeout bounds how long a workflow waits for its create update; a
// workflow started without one (a client that died mid-request) ends.
const createTimeout = 10 * time.Minute

// activityOptions bound a change's persistence: retries ride out a brief
// database outage, and past ScheduleToClose the update fails as unavailable
// with nothing written. The API waits longer than this for an update, so a
// 503 is never followed by a late write.
var activityOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    5 * time.Second,
	ScheduleToCloseTimeout: 8 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    100 * time.Millisecond,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Second,
	},
}

// lifecycle is the state of one ticket's workflow.
type lifecycle struct {
	ticketID string
	number   int64
	state    models.Ticket
	created  bool
	events   int64 // seq of the last timeline event
	done     bool  // closed or deleted: the workflow ends
	deleted  bool
	mu       workflow.Mutex

	slaOn       bool             // this ticket runs the SLA engine
	lifecycle   models.Lifecycle // automatic-move delays
	statusSince time.Time        // when the ticket entered its status
	dirty       bool             // state changed: recompute the next wake-up
	retryAt     time.Time        // after a failed tick, do not retry before this
	deadline    time.Time        // the running handler's caller stops waiting then

	// local: this run persists changes with a local activity inside the
	// update's own workflow task, cancels its wait timers and takes the
	// SLA configuration from the caller (the write path at the engine's
	// floor). Runs recorded before it replay the old path.
	local bool
	// abandoned: the create's caller stopped waiting and fenced it; the
	// ticket will never exist in this run.
	abandoned bool
}

// writePathChangeID gates the write path at the engine's floor: histories
// recorded before it (no marker) replay regular activities and
// AwaitWithTimeout's timers.
const writePathChangeID = "local-write-path"

// maxAdopt bounds how often one change is computed again after its
// workflow found the stored ticket ahead of it.
const maxAdopt = 3

// errBehind says the stored ticket was ahead of the workflow's copy: the
// workflow adopted it, and the change must be computed again.
var errBehind = errors.New("ticket state was behind the database")

// TicketLifecycle is the single writer of one ticket. Every change arrives
// as a Workflow Update whose validator enforces the lifecycle before anything
// is written; handlers run one at a time, persist through ApplyChange and
// return the stored ticket. Closing or deleting the ticket ends the workflow.
func TicketLifecycle(ctx workflow.Context, in LifecycleInput) (LifecycleResult, error) {
	w := &lifecycle{ticketID: in.TicketID, number: in.Number, mu: workflow.NewMutex(ctx)}
	// One version marker for a new run: the write path at the engine's floor
	// came after the SLA engine, so a run on it runs the SLA engine too.
	w.local = workflow.GetVersion(ctx, writePathChangeID, workflow.DefaultVersion, 1) == 1
	sla := 1
	if !w.local {
		sla = int(workflow.GetVersion(ctx, slaChangeID, workflow.DefaultVersion, 1))
	}
	w.slaOn = sla == 1 && (in.State == nil || in.SLAEnabled)
	if in.State != nil {
		w.state, w.created, w.events = *in.State, true, in.Events
		w.lifecycle, w.statusSince = in.Lifecycle, in.StatusSince
		w.done = in.State.Status == models.StatusClosed
	}
	if err := w.register(ctx); err != nil {
		return LifecycleResult{}, err
	}
	if w.done {
		return LifecycleResult{Status: w.state.Status}, nil
	}
	if !w.created {
		if ok, err := w.awaitWithTimeout(ctx, createTimeout, func() bool { return w.created || w.abandoned }); err != nil {
			return LifecycleResult{}, err
		} else if !ok || !w.created {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return LifecycleResult{}, err
			}
			if !w.created && w.abandoned {
				// Fail, so that the caller's retry (same Idempotency-Key,
				// same workflow ID) may start a new run.
				return LifecycleResult{}, temporal.NewNonRetryableApplicationError(
					"the ticket's create was abandoned by its caller; nothing was written", ErrTypeCreateAbandoned, nil)
			}
			if !w.created {
				workflow.GetLogger(ctx).Warn("ticket never created; ending workflow")
				return LifecycleResult{}, nil
			}
		}
	}
	for {
		if err := w.wait(ctx); err != nil {
			return LifecycleResult{}, err
		}
		// Let in-flight updates finish: their callers are waiting for a reply.
		if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
			return LifecycleResult{}, err
		}
		if w.done {
			return LifecycleResult{Status: w.state.Status, Deleted: w.deleted}, nil
		}
		state := w.state
		return LifecycleResult{}, workflow.NewContinueAsNewError(ctx, LifecycleWorkflow, LifecycleInput{
			TicketID: w.ticketID, Number: w.number, State: &state, Events: w.events,
			SLAEnabled: w.slaOn, Lifecycle: w.lifecycle, StatusSince: w.statusSince,
		})
	}
}

// wait returns once the ticket is done or should continue as new, acting
// on SLA thresholds and automatic moves as they come due.
func (w *lifecycle) wait(ctx workflow.Context) error {
	if w.local {
		return w.waitLocal(ctx)
	}
	stop := func() bool { return w.done || workflow.GetInfo(ctx).GetContinueAsNewSuggested() }
	for !stop() {
		w.dirty = false
		wake, scheduled, err := w.nextWake()
		if err != nil {
			workflow.GetLogger(ctx).Error("sla schedule failed", "err", err)
			scheduled = false
		}
		if !scheduled {
			if err := workflow.Await(ctx, func() bool { return stop() || w.dirty }); err != nil {
				return err
			}
			continue
		}
		if wake.Before(w.retryAt) {
			wake = w.retryAt
		}
		if d := wake.Sub(workflow.Now(ctx)); d > 0 {
			ok, err := workflow.AwaitWithTimeout(ctx, d, func() bool { return stop() || w.dirty })
			if err != nil {
				return err
			}
			if ok {
				continue
			}
		}
		w.tickOrRetry(ctx)
	}
	return nil
}

// waitLocal is wait with one timer for the next wake-up that lives across
// changes: a change that leaves the wake-up time as it was (most do) costs
// no timer events, and a timer whose wait ended is cancelled rather than
// left to fire an empty workflow task later.
func (w *lifecycle) waitLocal(ctx workflow.Context) error {
	stop := func() bool { return w.done || workflow.GetInfo(ctx).GetContinueAsNewSuggested() }
	var (
		timer   workflow.Future
		timerAt time.Time
		cancel  workflow.CancelFunc
	)
	stopTimer := func() {
		if cancel != nil {
			cancel()
		}
		timer, cancel = nil, nil
	}
	for !stop() {
		w.dirty = false
		wake, scheduled, err := w.nextWake()
		if err != nil {
			workflow.GetLogger(ctx).Error("sla schedule failed", "err", err)
			scheduled = false
		}
		if scheduled && wake.Before(w.retryAt) {
			wake = w.retryAt
		}
		var d time.Duration
		if scheduled {
			d = wake.Sub(workflow.Now(ctx))
		}
		if !scheduled || d > 0 {
			if !scheduled {
				stopTimer()
			} else if timer == nil || !timerAt.Equal(wake) {
				stopTimer()
				var tctx workflow.Context
				tctx, cancel = workflow.WithCancel(ctx)
				timer, timerAt = workflow.NewTimer(tctx, d), wake
			}
			t := timer
			if err := workflow.Await(ctx, func() bool { return stop() || w.dirty || (t != nil && t.IsReady()) }); err != nil {
				return err
			}
			if t == nil || !t.IsReady() {
				continue
			}
			timer, cancel = nil, nil // fired
		} else {
			stopTimer()
		}
		w.tickOrRetry(ctx)
	}
	// A workflow that ends or continues as new drops its pending timer: no
	// command is needed for it.
	return nil
}

// tickOrRetry records what has come due; when the database is away it
// tries again shortly rather than spin.
func (w *lifecycle) tickOrRetry(ctx workflow.Context) {
	if err := w.tick(ctx); err != nil {
		workflow.GetLogger(ctx).Warn("sla tick failed; retrying", "err", err)
		w.retryAt = workflow.Now(ctx).Add(10 * time.Second)
	}
}

// awaitWithTimeout is workflow.AwaitWithTimeout that, on the write path at
// the engine's floor, starts no timer when cond already holds and cancels
// its timer when cond comes true first.
func (w *lifecycle) awaitWithTimeout(ctx workflow.Context, d time.Duration, cond func() bool) (bool, error) {
	if !w.local {
		return workflow.AwaitWithTimeout(ctx, d, cond)
	}
	// An update already running (the create of an Update-with-Start) ends
	// the wait without a timer more often than not.
	if err := workflow.Await(ctx, func() bool { return cond() || workflow.AllHandlersFinished(ctx) }); err != nil {
		return false, err
	}
	if cond() {
		return true, nil
	}
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(tctx, d)
	if err := workflow.Await(ctx, func() bool { return cond() || timer.IsReady() }); err != nil {
		return false, err
	}
	return cond(), nil
}

func (w *lifecycle) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (models.Ticket, error) { return w.state, nil }); err != nil {
		return err
	}
	updates := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateCreate, w.create, w.validateCreate},
		{UpdateEdit, w.edit, w.validateEdit},
		{UpdateChangeStatus, w.changeStatus, w.validateStatus},
		{UpdateAssign, w.assign, w.validateAssign},
		{UpdateAddReply, w.addReply, w.validateReply},
		{UpdateLogTime, w.logTime, w.validateTime},
		{UpdateDelete, w.delete, w.validateDelete},
	}
	for _, u := range updates {
		opts := workflow.UpdateHandlerOptions{Validator: u.validator}
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name, u.handler, opts); err != nil {
			return fmt.Errorf("register update %s: %w", u.name, err)
		}
	}
	return nil
}

// ---- validators: pure checks against the current state, before anything
// is written or even recorded in history.

func appErr(typ, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), typ, nil)
}

// checkChangeable is the rule every change shares: the ticket exists and is
// not closed or deleted.
func (w *lifecycle) checkChangeable() error {
	switch {
	case !w.created || w.deleted:
		return appErr(ErrTypeNotFound, "ticket %s does not exist", w.ticketID)
	case w.state.Status == models.StatusClosed:
		return appErr(ErrTypeClosed, "ticket #%d is closed", w.state.Number)
	}
	return nil
}

func (w *lifecycle) validateCreate(_ workflow.Context, r CreateRequest) error {
	if w.created {
		return nil // a replay of the same create: the handler returns the ticket
	}
	v := &models.ValidationError{}
	if strings.TrimSpace(r.Subject) == "" {
		v.Add("subject", "must not be empty")
	}
	if strings.TrimSpace(r.Description) == "" {
		v.Add("description", "must not be empty")
	}
	if !r.Priority.Valid() {
		v.Add("priority", "must be one of low, normal, high, urgent")
	}
	if r.CustomerID == "" {
		v.Add("customer_id", "is required")
	}
	if err := v.Err(); err != nil {
		return appErr(ErrTypeValidation, "%s", err)
	}
	return nil
}

func (w *lifecycle) validateEdit(_ workflow.Context, r EditRequest) error {
	if err := w.checkChangeable(); err != nil {
		return err
	}
	if r.IfVersion != 0 && r.IfVersion != w.state.Version {
		return appErr(ErrTypePrecondition, "ticket is at version %d, not %d", w.state.Version, r.IfVersion)
	}
	if r.Priority != nil && !r.Priority.Valid() {
		return appErr(ErrTypeValidation, "priority %q is not valid", *r.Priority)
	}
	if (r.Subject != nil && strings.TrimSpace(*r.Subject) == "") || (r.Description != nil && strings.TrimSpace(*r.Description) == "") {
		return appErr(ErrTypeValidation, "subject and description must not be blank")
	}
	return nil
}

func (w *lifecycle) validateStatus(_ workflow.Context, r StatusRequest) error {
	if err := w.checkChangeable(); err != nil {
		return err
	}
	if !models.CanTransition(w.state.Status, r.Status) {
		return appErr(ErrTypeInvalidTransition, "cannot move ticket #%d from %s to %s", w.state.Number, w.state.Status, r.Status)
	}
	return nil
}

func (w *lifecycle) validateAssign(_ workflow.Context, _ AssignRequest) error {
	return w.checkChangeable()
}

func (w *lifecycle) validateReply(_ workflow.Context, r ReplyRequest) error {
	if err := w.checkChangeable(); err != nil {
		return err
	}
	if r.Internal && !r.Actor.Role.IsStaff() {
		return appErr(ErrTypeForbidden, "customers cannot post internal notes")
	}
	if strings.TrimSpace(r.Body) == "" {
		return appErr(ErrTypeValidation, "body must not be empty")
	}
	return nil
}

func (w *lifecycle) validateTime(_ workflow.Context, r TimeRequest) error {
	if err := w.checkChangeable(); err != nil {
		return err
	}
	if r.Minutes < 1 || r.Minutes > 1440 {
		return appErr(ErrTypeValidation, "minutes must be between 1 and 1440")
	}
	return nil
}

func (w *lifecycle) validateDelete(_ workflow.Context, _ DeleteRequest) error {
	return w.checkChangeable()
}

// ---- handlers: serialised by the mutex (see change), they re-validate
// (another update may have run since the validator), compute the change from
// the current state, persist it, and adopt the stored ticket as the new
// state.

// change runs one update: under the mutex and the caller's deadline it
// validates against the current state, builds the change (nil: nothing
// changes) and persists it. When the workflow finds the stored ticket ahead
// of its copy (a change committed by a workflow task that then failed), it
// adopts the stored ticket and builds the change again.
func (w *lifecycle) change(ctx workflow.Context, deadline time.Time, validate func() error,
	build func() (*models.Change, error)) (UpdateResult, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return UpdateResult{}, err
	}
	defer w.mu.Unlock()
	w.deadline = deadline
	defer func() { w.deadline = time.Time{} }()
	for attempt := 0; ; attempt++ {
		if err := validate(); err != nil {
			return UpdateResult{}, err
		}
		before := w.events
		c, err := build()
		if err != nil {
			w.events = before
			return UpdateResult{}, err
		}
		if c == nil {
			return UpdateResult{Ticket: w.state}, nil // nothing changes: no new version
		}
		if w.local && c.UpdateID == "" {
			c.UpdateID = workflow.GetCurrentUpdateInfo(ctx).ID
		}
		res, err := w.apply(ctx, *c)
		if errors.Is(err, errBehind) && attempt < maxAdopt {
			continue
		}
		if errors.Is(err, errBehind) {
			err = appErr(ErrTypeUnavailable, "ticket %s kept moving; nothing was changed", w.ticketID)
		}
		return res, err
	}
}

func (w *lifecycle) create(ctx workflow.Context, r CreateRequest) (UpdateResult, error) {
	return w.change(ctx, r.Deadline, func() error { return nil }, func() (*models.Change, error) {
		if w.created {
			return nil, nil // a retried create: its ticket
		}
		now := now(ctx)
		t := models.Ticket{
			ID: w.ticketID, Number: w.number,
			Subject: r.Subject, Description: r.Description,
			Status: models.StatusNew, Priority: r.Priority,
			CategoryID: r.CategoryID, CustomerID: r.CustomerID,
			CreatedBy: r.Actor.ID, UpdatedBy: r.Actor.ID,
			CreatedAt: now, UpdatedAt: now, Version: 1,
		}
		if w.slaOn {
			cfg, err := w.createConfig(ctx, r)
			if err != nil {
				return nil, err
			}
			if t.SLA, err = startSLA(cfg.Policy, now); err != nil {
				return nil, appErr(ErrTypeValidation, "sla: %v", err)
			}
		}
		t.FollowUpOf = r.FollowUpOf
		c := models.Change{Ticket: t, Create: true}
		if w.local && r.Attempt != "" {
			// Keyed by the HTTP attempt: a fenced attempt must not fence
			// the caller's retry, which reuses the update ID "create".
			c.UpdateID = CreateOutcomeID(r.Attempt)
		}
		c.Events = []models.Event{w.event(t, r.Actor, models.EventCreated, false, models.EventData{
			"status": t.Status, "priority": t.Priority, "subject": t.Subject,
		})}
		if r.IdempotencyKey != "" {
			c.Idempotency = &models.IdempotencyKey{
				UserID: r.Actor.ID, Key: r.IdempotencyKey, RequestHash: r.RequestHash, TicketID: t.ID, CreatedAt: now,
			}
		}
		return &c, nil
	})
}

func (w *lifecycle) edit(ctx workflow.Context, r EditRequest) (UpdateResult, error) {
	return w.change(ctx, r.Deadline, func() error { return w.validateEdit(ctx, r) }, func() (*models.Change, error) {
		t := w.state
		var fields []string
		if r.Subject != nil && *r.Subject != t.Subject {
			t.Subject, fields = *r.Subject, append(fields, "subject")
		}
		if r.Description != nil && *r.Description != t.Description {
			t.Description, fields = *r.Description, append(fields, "description")
		}
		if r.Priority != nil && *r.Priority != t.Priority {
			t.Priority, fields = *r.Priority, append(fields, "priority")
		}
		if r.SetCategory && !equalPtr(r.CategoryID, t.CategoryID) {
			t.CategoryID, fields = r.CategoryID, append(fields, "category_id")
		}
		if len(fields) == 0 {
			return nil, nil
		}
		t = w.next(ctx, t, r.Actor)
		if slices.Contains(fields, "priority") && t.SLA != nil {
			cfg, err := w.configFor(ctx, r.SLA, t.Priority)
			if err != nil {
				return nil, err
			}
			if err := applyPolicy(t.SLA, cfg.Policy, t.UpdatedAt); err != nil {
				return nil, appErr(ErrTypeValidation, "sla: %v", err)
			}
		}
		return &models.Change{Ticket: t, Events: []models.Event{
			w.event(t, r.Actor, models.EventUpdated, false, models.EventData{"fields": fields}),
		}}, nil
	})
}

func (w *lifecycle) changeStatus(ctx workflow.Context, r StatusRequest) (UpdateResult, error) {
	return w.change(ctx, r.Deadline, func() error { return w.validateStatus(ctx, r) }, func() (*models.Change, error) {
		if w.slaOn && (r.Status == models.StatusResolved || r.Status == models.StatusPending) {
			// Arm the automatic move with the delays in force now.
			if _, err := w.configFor(ctx, r.SLA, w.state.Priority); err != nil {
				return nil, err
			}
		}
		t := w.next(ctx, w.state, r.Actor)
		ev, err := w.moveTo(&t, r.Actor, r.Status, r.Reason, false)
		if err != nil {
			return nil, err
		}
		return &models.Change{Ticket: t, Events: []models.Event{ev}}, nil
	})
}

func (w *lifecycle) assign(ctx workflow.Context, r AssignRequest) (UpdateResult, error) {
	return w.change(ctx, r.Deadline, func() error { return w.validateAssign(ctx, r) }, func() (*models.Change, error) {
		if equalPtr(r.AssigneeID, w.state.AssigneeID) {
			return nil, nil
		}
		t := w.next(ctx, w.state, r.Actor)
		from := t.AssigneeID
		t.AssigneeID = r.AssigneeID
		events := []models.Event{w.event(t, r.Actor, models.EventAssigned, false, models.EventData{"from": from, "to": r.AssigneeID})}
		if t.Status == models.StatusNew && r.AssigneeID != nil {
			ev, err := w.moveTo(&t, r.Actor, models.StatusOpen, "", true)
			if err != nil {
				return nil, err
			}
			events = append(events, ev)
		}
		return &models.Change{Ticket: t, Events: events}, nil
	})
}

func (w *lifecycle) addReply(ctx workflow.Context, r ReplyRequest) (UpdateResult, error) {
	return w.change(ctx, r.Deadline, func() error { return w.validateReply(ctx, r) }, func() (*models.Change, error) {
		t := w.next(ctx, w.state, r.Actor)
		reply := &models.Reply{
			ID: w.childID("reply", w.events+1), TicketID: t.ID, AuthorID: r.Actor.ID,
			Body: r.Body, Internal: r.Internal, CreatedAt: t.UpdatedAt,
		}
		events := []models.Event{w.event(t, r.Actor, models.EventReplied, r.Internal, models.EventData{
			"reply_id": reply.ID, "internal": r.Internal,
		})}
		if !r.Internal && r.Actor.Role.IsStaff() && t.FirstResponseAt == nil {
			at := t.UpdatedAt
			t.FirstResponseAt = &at
			if t.SLA != nil {
				if err := t.SLA.FirstResponse.Stop(t.SLA.Calendar, at, "first_response", ""); err != nil {
					return nil, appErr(ErrTypeValidation, "sla: %v", err)
				}
			}
		}
		if !r.Internal && r.Actor.Role == models.RoleCustomer && models.ReopensOnCustomerReply(t.Status) {
			ev, err := w.moveTo(&t, r.Actor, models.StatusOpen, "customer replied", true)
			if err != nil {
				return nil, err
			}
			events = append(events, ev)
		}
		return &models.Change{Ticket: t, Events: events, Reply: reply}, nil
	})
}

func (w *lifecycle) logTime(ctx workflow.Context, r TimeRequest) (UpdateResult, error) {
	return w.change(ctx, r.Deadline, func() error { return w.validateTime(ctx, r) }, func() (*models.Change, error) {
		t := w.next(ctx, w.state, r.Actor)
		t.TimeSpentMinutes += r.Minutes
		entry := &models.TimeEntry{
			ID: w.childID("time", w.events+1), TicketID: t.ID, AuthorID: r.Actor.ID,
			Minutes: r.Minutes, Note: r.Note, CreatedAt: t.UpdatedAt,
		}
		events := []models.Event{w.event(t, r.Actor, models.EventTimeLogged, true, models.EventData{
			"time_entry_id": entry.ID, "minutes": r.Minutes,
		})}
		return &models.Change{Ticket: t, Events: events, TimeEntry: entry}, nil
	})
}

func (w *lifecycle) delete(ctx workflow.Context, r DeleteRequest) (UpdateResult, error) {
	return w.change(ctx, r.Deadline, func() error { return w.validateDelete(ctx, r) }, func() (*models.Change, error) {
		t := w.next(ctx, w.state, r.Actor)
		return &models.Change{Ticket: t, Delete: true, Events: []models.Event{
			w.event(t, r.Actor, models.EventDeleted, false, models.EventData{}),
		}}, nil
	})
}

// ---- helpers

// now is the workflow's deterministic clock, at the database's precision.
func now(ctx workflow.Context) time.Time {
	return workflow.Now(ctx).UTC().Truncate(time.Microsecond)
}

// next stamps t as the next version, changed now by actor.
func (w *lifecycle) next(ctx workflow.Context, t models.Ticket, actor Actor) models.Ticket {
	t.SLA = t.SLA.Clone()
	t.Version++
	t.UpdatedAt = now(ctx)
	t.UpdatedBy = actor.ID
	return t
}

// moveTo changes t's status with its timestamps and SLA clocks and returns
// the event.
func (w *lifecycle) moveTo(t *models.Ticket, actor Actor, to models.Status, reason string, automatic bool) (models.Event, error) {
	from := t.Status
	if err := slaOnStatus(t.SLA, from, to, t.UpdatedAt, reason); err != nil {
		return models.Event{}, appErr(ErrTypeValidation, "sla: %v", err)
	}
	t.Status = to
	t.StatusReason = nil
	if reason != "" {
		t.StatusReason = &reason
	}
	at := t.UpdatedAt
	switch to {
	case models.StatusResolved:
		t.ResolvedAt = &at
	case models.StatusClosed:
		t.ClosedAt = &at
		if t.ResolvedAt == nil {
			t.ResolvedAt = &at
		}
	default:
		t.ResolvedAt = nil
	}
	data := models.EventData{"from": from, "to": to}
	if reason != "" {
		data["reason"] = reason
	}
	if automatic {
		data["automatic"] = true
	}
	return w.event(*t, actor, models.EventStatusChanged, false, data), nil
}

// event makes the next timeline event. Its ID derives from the ticket and
// its position, so a retried activity writes the same row.
func (w *lifecycle) event(t models.Ticket, actor Actor, typ models.EventType, internal bool, data models.EventData) models.Event {
	w.events++
	return models.Event{
		ID: w.childID("event", w.events), TicketID: t.ID, Seq: w.events, Type: typ,
		ActorID: actor.ID, Internal: internal, Data: data, CreatedAt: t.UpdatedAt,
	}
}

func (w *lifecycle) childID(kind string, seq int64) string {
	return uuid.NewSHA1(uuid.MustParse(w.ticketID), fmt.Appendf(nil, "%s-%d", kind, seq)).String()
}

// apply persists c and adopts the stored ticket. On failure the event
// counter is restored: nothing was written.
func (w *lifecycle) apply(ctx workflow.Context, c models.Change) (UpdateResult, error) {
	if w.local {
		return w.commit(ctx, c)
	}
	before := c.Events[0].Seq - 1
	var out activities.ApplyChangeOutput
	err := w.execute(ctx, ActivityApplyChange, activities.ApplyChangeInput{Change: c}).Get(ctx, &out)
	if err != nil {
		w.events = before
		return UpdateResult{}, persistError(err)
	}
	return w.adopted(ctx, c, out.Ticket, w.events)
}

// commit persists c with a local activity in this workflow task, keyed by
// the update that makes it (c.UpdateID; empty for SLA ticks). When the stored ticket is ahead of the
// workflow's copy, it adopts the stored one and returns errBehind.
func (w *lifecycle) commit(ctx workflow.Context, c models.Change) (UpdateResult, error) {
	before := c.Events[0].Seq - 1
	if !c.Create {
		prior := w.state
		c.Prior = &prior
	}
	var out activities.CommitChangeOutput
	err := w.executeLocal(ctx, ActivityCommitChange, activities.CommitChangeInput{Change: c}).Get(ctx, &out)
	if err != nil {
		w.events = before
		var app *temporal.ApplicationError
		if c.Create && errors.As(err, &app) && app.Type() == activities.ErrTypeAbandoned {
			w.abandoned = true
		}
		return UpdateResult{}, persistError(err)
	}
	// An applied change's result leaves the ticket out (runs recorded
	// before that carry it, equal to c.Stored()).
	stored := c.Stored()
	if out.Ticket != nil {
		stored = *out.Ticket
	} else if !out.Applied {
		return UpdateResult{}, persistError(fmt.Errorf("commit of ticket %s returned no ticket", c.Ticket.ID))
	}
	if out.Behind {
		w.adopt(stored, out.LastSeq)
		return UpdateResult{}, errBehind
	}
	res, err := w.adopted(ctx, c, stored, out.LastSeq)
	if err == nil && res.Reply != nil && out.ReplyID != nil && *out.ReplyID != res.Reply.ID {
		// A re-run found the reply an earlier attempt committed.
		r := *res.Reply
		r.ID = *out.ReplyID
		res.Reply = &r
	}
	if err == nil && res.TimeEntry != nil && out.TimeEntryID != nil && *out.TimeEntryID != res.TimeEntry.ID {
		e := *res.TimeEntry
		e.ID = *out.TimeEntryID
		res.TimeEntry = &e
	}
	return res, err
}

// adopted makes the stored ticket t, whose last event is lastSeq, the
// workflow's state after c was stored, and publishes it.
func (w *lifecycle) adopted(ctx workflow.Context, c models.Change, t models.Ticket, lastSeq int64) (UpdateResult, error) {
	if t.Status != w.state.Status || c.Create {
		w.statusSince = c.Ticket.UpdatedAt
	}
	w.state, w.events, w.dirty = t, lastSeq, true
	w.created = true
	if c.Delete {
		w.deleted, w.done = true, true
	}
	if t.Status == models.StatusClosed {
		w.done = true
	}
	if err := w.publish(ctx); err != nil {
		return UpdateResult{}, err
	}
	return UpdateResult{Ticket: t, Reply: c.Reply, TimeEntry: c.TimeEntry}, nil
}

// adopt takes the stored ticket, ahead of the workflow's copy, as the state.
func (w *lifecycle) adopt(t models.Ticket, lastSeq int64) {
	if t.Status != w.state.Status {
		w.statusSince = t.UpdatedAt
	}
	w.state, w.events, w.dirty, w.created = t, lastSeq, true, true
	if t.DeletedAt.Valid {
		w.deleted, w.done = true, true
	}
	if t.Status == models.StatusClosed {
		w.done = true
	}
}

// configFor is the SLA configuration of priority p: the one the caller read
// with the request on the write path at the engine's floor, else read by an
// activity.
func (w *lifecycle) configFor(ctx workflow.Context, fromCaller *activities.LoadSLAConfigOutput, p models.Priority) (activities.LoadSLAConfigOutput, error) {
	if w.local && fromCaller != nil && fromCaller.Policy.Priority == p {
		w.lifecycle = fromCaller.Lifecycle
		return *fromCaller, nil
	}
	return w.loadConfig(ctx, p)
}

// executeLocal runs a local activity within the caller's deadline, like
// execute: the write path at the engine's floor commits changes this way.
func (w *lifecycle) executeLocal(ctx workflow.Context, activity string, arg any) workflow.Future {
	opts := workflow.LocalActivityOptions{
		StartToCloseTimeout:    activityOptions.StartToCloseTimeout,
		ScheduleToCloseTimeout: activityOptions.ScheduleToCloseTimeout,
		RetryPolicy:            activityOptions.RetryPolicy,
	}
	left, ok := w.timeLeft(ctx)
	if !ok {
		return expired(ctx)
	}
	opts.ScheduleToCloseTimeout = min(opts.ScheduleToCloseTimeout, left)
	opts.StartToCloseTimeout = min(opts.StartToCloseTimeout, left)
	return workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, opts), activity, arg)
}

// execute runs a regular activity: SLA configuration reads, and every
// change of runs recorded before the write path at the engine's floor
// (see writePathChangeID).
//
// While a caller waits (w.deadline), the activity's timeouts end by the
// caller's deadline: the caller answers 503 then, and a 503 must not be
// followed by a late write. With less than minActivityTime left, nothing
// starts.
func (w *lifecycle) execute(ctx workflow.Context, activity string, arg any) workflow.Future {
	opts := activityOptions
	left, ok := w.timeLeft(ctx)
	if !ok {
		return expired(ctx)
	}
	opts.ScheduleToCloseTimeout = min(opts.ScheduleToCloseTimeout, left)
	opts.StartToCloseTimeout = min(opts.StartToCloseTimeout, left)
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), activity, arg)
}

// timeLeft is how long an activity may run before the waiting caller's
// deadline (the activity's own budget when nobody waits); ok is false when
// that is too little to start one.
func (w *lifecycle) timeLeft(ctx workflow.Context) (left time.Duration, ok bool) {
	if w.deadline.IsZero() {
		return activityOptions.ScheduleToCloseTimeout, true
	}
	left = w.deadline.Sub(workflow.Now(ctx))
	return left, left >= minActivityTime
}

// expired is the outcome of an activity not started for lack of time.
func expired(ctx workflow.Context) workflow.Future {
	f, set := workflow.NewFuture(ctx)
	set.SetError(temporal.NewApplicationError("the request waited too long for its turn; nothing was changed", "Expired"))
	return f
}

// minActivityTime is the least time worth starting a change with.
const minActivityTime = 500 * time.Millisecond

// persistError gives the API a stable error type for a failed persistence.
func persistError(err error) error {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		switch app.Type() {
		case activities.ErrTypeConflict:
			return appErr(ErrTypeConflict, "%s", app.Error())
		case activities.ErrTypeNotFound:
			return appErr(ErrTypeNotFound, "%s", app.Error())
		case activities.ErrTypeInvalid:
			return appErr(ErrTypeValidation, "%s", app.Error())
		}
	}
	return appErr(ErrTypeUnavailable, "could not save the change: %v", err)
}

// publish keeps Temporal UI current: search attributes and details.
func (w *lifecycle) publish(ctx workflow.Context) error {
	t := w.state
	current := workflow.GetTypedSearchAttributes(ctx)
	var ups []temporal.SearchAttributeUpdate
	setKeyword := func(key temporal.SearchAttributeKeyKeyword, v string) {
		old, ok := current.GetKeyword(key)
		switch {
		case v == "" && ok:
			ups = append(ups, key.ValueUnset())
		case v != "" && (!ok || old != v):
			ups = append(ups, key.ValueSet(v))
		}
	}
	setKeyword(AttrStatus, string(t.Status))
	setKeyword(AttrPriority, string(t.Priority))
	setKeyword(AttrCustomer, t.CustomerID)
	setKeyword(AttrAssignee, deref(t.AssigneeID))
	setKeyword(AttrCategory, deref(t.CategoryID))
	if n, ok := current.GetInt64(AttrNumber); !ok || n != t.Number {
		ups = append(ups, AttrNumber.ValueSet(t.Number))
	}
	if state, due := slaHeadline(t.SLA); state != "" {
		setKeyword(AttrSLAState, string(state))
		old, ok := current.GetTime(AttrSLADueAt)
		switch {
		case due == nil && ok:
			ups = append(ups, AttrSLADueAt.ValueUnset())
		case due != nil && (!ok || !old.Equal(*due)):
			ups = append(ups, AttrSLADueAt.ValueSet(*due))
		}
	}
	if len(ups) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(ctx, ups...); err != nil {
			return fmt.Errorf("upsert search attributes: %w", err)
		}
	}
	workflow.SetCurrentDetails(ctx, details(t))
	return nil
}

// details is the markdown Temporal UI shows for the running ticket.
func details(t models.Ticket) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**#%d** %s\n\n", t.Number, t.Subject)
	fmt.Fprintf(&b, "- Status: `%s`", t.Status)
	if t.StatusReason != nil {
		fmt.Fprintf(&b, " (%s)", *t.StatusReason)
	}
	fmt.Fprintf(&b, "\n- Priority: `%s`\n- Customer: `%s`\n- Assignee: `%s`\n- Version: %d, updated %s\n",
		t.Priority, t.CustomerID, orNone(t.AssigneeID), t.Version, t.UpdatedAt.Format(time.RFC3339))
	if t.FirstResponseAt != nil {
		fmt.Fprintf(&b, "- First response: %s\n", t.FirstResponseAt.Format(time.RFC3339))
	}
	if t.TimeSpentMinutes > 0 {
		fmt.Fprintf(&b, "- Time spent: %d min\n", t.TimeSpentMinutes)
	}
	return b.String()
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func orNone(p *string) string {
	if p == nil {
		return "none"
	}
	return *p
}

func equalPtr(a, b *string) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// Summary is the static summary of a ticket's workflow in Temporal UI.
func Summary(number int64, subject string) string {
	s := fmt.Sprintf("#%d %s", number, subject)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:199]) + "…"
	}
	return s
}
