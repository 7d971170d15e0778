package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/ticketd/ticketd/activities"
	"github.com/ticketd/ticketd/models"
)

// These tests drive TicketLifecycle through the SDK's test environment: the
// clock skips ahead, ApplyChange is a fake that "stores" what it is given, and
// every change is sent as a Workflow Update, the way the API sends it.

const testTicketID = "3f1c2f0e-7d5e-4c3a-9a53-2b6f1f9c8e11"

var (
	// testStart is the workflow clock at start; an update sent d after start
	// stamps its change with testStart+d.
	testStart = time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC)
	// testResolvedAt is when a fixture that starts resolved (or closed) was resolved.
	testResolvedAt = testStart.Add(-time.Hour)

	testCustomer = Actor{ID: "customer-1", Role: models.RoleCustomer}
	testAgent    = Actor{ID: "agent-1", Role: models.RoleAgent}
	testAdmin    = Actor{ID: "admin-1", Role: models.RoleAdmin}
)

// ---- the fake activity

// fakeStore stands in for the ApplyChange activity: it returns the ticket of
// the change as stored (as the database would after the write) and records
// every change it receives, failed attempts included.
type fakeStore struct {
	mu      sync.Mutex
	changes []models.Change
	times   []time.Time // the test clock at each call
	now     func() time.Time
	failure error // returned by every call while set
}

func (f *fakeStore) ApplyChange(_ context.Context, in activities.ApplyChangeInput) (activities.ApplyChangeOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, in.Change)
	if f.now != nil {
		f.times = append(f.times, f.now())
	}
	if f.failure != nil {
		return activities.ApplyChangeOutput{}, f.failure
	}
	return activities.ApplyChangeOutput{Ticket: in.Change.Ticket}, nil
}

// CommitChange stands in for the CommitChange local activity the same way.
func (f *fakeStore) CommitChange(ctx context.Context, in activities.CommitChangeInput) (activities.CommitChangeOutput, error) {
	if _, err := f.ApplyChange(ctx, activities.ApplyChangeInput{Change: in.Change}); err != nil {
		return activities.CommitChangeOutput{}, err
	}
	events := in.Change.Events
	// Applied: like the real activity, the result leaves the ticket out.
	return activities.CommitChangeOutput{LastSeq: events[len(events)-1].Seq, Applied: true}, nil
}

func (f *fakeStore) setFailure(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failure = err
}

func (f *fakeStore) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.changes)
}

// change returns the i-th change received.
func (f *fakeStore) change(t *testing.T, i int) models.Change {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Greater(t, len(f.changes), i, "ApplyChange was called %d times", len(f.changes))
	return f.changes[i]
}

// last returns the last change received.
func (f *fakeStore) last(t *testing.T) models.Change {
	t.Helper()
	return f.change(t, f.calls()-1)
}

// ---- the fake SLA configuration

// Default SLA settings of the fake LoadSLAConfig: targets long enough that
// no SLA timer fires within the hour a lifecycle test runs.
var (
	testWarnAt = []float64{0.75, 0.9}
	// testTargets are each priority's first-response and resolution targets.
	testTargets = map[models.Priority][2]time.Duration{
		models.PriorityLow:    {24 * time.Hour, 120 * time.Hour},
		models.PriorityNormal: {8 * time.Hour, 72 * time.Hour},
		models.PriorityHigh:   {4 * time.Hour, 24 * time.Hour},
		models.PriorityUrgent: {time.Hour, 8 * time.Hour},
	}
	testLifecycle = models.Lifecycle{ResolvedAutoCloseSeconds: 96 * 3600, PendingAutoResolveSeconds: 7 * 24 * 3600}
)

// testPolicy is the default policy of p: around the clock, warnings at 75%
// and 90%, no escalation.
func testPolicy(p models.Priority) models.Policy {
	targets := testTargets[p]
	return models.Policy{
		Priority:             p,
		FirstResponseSeconds: int64(targets[0] / time.Second),
		ResolutionSeconds:    int64(targets[1] / time.Second),
		WarnAt:               slices.Clone(testWarnAt),
	}
}

// fakeSLAConfig stands in for the LoadSLAConfig activity: it returns the
// policy of the priority asked for and the lifecycle delays, and records
// every request.
type fakeSLAConfig struct {
	mu        sync.Mutex
	policies  map[models.Priority]models.Policy
	lifecycle models.Lifecycle
	requests  []models.Priority
	failure   error // returned by every call while set
}

func newFakeSLAConfig() *fakeSLAConfig {
	f := &fakeSLAConfig{policies: map[models.Priority]models.Policy{}, lifecycle: testLifecycle}
	for _, p := range models.Priorities {
		f.policies[p] = testPolicy(p)
	}
	return f
}

func (f *fakeSLAConfig) LoadSLAConfig(_ context.Context, in activities.LoadSLAConfigInput) (activities.LoadSLAConfigOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, in.Priority)
	if f.failure != nil {
		return activities.LoadSLAConfigOutput{}, f.failure
	}
	p, ok := f.policies[in.Priority]
	if !ok {
		return activities.LoadSLAConfigOutput{}, temporal.NewNonRetryableApplicationError("no policy", activities.ErrTypeNotFound, nil)
	}
	p.WarnAt = slices.Clone(p.WarnAt)
	return activities.LoadSLAConfigOutput{Policy: p, Lifecycle: f.lifecycle}, nil
}

// setPolicy replaces the policy of p.
func (f *fakeSLAConfig) setPolicy(p models.Policy) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.policies[p.Priority] = p
}

// setAll changes every priority's policy with fn.
func (f *fakeSLAConfig) setAll(fn func(*models.Policy)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for p, policy := range f.policies {
		fn(&policy)
		f.policies[p] = policy
	}
}

func (f *fakeSLAConfig) setLifecycle(l models.Lifecycle) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lifecycle = l
}

func (f *fakeSLAConfig) setFailure(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failure = err
}

// requested returns the priorities asked for so far.
func (f *fakeSLAConfig) requested() []models.Priority {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// ---- the harness

// lifecycleHarness is one test workflow environment with the fake store
// and the fake SLA configuration.
type lifecycleHarness struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	store *fakeStore
	sla   *fakeSLAConfig
}

func newLifecycleHarness(t *testing.T) *lifecycleHarness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(testStart)
	env.RegisterWorkflowWithOptions(TicketLifecycle, workflow.RegisterOptions{Name: LifecycleWorkflow})
	store := &fakeStore{now: env.Now}
	env.RegisterActivityWithOptions(store.ApplyChange, activity.RegisterOptions{Name: ActivityApplyChange})
	env.RegisterActivityWithOptions(store.CommitChange, activity.RegisterOptions{Name: ActivityCommitChange})
	sla := newFakeSLAConfig()
	env.RegisterActivityWithOptions(sla.LoadSLAConfig, activity.RegisterOptions{Name: ActivityLoadSLAConfig})
	return &lifecycleHarness{t: t, env: env, store: store, sla: sla}
}

// updateOutcome is what the update callbacks reported.
type updateOutcome struct {
	accepted, rejected, completed bool
	err                           error // the rejection or the handler's error
	result                        UpdateResult
}

func (o *updateOutcome) succeeded() bool {
	return o.accepted && o.completed && !o.rejected && o.err == nil
}

// at runs fn on the workflow clock, d after start.
func (h *lifecycleHarness) at(d time.Duration, fn func()) {
	h.env.RegisterDelayedCallback(fn, d)
}

// sendNow sends an update; call it from a callback registered with at.
func (h *lifecycleHarness) sendNow(name, id string, req any) *updateOutcome {
	o := &updateOutcome{}
	h.sendInto(o, name, id, req)
	return o
}

func (h *lifecycleHarness) sendInto(o *updateOutcome, name, id string, req any) {
	h.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
		OnAccept: func() { o.accepted = true },
		OnReject: func(err error) { o.rejected, o.err = true, err },
		OnComplete: func(v any, err error) {
			o.completed, o.err = true, err
			if r, ok := v.(UpdateResult); ok {
				o.result = r
			}
		},
	}, req)
}

// update sends an update d after start; its outcome is filled in as the
// workflow runs.
func (h *lifecycleHarness) update(d time.Duration, name string, req any) *updateOutcome {
	return h.updateWithID(d, name, "", req)
}

func (h *lifecycleHarness) updateWithID(d time.Duration, name, id string, req any) *updateOutcome {
	o := &updateOutcome{}
	h.at(d, func() { h.sendInto(o, name, id, req) })
	return o
}

// query returns the workflow's live state; call it from a callback (which
// is why it does not stop the test on failure).
func (h *lifecycleHarness) query() models.Ticket {
	h.t.Helper()
	var got models.Ticket
	v, err := h.env.QueryWorkflow(QueryState)
	if assert.NoError(h.t, err) {
		assert.NoError(h.t, v.Get(&got))
	}
	return got
}

// queryAt records the live state d after start.
func (h *lifecycleHarness) queryAt(d time.Duration) *models.Ticket {
	got := &models.Ticket{}
	h.at(d, func() { *got = h.query() })
	return got
}

// run executes the workflow to its end. A workflow still waiting for changes
// an hour in is cancelled, so every test ends.
func (h *lifecycleHarness) run(in LifecycleInput) {
	h.t.Helper()
	h.runFor(in, time.Hour)
}

// runFor executes the workflow to its end, cancelling it d after start if
// it is still running then.
func (h *lifecycleHarness) runFor(in LifecycleInput, d time.Duration) {
	h.t.Helper()
	h.at(d, h.env.CancelWorkflow)
	h.env.ExecuteWorkflow(LifecycleWorkflow, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
}

// runFrom executes the workflow of an existing ticket, as after continue-as-new.
func (h *lifecycleHarness) runFrom(t models.Ticket) {
	h.t.Helper()
	h.run(LifecycleInput{TicketID: testTicketID, Number: 1, State: &t, Events: 3})
}

// result is the workflow's result; it must have ended by itself.
func (h *lifecycleHarness) result() LifecycleResult {
	h.t.Helper()
	require.NoError(h.t, h.env.GetWorkflowError())
	var res LifecycleResult
	require.NoError(h.t, h.env.GetWorkflowResult(&res))
	return res
}

// requireStillRunning checks the workflow was still waiting for changes
// when the harness cancelled it.
func (h *lifecycleHarness) requireStillRunning() {
	h.t.Helper()
	err := h.env.GetWorkflowError()
	require.Error(h.t, err)
	require.True(h.t, temporal.IsCanceledError(err), "workflow ended by itself: %v", err)
}

// ---- fixtures and assertions

// ticketIn is a ticket at version 3 (three events) in status s.
func ticketIn(s models.Status) models.Ticket {
	created := testStart.Add(-48 * time.Hour)
	t := models.Ticket{
		ID: testTicketID, Number: 1,
		Subject: "Printer is on fire", Description: "It smells of toner.",
		Status: s, Priority: models.PriorityNormal, CustomerID: testCustomer.ID,
		CreatedBy: testCustomer.ID, UpdatedBy: testAgent.ID,
		CreatedAt: created, UpdatedAt: testResolvedAt, Version: 3,
	}
	switch s {
	case models.StatusResolved:
		t.ResolvedAt = new(testResolvedAt)
	case models.StatusClosed:
		t.ResolvedAt, t.ClosedAt = new(testResolvedAt), new(testResolvedAt)
	}
	return t
}

func requireAppErr(t *testing.T, err error, typ string) {
	t.Helper()
	var app *temporal.ApplicationError
	require.ErrorAs(t, err, &app)
	require.Equal(t, typ, app.Type(), "error: %v", err)
}

func requireSucceeded(t *testing.T, o *updateOutcome) {
	t.Helper()
	require.False(t, o.rejected, "update rejected: %v", o.err)
	require.True(t, o.accepted, "update not accepted")
	require.True(t, o.completed, "update not completed")
	require.NoError(t, o.err)
}

// requireRejected checks the validator refused the update: nothing was
// recorded in history.
func requireRejected(t *testing.T, o *updateOutcome, typ string) {
	t.Helper()
	require.True(t, o.rejected, "update not rejected (accepted %v, completed %v, err %v)", o.accepted, o.completed, o.err)
	require.False(t, o.accepted)
	require.False(t, o.completed)
	requireAppErr(t, o.err, typ)
}

// requireFailed checks the validator accepted the update and its handler failed.
func requireFailed(t *testing.T, o *updateOutcome, typ string) {
	t.Helper()
	require.False(t, o.rejected, "update rejected: %v", o.err)
	require.True(t, o.accepted)
	require.True(t, o.completed)
	requireAppErr(t, o.err, typ)
}

func requireTimeEqual(t *testing.T, want time.Time, got *time.Time, field string) {
	t.Helper()
	require.NotNil(t, got, "%s is not set", field)
	require.True(t, want.Equal(*got), "%s = %s, want %s", field, got, want)
}

// wantEvent is an expected timeline event. Data is compared whole, as it is
// stored (JSON types); reply_id and time_entry_id are filled in from the
// change.
type wantEvent struct {
	typ      models.EventType
	internal bool
	data     models.EventData
}

func statusEvent(from, to models.Status, extra models.EventData) wantEvent {
	data := models.EventData{"from": string(from), "to": string(to)}
	for k, v := range extra {
		data[k] = v
	}
	return wantEvent{typ: models.EventStatusChanged, data: data}
}

func assignedEvent(from, to any) wantEvent {
	return wantEvent{typ: models.EventAssigned, data: models.EventData{"from": from, "to": to}}
}

func repliedEvent(internal bool) wantEvent {
	return wantEvent{typ: models.EventReplied, internal: internal, data: models.EventData{"internal": internal}}
}

// requireEvents checks c records want, numbered from firstSeq, stamped with
// the change's time and actor. Internal must survive the trip through
// ApplyChange's input: it decides what customers see in the timeline.
func requireEvents(t *testing.T, c models.Change, firstSeq int64, actor Actor, want ...wantEvent) {
	t.Helper()
	require.Len(t, c.Events, len(want), "events: %+v", c.Events)
	for i, w := range want {
		e := c.Events[i]
		assert.Equal(t, w.typ, e.Type, "event %d", i)
		assert.Equal(t, firstSeq+int64(i), e.Seq, "event %d seq", i)
		assert.Equal(t, w.internal, e.Internal, "event %d internal", i)
		assert.Equal(t, testTicketID, e.TicketID, "event %d ticket", i)
		assert.Equal(t, actor.ID, e.ActorID, "event %d actor", i)
		assert.True(t, c.Ticket.UpdatedAt.Equal(e.CreatedAt), "event %d at %s, ticket updated at %s", i, e.CreatedAt, c.Ticket.UpdatedAt)
		assert.NotEmpty(t, e.ID, "event %d id", i)
		data := models.EventData{}
		for k, v := range w.data {
			data[k] = v
		}
		switch {
		case w.typ == models.EventReplied && c.Reply != nil:
			data["reply_id"] = c.Reply.ID
		case w.typ == models.EventTimeLogged && c.TimeEntry != nil:
			data["time_entry_id"] = c.TimeEntry.ID
		}
		assert.Equal(t, data, storedData(t, e.Data), "event %d data", i)
	}
}

// storedData is event data as the database stores it and the timeline
// returns it: JSON. Local activities receive the workflow's values as they
// are (a models.Status, not a string), regular ones after a trip through
// the data converter, so tests compare the stored form.
func storedData(t *testing.T, d models.EventData) models.EventData {
	t.Helper()
	b, err := json.Marshal(d)
	require.NoError(t, err)
	out := models.EventData{}
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// ---- 1. the transition graph

func TestLifecycleStatusMatrix(t *testing.T) {
	const after = time.Second
	now := testStart.Add(after)
	for _, from := range models.Statuses {
		for _, to := range models.Statuses {
			t.Run(string(from)+"_to_"+string(to), func(t *testing.T) {
				h := newLifecycleHarness(t)
				o := h.update(after, UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: to, Reason: "because"})
				h.runFrom(ticketIn(from))

				switch {
				case from == models.StatusClosed:
					// The workflow of a closed ticket ends as it starts: the
					// update never reaches it, and nothing is written.
					assert.False(t, o.accepted, "update accepted")
					assert.False(t, o.succeeded(), "update succeeded")
					assert.Zero(t, h.store.calls(), "ApplyChange called")
					assert.Equal(t, LifecycleResult{Status: models.StatusClosed}, h.result())
					// Had it reached a live workflow, the validator would refuse it.
					w := &lifecycle{ticketID: testTicketID, created: true, state: ticketIn(from), events: 3}
					requireAppErr(t, w.validateStatus(nil, StatusRequest{Actor: testAgent, Status: to}), ErrTypeClosed)

				case models.CanTransition(from, to):
					requireSucceeded(t, o)
					require.Equal(t, 1, h.store.calls())
					c := h.store.last(t)
					got := o.result.Ticket
					assert.Equal(t, c.Ticket.Version, got.Version, "result is not the stored ticket")
					assert.Equal(t, int64(4), got.Version)
					assert.Equal(t, to, got.Status)
					assert.Equal(t, testAgent.ID, got.UpdatedBy)
					assert.True(t, now.Equal(got.UpdatedAt), "updated_at %s", got.UpdatedAt)
					require.NotNil(t, got.StatusReason)
					assert.Equal(t, "because", *got.StatusReason)
					requireEvents(t, c, 4, testAgent, statusEvent(from, to, models.EventData{"reason": "because"}))

					switch to {
					case models.StatusResolved:
						requireTimeEqual(t, now, got.ResolvedAt, "resolved_at")
						assert.Nil(t, got.ClosedAt, "closed_at")
					case models.StatusClosed:
						requireTimeEqual(t, now, got.ClosedAt, "closed_at")
						wantResolved := now // closing an unresolved ticket resolves it too
						if from == models.StatusResolved {
							wantResolved = testResolvedAt
						}
						requireTimeEqual(t, wantResolved, got.ResolvedAt, "resolved_at")
					default:
						assert.Nil(t, got.ResolvedAt, "resolved_at")
						assert.Nil(t, got.ClosedAt, "closed_at")
					}

					if to == models.StatusClosed {
						assert.Equal(t, LifecycleResult{Status: models.StatusClosed}, h.result())
					} else {
						h.requireStillRunning()
					}

				default:
					requireRejected(t, o, ErrTypeInvalidTransition)
					assert.Zero(t, h.store.calls(), "ApplyChange called")
					h.requireStillRunning()
				}
			})
		}
	}
}

func TestLifecycleStatusReason(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		want   *string
	}{
		{name: "a reason is kept", reason: "waiting for the vendor", want: new("waiting for the vendor")},
		{name: "no reason clears the old one", reason: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLifecycleHarness(t)
			from := ticketIn(models.StatusPending)
			from.StatusReason = new("waiting for logs")
			o := h.update(time.Second, UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusOnHold, Reason: tt.reason})
			h.runFrom(from)

			requireSucceeded(t, o)
			assert.Equal(t, tt.want, o.result.Ticket.StatusReason)
			extra := models.EventData{}
			if tt.reason != "" {
				extra["reason"] = tt.reason
			}
			requireEvents(t, h.store.last(t), 4, testAgent, statusEvent(models.StatusPending, models.StatusOnHold, extra))
		})
	}
}

// ---- 2. create

func TestLifecycleCreate(t *testing.T) {
	valid := CreateRequest{
		Actor: testCustomer, Subject: "Printer is on fire", Description: "It smells of toner.",
		Priority: models.PriorityHigh, CustomerID: testCustomer.ID,
		IdempotencyKey: "key-1", RequestHash: "hash-1",
	}
	start := LifecycleInput{TicketID: testTicketID, Number: 7}

	t.Run("the first create makes version 1", func(t *testing.T) {
		h := newLifecycleHarness(t)
		o := h.updateWithID(time.Second, UpdateCreate, CreateUpdateID, valid)
		h.run(start)

		requireSucceeded(t, o)
		require.Equal(t, 1, h.store.calls())
		c := h.store.last(t)
		assert.True(t, c.Create)
		now := testStart.Add(time.Second)
		got := o.result.Ticket
		assert.Equal(t, testTicketID, got.ID)
		assert.Equal(t, int64(7), got.Number)
		assert.Equal(t, int64(1), got.Version)
		assert.Equal(t, models.StatusNew, got.Status)
		assert.Equal(t, models.PriorityHigh, got.Priority)
		assert.Equal(t, valid.Subject, got.Subject)
		assert.Equal(t, valid.Description, got.Description)
		assert.Equal(t, testCustomer.ID, got.CustomerID)
		assert.Equal(t, testCustomer.ID, got.CreatedBy)
		assert.Equal(t, testCustomer.ID, got.UpdatedBy)
		assert.True(t, now.Equal(got.CreatedAt), "created_at %s", got.CreatedAt)
		assert.True(t, now.Equal(got.UpdatedAt), "updated_at %s", got.UpdatedAt)
		assert.Nil(t, got.AssigneeID)
		requireEvents(t, c, 1, testCustomer, wantEvent{typ: models.EventCreated, data: models.EventData{
			"status": "new", "priority": "high", "subject": valid.Subject,
		}})
		require.NotNil(t, c.Idempotency)
		assert.Equal(t, models.IdempotencyKey{
			UserID: testCustomer.ID, Key: "key-1", RequestHash: "hash-1", TicketID: testTicketID, CreatedAt: c.Idempotency.CreatedAt,
		}, *c.Idempotency)
		assert.True(t, now.Equal(c.Idempotency.CreatedAt))
		h.requireStillRunning()
	})

	t.Run("a create without idempotency key records none", func(t *testing.T) {
		h := newLifecycleHarness(t)
		req := valid
		req.IdempotencyKey, req.RequestHash = "", ""
		o := h.update(time.Second, UpdateCreate, req)
		h.run(start)

		requireSucceeded(t, o)
		assert.Nil(t, h.store.last(t).Idempotency)
	})

	t.Run("a second create returns the same ticket", func(t *testing.T) {
		h := newLifecycleHarness(t)
		first := h.updateWithID(time.Second, UpdateCreate, CreateUpdateID, valid)
		// Another update ID reaches the workflow's own check; the same ID is
		// deduplicated by Temporal before it.
		other := valid
		other.Subject = "Something else"
		again := h.updateWithID(2*time.Second, UpdateCreate, "create-retry", other)
		sameID := h.updateWithID(3*time.Second, UpdateCreate, CreateUpdateID, valid)
		h.run(start)

		requireSucceeded(t, first)
		requireSucceeded(t, again)
		requireSucceeded(t, sameID)
		assert.Equal(t, 1, h.store.calls(), "ApplyChange called again")
		assert.Equal(t, first.result.Ticket, again.result.Ticket)
		assert.Equal(t, first.result.Ticket, sameID.result.Ticket)
		assert.Equal(t, valid.Subject, again.result.Ticket.Subject)
	})

	t.Run("creates happening together write once", func(t *testing.T) {
		h := newLifecycleHarness(t)
		var a, b *updateOutcome
		h.at(time.Second, func() {
			a = h.sendNow(UpdateCreate, "create-a", valid)
			b = h.sendNow(UpdateCreate, "create-b", valid)
		})
		h.run(start)

		requireSucceeded(t, a)
		requireSucceeded(t, b)
		assert.Equal(t, 1, h.store.calls())
		assert.Equal(t, a.result.Ticket, b.result.Ticket)
	})

	invalid := []struct {
		name   string
		modify func(*CreateRequest)
	}{
		{"empty subject", func(r *CreateRequest) { r.Subject = "" }},
		{"blank subject", func(r *CreateRequest) { r.Subject = " \t " }},
		{"empty description", func(r *CreateRequest) { r.Description = "" }},
		{"bad priority", func(r *CreateRequest) { r.Priority = "critical" }},
		{"no priority", func(r *CreateRequest) { r.Priority = "" }},
		{"no customer", func(r *CreateRequest) { r.CustomerID = "" }},
	}
	for _, tt := range invalid {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			h := newLifecycleHarness(t)
			req := valid
			tt.modify(&req)
			bad := h.update(time.Second, UpdateCreate, req)
			good := h.update(2*time.Second, UpdateCreate, valid)
			h.run(start)

			requireRejected(t, bad, ErrTypeValidation)
			// The rejection wrote nothing and used up nothing.
			requireSucceeded(t, good)
			require.Equal(t, 1, h.store.calls())
			requireEvents(t, h.store.last(t), 1, testCustomer, wantEvent{typ: models.EventCreated, data: models.EventData{
				"status": "new", "priority": "high", "subject": valid.Subject,
			}})
		})
	}

	t.Run("changes before the create are refused as not found", func(t *testing.T) {
		h := newLifecycleHarness(t)
		o := h.update(time.Second, UpdateAssign, AssignRequest{Actor: testAgent, AssigneeID: new("agent-2")})
		h.update(2*time.Second, UpdateCreate, valid)
		h.run(start)

		requireRejected(t, o, ErrTypeNotFound)
		assert.Equal(t, 1, h.store.calls())
	})

	t.Run("a workflow never created ends after the create timeout", func(t *testing.T) {
		h := newLifecycleHarness(t)
		h.run(start)

		assert.Equal(t, LifecycleResult{}, h.result())
		assert.Zero(t, h.store.calls())
		assert.Equal(t, createTimeout, h.env.Now().Sub(testStart).Round(time.Second))
	})
}

// ---- 3. automatic moves

func TestLifecycleAutomaticMoves(t *testing.T) {
	type autoMoveCase struct {
		name       string
		from       models.Status
		assignee   *string // the ticket's assignee before
		update     string
		req        any
		actor      Actor
		wantStatus models.Status
		wantEvents []wantEvent // nil: a no-op, nothing written
	}
	tests := []autoMoveCase{
		{
			name: "assigning a new ticket opens it", from: models.StatusNew,
			update: UpdateAssign, req: AssignRequest{Actor: testAgent, AssigneeID: new("agent-2")}, actor: testAgent,
			wantStatus: models.StatusOpen,
			wantEvents: []wantEvent{
				assignedEvent(nil, "agent-2"),
				statusEvent(models.StatusNew, models.StatusOpen, models.EventData{"automatic": true}),
			},
		},
		{
			name: "assigning an open ticket keeps its status", from: models.StatusOpen,
			update: UpdateAssign, req: AssignRequest{Actor: testAgent, AssigneeID: new("agent-2")}, actor: testAgent,
			wantStatus: models.StatusOpen, wantEvents: []wantEvent{assignedEvent(nil, "agent-2")},
		},
		{
			name: "assigning a pending ticket keeps its status", from: models.StatusPending,
			update: UpdateAssign, req: AssignRequest{Actor: testAdmin, AssigneeID: new("agent-2")}, actor: testAdmin,
			wantStatus: models.StatusPending, wantEvents: []wantEvent{assignedEvent(nil, "agent-2")},
		},
		{
			name: "assigning a resolved ticket keeps its status", from: models.StatusResolved,
			update: UpdateAssign, req: AssignRequest{Actor: testAgent, AssigneeID: new("agent-2")}, actor: testAgent,
			wantStatus: models.StatusResolved, wantEvents: []wantEvent{assignedEvent(nil, "agent-2")},
		},
		{
			name: "reassigning to someone else", from: models.StatusInProgress, assignee: new("agent-2"),
			update: UpdateAssign, req: AssignRequest{Actor: testAgent, AssigneeID: new("agent-3")}, actor: testAgent,
			wantStatus: models.StatusInProgress, wantEvents: []wantEvent{assignedEvent("agent-2", "agent-3")},
		},
		{
			name: "reassigning the same assignee is a no-op", from: models.StatusOpen, assignee: new("agent-2"),
			update: UpdateAssign, req: AssignRequest{Actor: testAgent, AssigneeID: new("agent-2")}, actor: testAgent,
			wantStatus: models.StatusOpen,
		},
		{
			name: "unassigning an unassigned ticket is a no-op", from: models.StatusNew,
			update: UpdateAssign, req: AssignRequest{Actor: testAgent}, actor: testAgent,
			wantStatus: models.StatusNew,
		},
		{
			name: "unassigning a new ticket keeps it new", from: models.StatusNew, assignee: new("agent-2"),
			update: UpdateAssign, req: AssignRequest{Actor: testAgent}, actor: testAgent,
			wantStatus: models.StatusNew, wantEvents: []wantEvent{assignedEvent("agent-2", nil)},
		},
	}
	for _, from := range []models.Status{models.StatusPending, models.StatusOnHold, models.StatusResolved} {
		tests = append(tests, autoMoveCase{
			name: "a customer reply reopens a " + string(from) + " ticket", from: from,
			update: UpdateAddReply, req: ReplyRequest{Actor: testCustomer, Body: "Still broken."}, actor: testCustomer,
			wantStatus: models.StatusOpen,
			wantEvents: []wantEvent{
				repliedEvent(false),
				statusEvent(from, models.StatusOpen, models.EventData{"automatic": true, "reason": "customer replied"}),
			},
		}, autoMoveCase{
			name: "an internal note keeps a " + string(from) + " ticket", from: from,
			update: UpdateAddReply, req: ReplyRequest{Actor: testAgent, Body: "Vendor called.", Internal: true}, actor: testAgent,
			wantStatus: from, wantEvents: []wantEvent{repliedEvent(true)},
		}, autoMoveCase{
			name: "an agent's public reply keeps a " + string(from) + " ticket", from: from,
			update: UpdateAddReply, req: ReplyRequest{Actor: testAgent, Body: "Any news?"}, actor: testAgent,
			wantStatus: from, wantEvents: []wantEvent{repliedEvent(false)},
		})
	}
	for _, from := range []models.Status{models.StatusNew, models.StatusOpen, models.StatusInProgress} {
		tests = append(tests, autoMoveCase{
			name: "a customer reply keeps an " + string(from) + " ticket", from: from,
			update: UpdateAddReply, req: ReplyRequest{Actor: testCustomer, Body: "Any news?"}, actor: testCustomer,
			wantStatus: from, wantEvents: []wantEvent{repliedEvent(false)},
		})
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLifecycleHarness(t)
			from := ticketIn(tt.from)
			from.AssigneeID = tt.assignee
			o := h.update(time.Second, tt.update, tt.req)
			h.runFrom(from)

			requireSucceeded(t, o)
			got := o.result.Ticket
			assert.Equal(t, tt.wantStatus, got.Status)
			if tt.wantEvents == nil {
				assert.Zero(t, h.store.calls(), "a no-op wrote a change")
				assert.Equal(t, int64(3), got.Version)
				return
			}
			require.Equal(t, 1, h.store.calls())
			c := h.store.last(t)
			assert.Equal(t, int64(4), got.Version, "one change is one version, however many events")
			requireEvents(t, c, 4, tt.actor, tt.wantEvents...)
			if req, ok := tt.req.(AssignRequest); ok {
				assert.Equal(t, req.AssigneeID, got.AssigneeID)
			}
			if req, ok := tt.req.(ReplyRequest); ok {
				require.NotNil(t, c.Reply)
				assert.Equal(t, models.Reply{
					ID: c.Reply.ID, TicketID: testTicketID, AuthorID: tt.actor.ID,
					Body: req.Body, Internal: req.Internal, CreatedAt: c.Reply.CreatedAt,
				}, *c.Reply)
				assert.True(t, got.UpdatedAt.Equal(c.Reply.CreatedAt))
				require.NotNil(t, o.result.Reply)
				assert.Equal(t, c.Reply.ID, o.result.Reply.ID)
			}
			switch {
			case got.Status == models.StatusOpen && tt.from == models.StatusResolved:
				assert.Nil(t, got.ResolvedAt, "reopening must clear resolved_at")
			case got.Status == models.StatusResolved:
				requireTimeEqual(t, testResolvedAt, got.ResolvedAt, "resolved_at")
			}
		})
	}

	t.Run("a customer may not post an internal note", func(t *testing.T) {
		h := newLifecycleHarness(t)
		o := h.update(time.Second, UpdateAddReply, ReplyRequest{Actor: testCustomer, Body: "psst", Internal: true})
		h.runFrom(ticketIn(models.StatusPending))

		requireRejected(t, o, ErrTypeForbidden)
		assert.Zero(t, h.store.calls())
	})

	t.Run("an empty reply is refused", func(t *testing.T) {
		h := newLifecycleHarness(t)
		o := h.update(time.Second, UpdateAddReply, ReplyRequest{Actor: testAgent, Body: "  \n"})
		h.runFrom(ticketIn(models.StatusOpen))

		requireRejected(t, o, ErrTypeValidation)
		assert.Zero(t, h.store.calls())
	})
}

// ---- 4. first_response_at

func TestLifecycleFirstResponse(t *testing.T) {
	type reply struct {
		actor    Actor
		internal bool
	}
	tests := []struct {
		name    string
		replies []reply
		setBy   int // index of the reply that sets first_response_at; -1: none
	}{
		{"the first public staff reply sets it", []reply{{testAgent, false}}, 0},
		{"an admin's public reply sets it", []reply{{testAdmin, false}}, 0},
		{"an internal note does not", []reply{{testAgent, true}}, -1},
		{"a customer reply does not", []reply{{testCustomer, false}}, -1},
		{"a second public staff reply leaves it", []reply{{testAgent, false}, {testAdmin, false}}, 0},
		{"the public reply after a note sets it", []reply{{testAgent, true}, {testAgent, false}}, 1},
		{"the staff reply after a customer's sets it", []reply{{testCustomer, false}, {testAgent, false}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLifecycleHarness(t)
			outs := make([]*updateOutcome, len(tt.replies))
			for i, r := range tt.replies {
				outs[i] = h.update(time.Duration(i+1)*time.Minute, UpdateAddReply, ReplyRequest{Actor: r.actor, Body: "Hello", Internal: r.internal})
			}
			h.runFrom(ticketIn(models.StatusOpen))

			for i, o := range outs {
				requireSucceeded(t, o)
				got := o.result.Ticket.FirstResponseAt
				if tt.setBy < 0 || i < tt.setBy {
					assert.Nil(t, got, "after reply %d", i)
					continue
				}
				requireTimeEqual(t, testStart.Add(time.Duration(tt.setBy+1)*time.Minute), got, "first_response_at")
			}
		})
	}
}

// ---- 5. time entries

func TestLifecycleLogTime(t *testing.T) {
	tests := []struct {
		name    string
		minutes int
		valid   bool
	}{
		{"zero minutes", 0, false},
		{"negative minutes", -5, false},
		{"more than a day", 1441, false},
		{"one minute", 1, true},
		{"an hour and a half", 90, true},
		{"a whole day", 1440, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLifecycleHarness(t)
			from := ticketIn(models.StatusInProgress)
			from.TimeSpentMinutes = 30
			o := h.update(time.Second, UpdateLogTime, TimeRequest{Actor: testAgent, Minutes: tt.minutes, Note: "debugging"})
			h.runFrom(from)

			if !tt.valid {
				requireRejected(t, o, ErrTypeValidation)
				assert.Zero(t, h.store.calls())
				return
			}
			requireSucceeded(t, o)
			got := o.result.Ticket
			assert.Equal(t, 30+tt.minutes, got.TimeSpentMinutes)
			assert.Equal(t, int64(4), got.Version)
			assert.Equal(t, models.StatusInProgress, got.Status)
			c := h.store.last(t)
			requireEvents(t, c, 4, testAgent, wantEvent{
				typ: models.EventTimeLogged, internal: true, data: models.EventData{"minutes": float64(tt.minutes)},
			})
			require.NotNil(t, c.TimeEntry)
			assert.Equal(t, models.TimeEntry{
				ID: c.TimeEntry.ID, TicketID: testTicketID, AuthorID: testAgent.ID,
				Minutes: tt.minutes, Note: "debugging", CreatedAt: c.TimeEntry.CreatedAt,
			}, *c.TimeEntry)
			assert.NotEmpty(t, c.TimeEntry.ID)
			require.NotNil(t, o.result.TimeEntry)
			assert.Equal(t, c.TimeEntry.ID, o.result.TimeEntry.ID)
		})
	}

	t.Run("entries add up", func(t *testing.T) {
		h := newLifecycleHarness(t)
		a := h.update(time.Second, UpdateLogTime, TimeRequest{Actor: testAgent, Minutes: 15})
		b := h.update(2*time.Second, UpdateLogTime, TimeRequest{Actor: testAdmin, Minutes: 45})
		h.runFrom(ticketIn(models.StatusOpen))

		requireSucceeded(t, a)
		requireSucceeded(t, b)
		assert.Equal(t, 60, b.result.Ticket.TimeSpentMinutes)
		assert.Equal(t, int64(5), b.result.Ticket.Version)
		assert.NotEqual(t, a.result.TimeEntry.ID, b.result.TimeEntry.ID)
	})
}

// ---- 6. edit

func TestLifecycleEdit(t *testing.T) {
	high := models.PriorityHigh
	same := models.PriorityNormal
	tests := []struct {
		name       string
		req        EditRequest
		wantErr    string // the validator's rejection
		wantFields []any  // nil: nothing changes, nothing is written
		check      func(t *testing.T, got models.Ticket)
	}{
		{
			name:    "a stale if-version is refused",
			req:     EditRequest{Actor: testAgent, Subject: new("New subject"), IfVersion: 2},
			wantErr: ErrTypePrecondition,
		},
		{
			name:    "a future if-version is refused",
			req:     EditRequest{Actor: testAgent, Subject: new("New subject"), IfVersion: 4},
			wantErr: ErrTypePrecondition,
		},
		{
			name:    "an invalid priority is refused",
			req:     EditRequest{Actor: testAgent, Priority: new(models.Priority("critical"))},
			wantErr: ErrTypeValidation,
		},
		{
			name:       "the current if-version passes",
			req:        EditRequest{Actor: testAgent, Subject: new("New subject"), IfVersion: 3},
			wantFields: []any{"subject"},
			check:      func(t *testing.T, got models.Ticket) { assert.Equal(t, "New subject", got.Subject) },
		},
		{
			name: "every field",
			req: EditRequest{
				Actor: testAgent, Subject: new("New subject"), Description: new("New description"),
				Priority: &high, SetCategory: true, CategoryID: new("category-2"),
			},
			wantFields: []any{"subject", "description", "priority", "category_id"},
			check: func(t *testing.T, got models.Ticket) {
				assert.Equal(t, "New subject", got.Subject)
				assert.Equal(t, "New description", got.Description)
				assert.Equal(t, models.PriorityHigh, got.Priority)
				assert.Equal(t, new("category-2"), got.CategoryID)
			},
		},
		{
			name:       "only what differs is listed",
			req:        EditRequest{Actor: testCustomer, Subject: new("Printer is on fire"), Description: new("Now it is smoking.")},
			wantFields: []any{"description"},
		},
		{
			name:       "clearing the category",
			req:        EditRequest{Actor: testAgent, SetCategory: true},
			wantFields: []any{"category_id"},
			check:      func(t *testing.T, got models.Ticket) { assert.Nil(t, got.CategoryID) },
		},
		{
			name: "the same values change nothing",
			req: EditRequest{
				Actor: testAgent, Subject: new("Printer is on fire"), Description: new("It smells of toner."),
				Priority: &same, SetCategory: true, CategoryID: new("category-1"), IfVersion: 3,
			},
		},
		{
			name: "no fields change nothing",
			req:  EditRequest{Actor: testAgent},
		},
		{
			name: "a category without SetCategory is ignored",
			req:  EditRequest{Actor: testAgent, CategoryID: new("category-2")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLifecycleHarness(t)
			from := ticketIn(models.StatusOpen)
			from.CategoryID = new("category-1")
			o := h.update(time.Second, UpdateEdit, tt.req)
			h.runFrom(from)

			switch {
			case tt.wantErr != "":
				requireRejected(t, o, tt.wantErr)
				assert.Zero(t, h.store.calls())
			case tt.wantFields == nil:
				requireSucceeded(t, o)
				assert.Zero(t, h.store.calls(), "an edit that changes nothing wrote a change")
				assert.Equal(t, int64(3), o.result.Ticket.Version)
				assert.Equal(t, testAgent.ID, o.result.Ticket.UpdatedBy)
			default:
				requireSucceeded(t, o)
				require.Equal(t, 1, h.store.calls())
				got := o.result.Ticket
				assert.Equal(t, int64(4), got.Version)
				assert.Equal(t, tt.req.Actor.ID, got.UpdatedBy)
				requireEvents(t, h.store.last(t), 4, tt.req.Actor, wantEvent{
					typ: models.EventUpdated, data: models.EventData{"fields": tt.wantFields},
				})
				if tt.check != nil {
					tt.check(t, got)
				}
			}
		})
	}
}

// ---- 7. closed is final

// changeKinds is one update of every kind but create, each valid on an open
// ticket.
var changeKinds = []struct {
	name string
	req  any
}{
	{UpdateEdit, EditRequest{Actor: testAgent, Subject: new("New subject")}},
	{UpdateAssign, AssignRequest{Actor: testAgent, AssigneeID: new("agent-2")}},
	{UpdateAddReply, ReplyRequest{Actor: testCustomer, Body: "Wait, it is back."}},
	{UpdateLogTime, TimeRequest{Actor: testAgent, Minutes: 10}},
	{UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusPending}},
	{UpdateDelete, DeleteRequest{Actor: testAdmin}},
}

func TestLifecycleClosedIsFinal(t *testing.T) {
	closing := StatusRequest{Actor: testAgent, Status: models.StatusClosed}

	for _, k := range changeKinds {
		t.Run(k.name+" after closing does not succeed", func(t *testing.T) {
			h := newLifecycleHarness(t)
			closed := h.update(time.Second, UpdateChangeStatus, closing)
			later := h.update(2*time.Second, k.name, k.req)
			h.runFrom(ticketIn(models.StatusResolved))

			requireSucceeded(t, closed)
			// The workflow has ended with the close: nothing reaches it any more.
			assert.Equal(t, LifecycleResult{Status: models.StatusClosed}, h.result())
			assert.False(t, later.succeeded(), "update after close succeeded")
			assert.False(t, later.accepted, "update after close accepted")
			assert.Equal(t, 1, h.store.calls(), "ApplyChange called after close")
		})

		t.Run(k.name+" racing the close fails as closed", func(t *testing.T) {
			h := newLifecycleHarness(t)
			var closed, racing *updateOutcome
			h.at(time.Second, func() {
				closed = h.sendNow(UpdateChangeStatus, "", closing)
				racing = h.sendNow(k.name, "", k.req)
			})
			h.runFrom(ticketIn(models.StatusOpen))

			requireSucceeded(t, closed)
			// Its validator ran before the close was written; the handler
			// re-checks once the close has been applied.
			requireFailed(t, racing, ErrTypeClosed)
			assert.Equal(t, 1, h.store.calls())
			assert.Equal(t, LifecycleResult{Status: models.StatusClosed}, h.result())
		})

		t.Run(k.name+" on a closed workflow is refused by its validator", func(t *testing.T) {
			w := &lifecycle{ticketID: testTicketID, created: true, state: ticketIn(models.StatusClosed), events: 3}
			var err error
			switch req := k.req.(type) {
			case EditRequest:
				err = w.validateEdit(nil, req)
			case AssignRequest:
				err = w.validateAssign(nil, req)
			case ReplyRequest:
				err = w.validateReply(nil, req)
			case TimeRequest:
				err = w.validateTime(nil, req)
			case StatusRequest:
				err = w.validateStatus(nil, req)
			case DeleteRequest:
				err = w.validateDelete(nil, req)
			default:
				t.Fatalf("no validator for %T", req)
			}
			requireAppErr(t, err, ErrTypeClosed)
		})
	}
}

// ---- 8. delete

func TestLifecycleDelete(t *testing.T) {
	t.Run("delete ends the workflow", func(t *testing.T) {
		h := newLifecycleHarness(t)
		o := h.update(time.Second, UpdateDelete, DeleteRequest{Actor: testAdmin})
		h.runFrom(ticketIn(models.StatusPending))

		requireSucceeded(t, o)
		assert.Equal(t, LifecycleResult{Status: models.StatusPending, Deleted: true}, h.result())
		require.Equal(t, 1, h.store.calls())
		c := h.store.last(t)
		assert.True(t, c.Delete)
		assert.Equal(t, int64(4), c.Ticket.Version)
		assert.Equal(t, testAdmin.ID, c.Ticket.UpdatedBy)
		requireEvents(t, c, 4, testAdmin, wantEvent{typ: models.EventDeleted, data: models.EventData{}})
		assert.Equal(t, c.Ticket.Version, o.result.Ticket.Version)
	})

	for _, k := range changeKinds {
		t.Run(k.name+" racing the delete fails as not found", func(t *testing.T) {
			h := newLifecycleHarness(t)
			var deleted, racing *updateOutcome
			h.at(time.Second, func() {
				deleted = h.sendNow(UpdateDelete, "", DeleteRequest{Actor: testAdmin})
				racing = h.sendNow(k.name, "", k.req)
			})
			h.runFrom(ticketIn(models.StatusOpen))

			requireSucceeded(t, deleted)
			requireFailed(t, racing, ErrTypeNotFound)
			assert.Equal(t, 1, h.store.calls())
			assert.True(t, h.result().Deleted)
		})
	}
}

// ---- 9. persistence failures

func TestLifecyclePersistenceFailure(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantType  string
		retried   bool
		wantCalls int
	}{
		{
			name: "database down until the deadline", err: errors.New("dial tcp 10.0.0.5:5432: connect: connection refused"),
			wantType: ErrTypeUnavailable, retried: true,
		},
		{
			name:     "conflict",
			err:      temporal.NewNonRetryableApplicationError("ticket is not at version 3", activities.ErrTypeConflict, nil),
			wantType: ErrTypeConflict, wantCalls: 1,
		},
		{
			name:     "not found",
			err:      temporal.NewNonRetryableApplicationError("ticket is gone", activities.ErrTypeNotFound, nil),
			wantType: ErrTypeNotFound, wantCalls: 1,
		},
		{
			name:     "invalid data",
			err:      temporal.NewNonRetryableApplicationError("value too long", activities.ErrTypeInvalid, nil),
			wantType: ErrTypeValidation, wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newLifecycleHarness(t)
			h.store.setFailure(tt.err)
			req := StatusRequest{Actor: testAgent, Status: models.StatusPending}
			failed := h.update(time.Second, UpdateChangeStatus, req)
			after := h.queryAt(time.Minute)
			var failedCalls int
			h.at(2*time.Minute, func() {
				failedCalls = h.store.calls()
				h.store.setFailure(nil)
			})
			retry := h.update(3*time.Minute, UpdateChangeStatus, req)
			h.runFrom(ticketIn(models.StatusOpen))

			requireFailed(t, failed, tt.wantType)
			if tt.retried {
				assert.Greater(t, failedCalls, 1, "a retryable failure was not retried")
			} else {
				assert.Equal(t, tt.wantCalls, failedCalls)
			}
			// Nothing changed: not the state, and not the event numbering.
			assert.Equal(t, int64(3), after.Version)
			assert.Equal(t, models.StatusOpen, after.Status)
			requireSucceeded(t, retry)
			assert.Equal(t, int64(4), retry.result.Ticket.Version)
			requireEvents(t, h.store.last(t), 4, testAgent, statusEvent(models.StatusOpen, models.StatusPending, nil))
		})
	}

	t.Run("a failed close leaves the workflow running", func(t *testing.T) {
		h := newLifecycleHarness(t)
		h.store.setFailure(temporal.NewNonRetryableApplicationError("conflict", activities.ErrTypeConflict, nil))
		o := h.update(time.Second, UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusClosed})
		h.runFrom(ticketIn(models.StatusResolved))

		requireFailed(t, o, ErrTypeConflict)
		h.requireStillRunning()
	})

	t.Run("a failed create can be retried", func(t *testing.T) {
		h := newLifecycleHarness(t)
		h.store.setFailure(errors.New("connection reset by peer"))
		req := CreateRequest{Actor: testCustomer, Subject: "S", Description: "D", Priority: models.PriorityLow, CustomerID: testCustomer.ID}
		failed := h.update(time.Second, UpdateCreate, req)
		h.at(time.Minute, func() { h.store.setFailure(nil) })
		assign := h.update(time.Minute, UpdateAssign, AssignRequest{Actor: testAgent, AssigneeID: new("agent-2")})
		created := h.update(2*time.Minute, UpdateCreate, req)
		h.run(LifecycleInput{TicketID: testTicketID, Number: 1})

		requireFailed(t, failed, ErrTypeUnavailable)
		requireRejected(t, assign, ErrTypeNotFound)
		requireSucceeded(t, created)
		assert.Equal(t, int64(1), created.result.Ticket.Version)
		requireEvents(t, h.store.last(t), 1, testCustomer, wantEvent{typ: models.EventCreated, data: models.EventData{
			"status": "new", "priority": "low", "subject": "S",
		}})
	})
}

// ---- 10. the state query

func TestLifecycleQueryState(t *testing.T) {
	h := newLifecycleHarness(t)
	before := h.queryAt(time.Millisecond)
	assign := h.update(time.Second, UpdateAssign, AssignRequest{Actor: testAgent, AssigneeID: new("agent-2")})
	afterAssign := h.queryAt(2 * time.Second)
	reply := h.update(3*time.Second, UpdateAddReply, ReplyRequest{Actor: testAgent, Body: "On it."})
	logged := h.update(4*time.Second, UpdateLogTime, TimeRequest{Actor: testAgent, Minutes: 20})
	refused := h.update(5*time.Second, UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusNew})
	final := h.queryAt(6 * time.Second)
	h.runFrom(ticketIn(models.StatusNew))

	requireSucceeded(t, assign)
	requireSucceeded(t, reply)
	requireSucceeded(t, logged)
	requireRejected(t, refused, ErrTypeInvalidTransition)

	assert.Equal(t, int64(3), before.Version)
	assert.Equal(t, models.StatusNew, before.Status)

	assert.Equal(t, assign.result.Ticket, *afterAssign)
	assert.Equal(t, models.StatusOpen, afterAssign.Status)
	assert.Equal(t, new("agent-2"), afterAssign.AssigneeID)

	assert.Equal(t, logged.result.Ticket, *final)
	assert.Equal(t, int64(6), final.Version)
	assert.Equal(t, 20, final.TimeSpentMinutes)
	requireTimeEqual(t, testStart.Add(3*time.Second), final.FirstResponseAt, "first_response_at")
}

// ---- handlers run one at a time

func TestLifecycleSerialisesConcurrentUpdates(t *testing.T) {
	h := newLifecycleHarness(t)
	var reply, logged, status *updateOutcome
	h.at(time.Second, func() {
		reply = h.sendNow(UpdateAddReply, "", ReplyRequest{Actor: testAgent, Body: "On it."})
		logged = h.sendNow(UpdateLogTime, "", TimeRequest{Actor: testAgent, Minutes: 5})
		status = h.sendNow(UpdateChangeStatus, "", StatusRequest{Actor: testAgent, Status: models.StatusInProgress})
	})
	h.runFrom(ticketIn(models.StatusOpen))

	requireSucceeded(t, reply)
	requireSucceeded(t, logged)
	requireSucceeded(t, status)
	require.Equal(t, 3, h.store.calls())
	// Each change starts from the one before it, in whatever order they
	// run: no lost update.
	for i, want := range []int64{4, 5, 6} {
		c := h.store.change(t, i)
		assert.Equal(t, want, c.Ticket.Version)
		assert.Equal(t, want, c.Events[0].Seq)
	}
	last := h.store.last(t).Ticket
	assert.Equal(t, models.StatusInProgress, last.Status)
	assert.Equal(t, 5, last.TimeSpentMinutes)
	assert.NotNil(t, last.FirstResponseAt)
	versions := []int64{reply.result.Ticket.Version, logged.result.Ticket.Version, status.result.Ticket.Version}
	assert.ElementsMatch(t, []int64{4, 5, 6}, versions)
}

// ---- 11. search attributes

func TestLifecycleSearchAttributes(t *testing.T) {
	keyword := func(key temporal.SearchAttributeKeyKeyword, v string) map[temporal.SearchAttributeKey]any {
		return temporal.NewSearchAttributes(key.ValueSet(v)).GetUntypedValues()
	}

	t.Run("the first change publishes every attribute", func(t *testing.T) {
		h := newLifecycleHarness(t)
		var upserts []temporal.SearchAttributes
		h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
			upserts = append(upserts, args.Get(0).(temporal.SearchAttributes))
		})
		h.update(time.Second, UpdateAssign, AssignRequest{Actor: testAgent, AssigneeID: new("agent-2")})
		h.runFrom(ticketIn(models.StatusNew))

		require.Len(t, upserts, 1)
		want := temporal.NewSearchAttributes(
			AttrStatus.ValueSet("open"), AttrPriority.ValueSet("normal"), AttrCustomer.ValueSet(testCustomer.ID),
			AttrAssignee.ValueSet("agent-2"), AttrNumber.ValueSet(1),
		)
		assert.Equal(t, want.GetUntypedValues(), upserts[0].GetUntypedValues())
	})

	t.Run("later changes upsert only what changed", func(t *testing.T) {
		h := newLifecycleHarness(t)
		require.NoError(t, h.env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(
			AttrStatus.ValueSet("new"), AttrPriority.ValueSet("normal"),
			AttrCustomer.ValueSet(testCustomer.ID), AttrNumber.ValueSet(1),
		)))
		var upserts []map[temporal.SearchAttributeKey]any
		h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
			upserts = append(upserts, args.Get(0).(temporal.SearchAttributes).GetUntypedValues())
		})
		steps := []struct {
			name string
			req  any
			want map[temporal.SearchAttributeKey]any // nil: no upsert
		}{
			{UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusInProgress}, keyword(AttrStatus, "in_progress")},
			{UpdateAddReply, ReplyRequest{Actor: testAgent, Body: "note", Internal: true}, nil},
			{UpdateAssign, AssignRequest{Actor: testAgent, AssigneeID: new("agent-2")}, keyword(AttrAssignee, "agent-2")},
			// Unsetting shows as an upsert with no values.
			{UpdateAssign, AssignRequest{Actor: testAgent}, map[temporal.SearchAttributeKey]any{}},
			{UpdateEdit, EditRequest{Actor: testAgent, Priority: new(models.PriorityUrgent)}, keyword(AttrPriority, "urgent")},
			{UpdateEdit, EditRequest{Actor: testAgent, SetCategory: true, CategoryID: new("category-1")}, keyword(AttrCategory, "category-1")},
			{UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusResolved}, keyword(AttrStatus, "resolved")},
			{UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusClosed}, keyword(AttrStatus, "closed")},
		}
		outs := make([]*updateOutcome, len(steps))
		upsertsBefore := make([]int, len(steps)+1)
		for i, s := range steps {
			d := time.Duration(i+1) * time.Second
			h.at(d-time.Millisecond, func() { upsertsBefore[i] = len(upserts) })
			outs[i] = h.update(d, s.name, s.req)
		}
		h.runFrom(ticketIn(models.StatusNew))
		upsertsBefore[len(steps)] = len(upserts)

		for i, s := range steps {
			requireSucceeded(t, outs[i])
			got := upserts[upsertsBefore[i]:upsertsBefore[i+1]]
			if s.want == nil {
				assert.Empty(t, got, "step %d (%s) upserted", i, s.name)
				continue
			}
			if assert.Len(t, got, 1, "step %d (%s)", i, s.name) {
				assert.Equal(t, s.want, got[0], "step %d (%s)", i, s.name)
			}
		}
	})
}

// ---- 12. continue-as-new

func TestLifecycleContinueAsNew(t *testing.T) {
	decode := func(t *testing.T, err error) LifecycleInput {
		t.Helper()
		var can *workflow.ContinueAsNewError
		require.ErrorAs(t, err, &can)
		assert.Equal(t, LifecycleWorkflow, can.WorkflowType.Name)
		var in LifecycleInput
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
		return in
	}

	t.Run("when suggested it carries state and events", func(t *testing.T) {
		h := newLifecycleHarness(t)
		reply := &updateOutcome{}
		h.at(time.Second, func() {
			h.env.UpdateWorkflow(UpdateAddReply, "", &testsuite.TestUpdateCallback{
				OnAccept: func() {
					reply.accepted = true
					// Suggested while the reply is being written: it finishes first.
					h.env.SetContinueAsNewSuggested(true)
				},
				OnReject: func(err error) { reply.rejected, reply.err = true, err },
				OnComplete: func(v any, err error) {
					reply.completed, reply.err = true, err
					reply.result, _ = v.(UpdateResult)
				},
			}, ReplyRequest{Actor: testAgent, Body: "On it."})
		})
		h.runFrom(ticketIn(models.StatusOpen))

		requireSucceeded(t, reply)
		in := decode(t, h.env.GetWorkflowError())
		assert.Equal(t, testTicketID, in.TicketID)
		assert.Equal(t, int64(1), in.Number)
		assert.Equal(t, int64(4), in.Events)
		require.NotNil(t, in.State)
		assert.Equal(t, reply.result.Ticket, *in.State)
	})

	t.Run("the next run goes on numbering events", func(t *testing.T) {
		h := newLifecycleHarness(t)
		from := ticketIn(models.StatusOpen)
		from.Version = 40
		o := h.update(time.Second, UpdateAssign, AssignRequest{Actor: testAgent, AssigneeID: new("agent-2")})
		h.run(LifecycleInput{TicketID: testTicketID, Number: 1, State: &from, Events: 57})

		requireSucceeded(t, o)
		assert.Equal(t, int64(41), o.result.Ticket.Version)
		requireEvents(t, h.store.last(t), 58, testAgent, assignedEvent(nil, "agent-2"))
	})

	t.Run("a closed ticket ends instead", func(t *testing.T) {
		h := newLifecycleHarness(t)
		h.env.SetContinueAsNewSuggested(true)
		h.runFrom(ticketIn(models.StatusClosed))

		assert.Equal(t, LifecycleResult{Status: models.StatusClosed}, h.result())
	})
}
