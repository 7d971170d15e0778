package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin on any machine: calendars must not depend on the host

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ticketd/ticketd/activities"
	"github.com/ticketd/ticketd/models"
)

// These tests drive the SLA engine of TicketLifecycle on the test
// environment's skipping clock: a ticket is created through the create
// update (so it runs the engine), the fake LoadSLAConfig hands out the
// policies, and every SLA event is checked as the fake ApplyChange receives
// it, at the instant the workflow clock says. Durations in expectations are
// measured from the ticket's creation (t0).

// createAfter is when, after the test clock starts, the ticket is created.
const createAfter = time.Second

// open marks a ledger segment that has not ended.
const open = time.Duration(-1)

// ---- the harness

// slaHarness measures times from t0, the instant the ticket was created.
type slaHarness struct {
	*lifecycleHarness
	start time.Time // the test clock at start
	t0    time.Time
}

func newSLAHarness(t *testing.T) *slaHarness {
	t.Helper()
	return newSLAHarnessAt(t, testStart, testStart.Add(createAfter))
}

// newSLAHarnessAt starts the test clock at start; t0 is the creation
// instant the test measures from.
func newSLAHarnessAt(t *testing.T, start, t0 time.Time) *slaHarness {
	t.Helper()
	h := &slaHarness{lifecycleHarness: newLifecycleHarness(t), start: start, t0: t0}
	h.env.SetStartTime(start)
	return h
}

// delay is the test clock's offset from start of t0+d.
func (h *slaHarness) delay(d time.Duration) time.Duration {
	h.t.Helper()
	off := h.t0.Add(d).Sub(h.start)
	require.Positive(h.t, off, "t0%+v is not after the start", d)
	return off
}

// since is how long after t0 at is.
func (h *slaHarness) since(at time.Time) time.Duration { return at.Sub(h.t0) }

// do runs fn at t0+d.
func (h *slaHarness) do(d time.Duration, fn func()) { h.at(h.delay(d), fn) }

// send sends an update at t0+d.
func (h *slaHarness) send(d time.Duration, name string, req any) *updateOutcome {
	return h.update(h.delay(d), name, req)
}

// stateAt records the live state at t0+d.
func (h *slaHarness) stateAt(d time.Duration) *models.Ticket { return h.queryAt(h.delay(d)) }

// create sends the create of a ticket of priority p at t0 and returns the
// input that starts its workflow.
func (h *slaHarness) create(p models.Priority) (*updateOutcome, LifecycleInput) {
	h.t.Helper()
	o := h.updateWithID(h.delay(0), UpdateCreate, CreateUpdateID, CreateRequest{
		Actor: testCustomer, Subject: "Printer is on fire", Description: "It smells of toner.",
		Priority: p, CustomerID: testCustomer.ID,
	})
	return o, LifecycleInput{TicketID: testTicketID, Number: 1}
}

// runUntil runs the workflow, cancelling it at t0+d if it still runs.
func (h *slaHarness) runUntil(in LifecycleInput, d time.Duration) {
	h.t.Helper()
	h.runFor(in, h.delay(d))
}

// changes is every change the fake store received, with the test clock at
// each call.
func (h *slaHarness) changes() ([]models.Change, []time.Time) {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	return append([]models.Change(nil), h.store.changes...), append([]time.Time(nil), h.store.times...)
}

// timeline is every event received, in order.
func (h *slaHarness) timeline() []models.Event {
	cs, _ := h.changes()
	var out []models.Event
	for _, c := range cs {
		out = append(out, c.Events...)
	}
	return out
}

// eventsOf is the timeline's events of the given types.
func (h *slaHarness) eventsOf(types ...models.EventType) []models.Event {
	var out []models.Event
	for _, e := range h.timeline() {
		for _, typ := range types {
			if e.Type == typ {
				out = append(out, e)
			}
		}
	}
	return out
}

// mark is an SLA event in short: what, which clock, which fraction, when.
type mark struct {
	Type     models.EventType
	Clock    models.Clock
	Fraction float64
	After    time.Duration // after t0
}

func warning(c models.Clock, f float64, after time.Duration) mark {
	return mark{models.EventSLAWarning, c, f, after}
}

func breach(c models.Clock, after time.Duration) mark {
	return mark{models.EventSLABreached, c, 1, after}
}

const (
	fr  = models.ClockFirstResponse
	res = models.ClockResolution
)

// marks are the SLA events of the timeline, of the given clocks (every
// clock if none).
func (h *slaHarness) marks(clocks ...models.Clock) []mark {
	h.t.Helper()
	var out []mark
	for _, e := range h.eventsOf(models.EventSLAWarning, models.EventSLABreached) {
		data := storedData(h.t, e.Data)
		c := models.Clock(fmt.Sprint(data["clock"]))
		if len(clocks) > 0 && !slices.Contains(clocks, c) {
			continue
		}
		f, _ := data["fraction"].(float64)
		out = append(out, mark{e.Type, c, f, h.since(e.CreatedAt)})
	}
	return out
}

// autoMark is an automatic move in short.
type autoMark struct {
	Type  models.EventType
	After time.Duration
}

func (h *slaHarness) autoMarks() []autoMark {
	var out []autoMark
	for _, e := range h.eventsOf(models.EventAutoClosed, models.EventAutoResolved, models.EventEscalated) {
		out = append(out, autoMark{e.Type, h.since(e.CreatedAt)})
	}
	return out
}

// requireConsistent checks what every change shares, SLA-made or not: one
// version more than the change before, events numbered on from firstSeq
// without gaps, stamped with the change's time, and that time is the test
// clock when ApplyChange ran.
func (h *slaHarness) requireConsistent(firstVersion, firstSeq int64) {
	h.t.Helper()
	cs, times := h.changes()
	require.Len(h.t, times, len(cs))
	seq := firstSeq
	for i, c := range cs {
		assert.Equal(h.t, firstVersion+int64(i), c.Ticket.Version, "change %d version", i)
		assert.True(h.t, times[i].Equal(c.Ticket.UpdatedAt), "change %d stamped %s, applied at %s", i, c.Ticket.UpdatedAt, times[i])
		for _, e := range c.Events {
			assert.Equal(h.t, seq, e.Seq, "change %d event %s", i, e.Type)
			assert.True(h.t, e.CreatedAt.Equal(c.Ticket.UpdatedAt), "change %d event %s at %s", i, e.Type, e.CreatedAt)
			seq++
		}
	}
}

// ---- ledger assertions

func (h *slaHarness) at0(d time.Duration) time.Time { return h.t0.Add(d) }

// wantSegment is an expected stretch of a clock's ledger.
type wantSegment struct {
	state    models.SLAState
	from, to time.Duration // after t0; to == open: not ended
	reason   string
}

func (h *slaHarness) requireSegments(c models.SLAClock, want ...wantSegment) {
	h.t.Helper()
	got := make([]wantSegment, len(c.Segments))
	for i, s := range c.Segments {
		got[i] = wantSegment{state: s.State, from: h.since(s.From), to: open, reason: s.Reason}
		if s.To != nil {
			got[i].to = h.since(*s.To)
		}
	}
	assert.Equal(h.t, want, got)
}

// requireDue checks a clock's due time, t0+d; d == open: none.
func (h *slaHarness) requireDue(c models.SLAClock, d time.Duration, name string) {
	h.t.Helper()
	if d == open {
		assert.Nil(h.t, c.DueAt, "%s due_at", name)
		return
	}
	if assert.NotNil(h.t, c.DueAt, "%s due_at", name) {
		assert.Equal(h.t, d, h.since(*c.DueAt), "%s due_at %s", name, c.DueAt)
	}
}

// consumedAt is the clock's business seconds at t0+d, as the API shows them.
func (h *slaHarness) consumedAt(s *models.SLA, c models.SLAClock, d time.Duration) time.Duration {
	h.t.Helper()
	n, err := c.Consumed(s.Calendar, h.at0(d))
	require.NoError(h.t, err)
	return time.Duration(n) * time.Second
}

// ---- 1. warnings and breaches

func TestSLAWarningsAndBreaches(t *testing.T) {
	t.Run("75% and 90% warn and 100% breaches, each once", func(t *testing.T) {
		h := newSLAHarness(t)
		created, in := h.create(models.PriorityNormal)
		afterFRBreach := h.stateAt(8*time.Hour + time.Minute)
		h.runUntil(in, 200*time.Hour)

		requireSucceeded(t, created)
		h.requireStillRunning()
		h.requireConsistent(1, 1)
		// Normal: first response 8h, resolution 72h; nothing more once both
		// have breached, however long the ticket waits.
		assert.Equal(t, []mark{
			warning(fr, 0.75, 6*time.Hour), warning(fr, 0.9, 7*time.Hour+12*time.Minute), breach(fr, 8*time.Hour),
			warning(res, 0.75, 54*time.Hour), warning(res, 0.9, 64*time.Hour+48*time.Minute), breach(res, 72*time.Hour),
		}, h.marks())

		cs, _ := h.changes()
		require.Len(t, cs, 7, "the create and one change per threshold")
		for i, c := range cs[1:] {
			require.Len(t, c.Events, 1, "change %d", i+1)
			e := c.Events[0]
			assert.Equal(t, models.SystemActorID, e.ActorID)
			assert.Equal(t, models.SystemActorID, c.Ticket.UpdatedBy)
			assert.False(t, e.Internal, "SLA events are public")
			data := storedData(t, e.Data)
			clock := models.Clock(fmt.Sprint(data["clock"]))
			target, due := 8*time.Hour, h.at0(8*time.Hour)
			if clock == res {
				target, due = 72*time.Hour, h.at0(72*time.Hour)
			}
			assert.Equal(t, models.EventData{
				"clock": string(clock), "fraction": data["fraction"], "priority": "normal",
				"target_seconds": target.Seconds(), "due_at": due.Format(time.RFC3339Nano),
			}, data, "change %d", i+1)
			assert.Equal(t, models.StatusNew, c.Ticket.Status, "an SLA event moves no status")
		}

		// The ledger: a breached clock keeps counting and keeps its due time.
		assert.Equal(t, models.SLABreached, afterFRBreach.SLA.FirstResponse.State())
		assert.Equal(t, models.SLARunning, afterFRBreach.SLA.Resolution.State())
		final := h.store.last(t).Ticket.SLA
		require.NotNil(t, final)
		for _, c := range []struct {
			name  string
			clock models.SLAClock
			due   time.Duration
		}{{"first_response", final.FirstResponse, 8 * time.Hour}, {"resolution", final.Resolution, 72 * time.Hour}} {
			assert.Equal(t, models.SLABreached, c.clock.State(), c.name)
			assert.True(t, c.clock.Running, "%s stopped counting", c.name)
			assert.ElementsMatch(t, []float64{0.75, 0.9}, c.clock.Warned, c.name)
			h.requireDue(c.clock, c.due, c.name)
			h.requireSegments(c.clock, wantSegment{models.SLARunning, 0, open, "created"})
			assert.Equal(t, 100*time.Hour, h.consumedAt(final, c.clock, 100*time.Hour), c.name)
		}
	})

	t.Run("warn_at fractions come from the policy", func(t *testing.T) {
		h := newSLAHarness(t)
		h.sla.setAll(func(p *models.Policy) { p.WarnAt = []float64{0.5} })
		_, in := h.create(models.PriorityHigh) // 4h / 24h
		h.runUntil(in, 30*time.Hour)

		assert.Equal(t, []mark{
			warning(fr, 0.5, 2*time.Hour), breach(fr, 4*time.Hour),
			warning(res, 0.5, 12*time.Hour), breach(res, 24*time.Hour),
		}, h.marks())
		h.requireConsistent(1, 1)
	})

	t.Run("thresholds of both clocks at one instant are recorded once", func(t *testing.T) {
		h := newSLAHarness(t)
		p := testPolicy(models.PriorityNormal)
		p.FirstResponseSeconds, p.ResolutionSeconds = 6*3600, 8*3600 // the first response breaches as the resolution warns
		h.sla.setPolicy(p)
		_, in := h.create(models.PriorityNormal)
		h.runUntil(in, 10*time.Hour)

		assert.Equal(t, []mark{
			warning(fr, 0.75, 4*time.Hour+30*time.Minute), warning(fr, 0.9, 5*time.Hour+24*time.Minute),
			breach(fr, 6*time.Hour), warning(res, 0.75, 6*time.Hour),
			warning(res, 0.9, 7*time.Hour+12*time.Minute), breach(res, 8*time.Hour),
		}, h.marks())
		final := h.store.last(t).Ticket.SLA
		assert.ElementsMatch(t, []float64{0.75, 0.9}, final.Resolution.Warned)
	})
}

// ---- 2. the first-response clock

func TestSLAFirstResponse(t *testing.T) {
	tests := []struct {
		name    string
		replies []ReplyRequest // sent at t0+2h, +3h, …
		metBy   int            // index of the reply that stops the clock; -1: none
	}{
		{"a public staff reply meets it", []ReplyRequest{{Actor: testAgent, Body: "On it."}}, 0},
		{"an admin's public reply meets it", []ReplyRequest{{Actor: testAdmin, Body: "On it."}}, 0},
		{"an internal note does not stop it", []ReplyRequest{{Actor: testAgent, Body: "Vendor?", Internal: true}}, -1},
		{"a customer reply does not stop it", []ReplyRequest{{Actor: testCustomer, Body: "Hello?"}}, -1},
		{"the public reply after a note and a customer reply meets it", []ReplyRequest{
			{Actor: testAgent, Body: "Vendor?", Internal: true}, {Actor: testCustomer, Body: "Hello?"}, {Actor: testAgent, Body: "On it."},
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSLAHarness(t)
			_, in := h.create(models.PriorityNormal)
			outs := make([]*updateOutcome, len(tt.replies))
			for i, r := range tt.replies {
				outs[i] = h.send(time.Duration(i+2)*time.Hour, UpdateAddReply, r)
			}
			h.runUntil(in, 20*time.Hour)

			for _, o := range outs {
				requireSucceeded(t, o)
			}
			h.requireConsistent(1, 1)
			s := h.store.last(t).Ticket.SLA
			require.NotNil(t, s)
			c := s.FirstResponse
			if tt.metBy < 0 {
				assert.Equal(t, []mark{
					warning(fr, 0.75, 6*time.Hour), warning(fr, 0.9, 7*time.Hour+12*time.Minute), breach(fr, 8*time.Hour),
				}, h.marks(fr))
				assert.Equal(t, models.SLABreached, c.State())
				h.requireSegments(c, wantSegment{models.SLARunning, 0, open, "created"})
				return
			}
			at := time.Duration(tt.metBy+2) * time.Hour
			assert.Empty(t, h.marks(fr), "a met clock warned or breached")
			assert.Equal(t, models.SLAMet, c.State())
			assert.False(t, c.Running)
			assert.Equal(t, int64(at/time.Second), c.ConsumedSeconds)
			requireTimeEqual(t, h.at0(at), outs[tt.metBy].result.Ticket.FirstResponseAt, "first_response_at")
			h.requireSegments(c,
				wantSegment{models.SLARunning, 0, at, "created"},
				wantSegment{models.SLAMet, at, open, "first_response"},
			)
			// The resolution clock is not the first response's business.
			assert.Equal(t, models.SLARunning, s.Resolution.State())
		})
	}

	t.Run("a reply after the breach stops it breached", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		o := h.send(9*time.Hour, UpdateAddReply, ReplyRequest{Actor: testAgent, Body: "Sorry for the wait."})
		h.runUntil(in, 20*time.Hour)

		requireSucceeded(t, o)
		c := o.result.Ticket.SLA.FirstResponse
		assert.Equal(t, models.SLABreached, c.State())
		assert.False(t, c.Running)
		assert.Equal(t, int64(9*3600), c.ConsumedSeconds)
		h.requireSegments(c,
			wantSegment{models.SLARunning, 0, 9 * time.Hour, "created"},
			wantSegment{models.SLABreached, 9 * time.Hour, open, "first_response"},
		)
		assert.Equal(t, []mark{
			warning(fr, 0.75, 6*time.Hour), warning(fr, 0.9, 7*time.Hour+12*time.Minute), breach(fr, 8*time.Hour),
		}, h.marks(fr))
	})
}

// ---- 3. pauses

func TestSLAResolutionPauses(t *testing.T) {
	status := func(s models.Status) StatusRequest { return StatusRequest{Actor: testAgent, Status: s, Reason: "why"} }
	tests := []struct {
		name     string
		moves    []models.Status // at t0+1h, +2h, …; the last resumes
		paused   time.Duration
		segments []wantSegment
	}{
		{
			name: "pending", moves: []models.Status{models.StatusPending, models.StatusOpen}, paused: time.Hour,
			segments: []wantSegment{
				{models.SLARunning, 0, time.Hour, "created"},
				{models.SLAPaused, time.Hour, 2 * time.Hour, "status:pending"},
				{models.SLARunning, 2 * time.Hour, open, "status:open"},
			},
		},
		{
			name: "on hold", moves: []models.Status{models.StatusOnHold, models.StatusInProgress}, paused: time.Hour,
			segments: []wantSegment{
				{models.SLARunning, 0, time.Hour, "created"},
				{models.SLAPaused, time.Hour, 2 * time.Hour, "status:on_hold"},
				{models.SLARunning, 2 * time.Hour, open, "status:in_progress"},
			},
		},
		{
			name:  "pending then on hold",
			moves: []models.Status{models.StatusPending, models.StatusOnHold, models.StatusOpen}, paused: 2 * time.Hour,
			segments: []wantSegment{
				{models.SLARunning, 0, time.Hour, "created"},
				{models.SLAPaused, time.Hour, 3 * time.Hour, "status:pending"},
				{models.SLARunning, 3 * time.Hour, open, "status:open"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSLAHarness(t)
			_, in := h.create(models.PriorityNormal)
			outs := make([]*updateOutcome, len(tt.moves))
			for i, s := range tt.moves {
				outs[i] = h.send(time.Duration(i+1)*time.Hour, UpdateChangeStatus, status(s))
			}
			whilePaused := h.stateAt(time.Hour + 30*time.Minute)
			h.runUntil(in, 80*time.Hour)

			for _, o := range outs {
				requireSucceeded(t, o)
			}
			h.requireConsistent(1, 1)

			p := whilePaused.SLA.Resolution
			assert.Equal(t, models.SLAPaused, p.State())
			assert.Nil(t, p.DueAt, "a paused clock has no due time")
			assert.Equal(t, int64(3600), p.ConsumedSeconds)
			assert.Equal(t, time.Hour, h.consumedAt(whilePaused.SLA, p, time.Hour+30*time.Minute), "a paused clock counts on")
			// The first response is not paused by waiting on the customer.
			assert.Equal(t, models.SLARunning, whilePaused.SLA.FirstResponse.State())

			resumed := outs[len(outs)-1].result.Ticket.SLA.Resolution
			assert.Equal(t, models.SLARunning, resumed.State())
			assert.Equal(t, int64(3600), resumed.ConsumedSeconds, "the budget used before the pause is kept")
			h.requireDue(resumed, 72*time.Hour+tt.paused, "resolution")
			h.requireSegments(h.store.last(t).Ticket.SLA.Resolution, tt.segments...)
			// The thresholds move with it.
			assert.Equal(t, []mark{
				warning(res, 0.75, 54*time.Hour+tt.paused), warning(res, 0.9, 64*time.Hour+48*time.Minute+tt.paused),
				breach(res, 72*time.Hour+tt.paused),
			}, h.marks(res))
		})
	}
}

// ---- 4. business hours

// berlinOffice is Mon–Fri 09:00–17:00 in Berlin (UTC+1 in March 2026, before
// the clocks change on the 29th).
func berlinOffice(holidays ...string) *models.Calendar {
	c := &models.Calendar{TimeZone: "Europe/Berlin", Holidays: holidays}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		c.Hours = append(c.Hours, models.OpenHours{Day: d, Open: "09:00", Close: "17:00"})
	}
	return c
}

func TestSLABusinessHours(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	local := func(day, hour, minute int) time.Time {
		return time.Date(2026, time.March, day, hour, minute, 0, 0, berlin)
	}
	tests := []struct {
		name     string
		created  time.Time
		holidays []string
		quiet    []time.Time   // the clock has not moved on since…
		consumed time.Duration // …what it had consumed by then
		warn75   time.Time
		warn90   time.Time
		due      time.Time
	}{
		{
			name:    "filed Friday 18:00, breaches Monday 17:00, not over the weekend",
			created: local(6, 18, 0),
			quiet:   []time.Time{local(7, 12, 0), local(8, 23, 59), local(9, 9, 0)},
			warn75:  local(9, 15, 0), warn90: local(9, 16, 12), due: local(9, 17, 0),
		},
		{
			name:    "a Monday holiday after the weekend moves it to Tuesday",
			created: local(6, 18, 0), holidays: []string{"2026-03-09"},
			quiet:  []time.Time{local(8, 12, 0), local(9, 16, 59), local(10, 9, 0)},
			warn75: local(10, 15, 0), warn90: local(10, 16, 12), due: local(10, 17, 0),
		},
		{
			name:    "a Thursday holiday mid-week",
			created: local(4, 12, 0), holidays: []string{"2026-03-05"},
			// Wednesday 12:00–17:00 is 5h; Thursday is closed; Friday 09:00 on.
			quiet: []time.Time{local(4, 17, 0), local(5, 12, 0), local(6, 9, 0)}, consumed: 5 * time.Hour,
			warn75: local(6, 10, 0), warn90: local(6, 11, 12), due: local(6, 12, 0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSLAHarnessAt(t, tt.created.Add(-createAfter), tt.created)
			cal := berlinOffice(tt.holidays...)
			h.sla.setAll(func(p *models.Policy) { p.Calendar = cal })
			p := testPolicy(models.PriorityNormal)
			p.Calendar, p.ResolutionSeconds = cal, 40*3600 // a working week
			h.sla.setPolicy(p)
			_, in := h.create(models.PriorityNormal)
			quiet := make([]*models.Ticket, len(tt.quiet))
			for i, at := range tt.quiet {
				quiet[i] = h.stateAt(h.since(at))
			}
			h.runUntil(in, h.since(tt.due)+6*time.Hour)

			h.requireConsistent(1, 1)
			for i, s := range quiet {
				require.NotNil(t, s.SLA, "state %d", i)
				assert.Equal(t, tt.consumed, h.consumedAt(s.SLA, s.SLA.FirstResponse, h.since(tt.quiet[i])), "consumed by %s", tt.quiet[i])
				assert.Equal(t, models.SLARunning, s.SLA.FirstResponse.State())
				h.requireDue(s.SLA.FirstResponse, h.since(tt.due), "first_response")
			}
			assert.Equal(t, []mark{
				warning(fr, 0.75, h.since(tt.warn75)), warning(fr, 0.9, h.since(tt.warn90)), breach(fr, h.since(tt.due)),
			}, h.marks(fr))
			for _, e := range h.eventsOf(models.EventSLABreached) {
				assert.Equal(t, tt.due.UTC().Format(time.RFC3339Nano), e.Data["due_at"])
			}
		})
	}
}

// ---- 5. priority changes

func TestSLAPriorityChange(t *testing.T) {
	edit := func(p models.Priority) EditRequest { return EditRequest{Actor: testAgent, Priority: &p} }

	t.Run("a higher priority re-targets keeping the consumed time", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		o := h.send(2*time.Hour, UpdateEdit, edit(models.PriorityHigh)) // 4h / 24h
		h.runUntil(in, 30*time.Hour)

		requireSucceeded(t, o)
		h.requireConsistent(1, 1)
		assert.Equal(t, []models.Priority{models.PriorityNormal, models.PriorityHigh}, h.sla.requested())
		s := o.result.Ticket.SLA
		assert.Equal(t, models.PriorityHigh, s.Priority)
		for _, c := range []struct {
			name   string
			clock  models.SLAClock
			target int64
			due    time.Duration
		}{
			{"first_response", s.FirstResponse, 4 * 3600, 4 * time.Hour},
			{"resolution", s.Resolution, 24 * 3600, 24 * time.Hour},
		} {
			assert.Equal(t, c.target, c.clock.TargetSeconds, c.name)
			assert.Equal(t, int64(2*3600), c.clock.ConsumedSeconds, c.name)
			h.requireDue(c.clock, c.due, c.name)
			assert.Equal(t, models.SLARunning, c.clock.State(), c.name)
		}
		assert.Equal(t, []mark{
			warning(fr, 0.75, 3*time.Hour), warning(fr, 0.9, 3*time.Hour+36*time.Minute), breach(fr, 4*time.Hour),
			warning(res, 0.75, 18*time.Hour), warning(res, 0.9, 21*time.Hour+36*time.Minute), breach(res, 24*time.Hour),
		}, h.marks())
		for _, e := range h.eventsOf(models.EventSLAWarning, models.EventSLABreached) {
			assert.Equal(t, "high", fmt.Sprint(e.Data["priority"]))
		}
	})

	t.Run("a lower priority gives more time", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		o := h.send(2*time.Hour, UpdateEdit, edit(models.PriorityLow)) // 24h / 120h
		h.runUntil(in, 25*time.Hour)

		requireSucceeded(t, o)
		h.requireDue(o.result.Ticket.SLA.FirstResponse, 24*time.Hour, "first_response")
		h.requireDue(o.result.Ticket.SLA.Resolution, 120*time.Hour, "resolution")
		assert.Equal(t, []mark{
			warning(fr, 0.75, 18*time.Hour), warning(fr, 0.9, 21*time.Hour+36*time.Minute), breach(fr, 24*time.Hour),
		}, h.marks())
	})

	t.Run("re-targeting below the time consumed breaches at once", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		o := h.send(2*time.Hour, UpdateEdit, edit(models.PriorityUrgent)) // 1h / 8h
		h.runUntil(in, 3*time.Hour)

		requireSucceeded(t, o)
		assert.Equal(t, []mark{
			warning(fr, 0.75, 2*time.Hour), warning(fr, 0.9, 2*time.Hour), breach(fr, 2*time.Hour),
		}, h.marks())
		cs, _ := h.changes()
		require.Len(t, cs, 3, "create, edit, then one change with all three")
		assert.Len(t, cs[2].Events, 3)
		h.requireConsistent(1, 1)
	})

	t.Run("a paused clock keeps its pause under the new target", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		h.send(time.Hour, UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusOnHold})
		o := h.send(2*time.Hour, UpdateEdit, edit(models.PriorityHigh))
		back := h.send(3*time.Hour, UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusOpen})
		h.runUntil(in, 4*time.Hour)

		requireSucceeded(t, o)
		requireSucceeded(t, back)
		r := o.result.Ticket.SLA.Resolution
		assert.Equal(t, models.SLAPaused, r.State())
		assert.Equal(t, int64(24*3600), r.TargetSeconds)
		assert.Nil(t, r.DueAt)
		// 1h consumed before the pause, 23h left from the resumption.
		h.requireDue(back.result.Ticket.SLA.Resolution, 26*time.Hour, "resolution")
	})
}

// ---- 6. escalation

func TestSLAEscalation(t *testing.T) {
	t.Run("a breach raises the priority one step and re-targets", func(t *testing.T) {
		h := newSLAHarness(t)
		p := testPolicy(models.PriorityNormal)
		p.Escalate = true
		h.sla.setPolicy(p)
		_, in := h.create(models.PriorityNormal)
		h.runUntil(in, 30*time.Hour)

		h.requireConsistent(1, 1)
		assert.Equal(t, []models.Priority{models.PriorityNormal, models.PriorityHigh}, h.sla.requested())
		esc := h.eventsOf(models.EventEscalated)
		require.Len(t, esc, 1)
		assert.Equal(t, models.EventData{"from": "normal", "to": "high"}, storedData(t, esc[0].Data))
		assert.Equal(t, []autoMark{{models.EventEscalated, 8 * time.Hour}}, h.autoMarks())

		// The breach and the escalation are one change.
		cs, _ := h.changes()
		var at models.Change
		for _, c := range cs {
			if len(c.Events) > 0 && c.Events[len(c.Events)-1].Type == models.EventEscalated {
				at = c
			}
		}
		require.Len(t, at.Events, 2)
		assert.Equal(t, models.EventSLABreached, at.Events[0].Type)
		assert.Equal(t, models.PriorityHigh, at.Ticket.Priority)
		s := at.Ticket.SLA
		assert.Equal(t, models.PriorityHigh, s.Priority)
		assert.Equal(t, int64(4*3600), s.FirstResponse.TargetSeconds)
		assert.Equal(t, int64(24*3600), s.Resolution.TargetSeconds)
		h.requireDue(s.FirstResponse, 8*time.Hour, "first_response") // breached: its due time stays
		h.requireDue(s.Resolution, 24*time.Hour, "resolution")

		// The resolution clock now runs to the high policy; high does not escalate.
		assert.Equal(t, []mark{
			warning(fr, 0.75, 6*time.Hour), warning(fr, 0.9, 7*time.Hour+12*time.Minute), breach(fr, 8*time.Hour),
			warning(res, 0.75, 18*time.Hour), warning(res, 0.9, 21*time.Hour+36*time.Minute), breach(res, 24*time.Hour),
		}, h.marks())
		assert.Equal(t, models.PriorityHigh, h.store.last(t).Ticket.Priority)
	})

	t.Run("escalation goes on while the policies say so", func(t *testing.T) {
		h := newSLAHarness(t)
		h.sla.setAll(func(p *models.Policy) { p.Escalate = true })
		_, in := h.create(models.PriorityHigh) // 4h/24h, then urgent 1h/8h
		h.runUntil(in, 30*time.Hour)

		// high breaches its first response at 4h and becomes urgent (8h
		// resolution, 4h consumed); its resolution breaches at 8h; urgent
		// is the top.
		assert.Equal(t, []autoMark{{models.EventEscalated, 4 * time.Hour}}, h.autoMarks())
		assert.Equal(t, breach(res, 8*time.Hour), h.marks(res)[2])
		assert.Equal(t, models.PriorityUrgent, h.store.last(t).Ticket.Priority)
	})

	t.Run("urgent does not escalate", func(t *testing.T) {
		h := newSLAHarness(t)
		h.sla.setAll(func(p *models.Policy) { p.Escalate = true })
		_, in := h.create(models.PriorityUrgent)
		h.runUntil(in, 10*time.Hour)

		assert.Empty(t, h.eventsOf(models.EventEscalated))
		assert.Equal(t, []mark{
			warning(fr, 0.75, 45*time.Minute), warning(fr, 0.9, 54*time.Minute), breach(fr, time.Hour),
			warning(res, 0.75, 6*time.Hour), warning(res, 0.9, 7*time.Hour+12*time.Minute), breach(res, 8*time.Hour),
		}, h.marks())
		assert.Equal(t, []models.Priority{models.PriorityUrgent}, h.sla.requested())
	})

	t.Run("without escalate a breach keeps the priority", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		h.runUntil(in, 10*time.Hour)

		assert.Empty(t, h.eventsOf(models.EventEscalated))
		assert.Equal(t, models.PriorityNormal, h.store.last(t).Ticket.Priority)
	})

	t.Run("a failed policy lookup leaves no gap in the timeline", func(t *testing.T) {
		h := newSLAHarness(t)
		p := testPolicy(models.PriorityNormal)
		p.Escalate = true
		h.sla.setPolicy(p)
		_, in := h.create(models.PriorityNormal)
		h.do(8*time.Hour-time.Minute, func() {
			h.sla.setFailure(temporal.NewNonRetryableApplicationError("database is away", activities.ErrTypeInvalid, nil))
		})
		h.do(8*time.Hour+5*time.Second, func() { h.sla.setFailure(nil) })
		h.runUntil(in, 9*time.Hour)

		h.requireConsistent(1, 1)
		// The tick is retried 10s later.
		assert.Equal(t, []autoMark{{models.EventEscalated, 8*time.Hour + 10*time.Second}}, h.autoMarks())
	})
}

// ---- 7. reopening

func TestSLAReopen(t *testing.T) {
	tests := []struct {
		name   string
		update string
		req    any
		actor  Actor
	}{
		{"by status", UpdateChangeStatus, StatusRequest{Actor: testCustomer, Status: models.StatusOpen}, testCustomer},
		{"by a customer reply", UpdateAddReply, ReplyRequest{Actor: testCustomer, Body: "It is back."}, testCustomer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newSLAHarness(t)
			_, in := h.create(models.PriorityNormal)
			resolved := h.send(2*time.Hour, UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusResolved})
			reopened := h.send(5*time.Hour, tt.update, tt.req)
			h.runUntil(in, 80*time.Hour)

			requireSucceeded(t, resolved)
			requireSucceeded(t, reopened)
			h.requireConsistent(1, 1)

			r := resolved.result.Ticket.SLA.Resolution
			assert.Equal(t, models.SLAMet, r.State())
			assert.False(t, r.Running)
			h.requireDue(r, 72*time.Hour, "resolution") // a stopped clock keeps the due time it met
			assert.Equal(t, models.SLAMet, resolved.result.Ticket.SLA.FirstResponse.State(), "resolving before a reply stops the first response")

			got := reopened.result.Ticket
			assert.Equal(t, models.StatusOpen, got.Status)
			r = got.SLA.Resolution
			assert.Equal(t, models.SLARunning, r.State())
			assert.Equal(t, int64(2*3600), r.ConsumedSeconds)
			h.requireDue(r, 75*time.Hour, "resolution") // 70h left from 5h
			// The "met" segment covers the resolved stretch, 2h–5h.
			h.requireSegments(r,
				wantSegment{models.SLARunning, 0, 2 * time.Hour, "created"},
				wantSegment{models.SLAMet, 2 * time.Hour, 5 * time.Hour, "status:resolved"},
				wantSegment{models.SLARunning, 5 * time.Hour, open, "reopened"},
			)
			assert.Equal(t, models.SLAMet, got.SLA.FirstResponse.State(), "reopening does not restart the first response")
			assert.Equal(t, []mark{
				warning(res, 0.75, 57*time.Hour), warning(res, 0.9, 67*time.Hour+48*time.Minute), breach(res, 75*time.Hour),
			}, h.marks())
			assert.Empty(t, h.autoMarks(), "a reopened ticket does not close by itself")
			h.requireStillRunning()
		})
	}
}

// ---- 8. automatic close and resolve

func TestSLAAutoClose(t *testing.T) {
	resolve := StatusRequest{Actor: testAgent, Status: models.StatusResolved}

	t.Run("a resolved ticket closes after the delay", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		o := h.send(time.Hour, UpdateChangeStatus, resolve)
		h.runUntil(in, 200*time.Hour)

		requireSucceeded(t, o)
		assert.Equal(t, LifecycleResult{Status: models.StatusClosed}, h.result())
		assert.Equal(t, 97*time.Hour, h.since(h.env.Now()), "the workflow ended when it closed the ticket")
		assert.Equal(t, []autoMark{{models.EventAutoClosed, 97 * time.Hour}}, h.autoMarks())
		h.requireConsistent(1, 1)
		c := h.store.last(t)
		requireEvents(t, c, 3, Actor{ID: models.SystemActorID}, wantEvent{
			typ: models.EventAutoClosed, data: models.EventData{"from": "resolved", "to": "closed", "automatic": true},
		})
		assert.Equal(t, models.StatusClosed, c.Ticket.Status)
		requireTimeEqual(t, h.at0(97*time.Hour), c.Ticket.ClosedAt, "closed_at")
		requireTimeEqual(t, h.at0(time.Hour), c.Ticket.ResolvedAt, "resolved_at")
		assert.Equal(t, []models.Priority{models.PriorityNormal, models.PriorityNormal}, h.sla.requested(),
			"resolving reads the delays in force")
	})

	t.Run("the delay in force at resolution applies", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		h.do(30*time.Minute, func() {
			h.sla.setLifecycle(models.Lifecycle{ResolvedAutoCloseSeconds: 2 * 3600, PendingAutoResolveSeconds: 3600})
		})
		h.send(time.Hour, UpdateChangeStatus, resolve)
		h.runUntil(in, 10*time.Hour)

		assert.Equal(t, LifecycleResult{Status: models.StatusClosed}, h.result())
		assert.Equal(t, []autoMark{{models.EventAutoClosed, 3 * time.Hour}}, h.autoMarks())
	})

	t.Run("a customer reply reopens and cancels it", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		h.send(time.Hour, UpdateChangeStatus, resolve)
		reply := h.send(50*time.Hour, UpdateAddReply, ReplyRequest{Actor: testCustomer, Body: "Not fixed."})
		h.runUntil(in, 110*time.Hour)

		requireSucceeded(t, reply)
		assert.Equal(t, models.StatusOpen, reply.result.Ticket.Status)
		assert.Empty(t, h.autoMarks())
		assert.Equal(t, models.StatusOpen, h.store.last(t).Ticket.Status)
		h.requireStillRunning()
	})

	t.Run("resolving again starts the delay again", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		h.send(time.Hour, UpdateChangeStatus, resolve)
		h.send(10*time.Hour, UpdateChangeStatus, StatusRequest{Actor: testCustomer, Status: models.StatusOpen})
		h.send(20*time.Hour, UpdateChangeStatus, resolve)
		h.runUntil(in, 200*time.Hour)

		assert.Equal(t, LifecycleResult{Status: models.StatusClosed}, h.result())
		assert.Equal(t, []autoMark{{models.EventAutoClosed, 116 * time.Hour}}, h.autoMarks())
	})
}

func TestSLAAutoResolve(t *testing.T) {
	pending := StatusRequest{Actor: testAgent, Status: models.StatusPending, Reason: "need logs"}
	const week = 7 * 24 * time.Hour

	t.Run("pending without a reply resolves, then closes", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		o := h.send(time.Hour, UpdateChangeStatus, pending)
		// An agent's nudge does not restart the wait.
		nudge := h.send(100*time.Hour, UpdateAddReply, ReplyRequest{Actor: testAgent, Body: "Any news?"})
		h.runUntil(in, 400*time.Hour)

		requireSucceeded(t, o)
		requireSucceeded(t, nudge)
		assert.Equal(t, []autoMark{
			{models.EventAutoResolved, time.Hour + week},
			{models.EventAutoClosed, time.Hour + week + 96*time.Hour},
		}, h.autoMarks())
		assert.Equal(t, LifecycleResult{Status: models.StatusClosed}, h.result())
		assert.Equal(t, time.Hour+week+96*time.Hour, h.since(h.env.Now()))
		h.requireConsistent(1, 1)

		resolved := h.eventsOf(models.EventAutoResolved)[0]
		assert.Equal(t, models.SystemActorID, resolved.ActorID)
		assert.Equal(t, models.EventData{"from": "pending", "to": "resolved", "automatic": true}, storedData(t, resolved.Data))
		cs, _ := h.changes()
		for _, c := range cs {
			if c.Events[0].Type == models.EventAutoResolved {
				assert.Equal(t, models.StatusResolved, c.Ticket.Status)
				requireTimeEqual(t, h.at0(time.Hour+week), c.Ticket.ResolvedAt, "resolved_at")
				assert.Equal(t, models.SLAMet, c.Ticket.SLA.Resolution.State(), "resolving stops the resolution clock")
				assert.Equal(t, int64(3600), c.Ticket.SLA.Resolution.ConsumedSeconds, "the week pending did not count")
			}
		}
	})

	t.Run("a customer reply before the delay cancels it", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		h.send(time.Hour, UpdateChangeStatus, pending)
		reply := h.send(100*time.Hour, UpdateAddReply, ReplyRequest{Actor: testCustomer, Body: "Here are the logs."})
		h.runUntil(in, 300*time.Hour)

		requireSucceeded(t, reply)
		assert.Equal(t, models.StatusOpen, reply.result.Ticket.Status)
		assert.Empty(t, h.autoMarks())
		h.requireStillRunning()
	})

	t.Run("going pending again starts the delay again", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		h.send(time.Hour, UpdateChangeStatus, pending)
		h.send(2*time.Hour, UpdateAddReply, ReplyRequest{Actor: testCustomer, Body: "Logs attached."})
		h.send(3*time.Hour, UpdateChangeStatus, pending)
		h.runUntil(in, 3*time.Hour+week+time.Hour)

		assert.Equal(t, []autoMark{{models.EventAutoResolved, 3*time.Hour + week}}, h.autoMarks())
	})
}

// ---- 9. continue-as-new

// continuedAs decodes the input of the next run from a continue-as-new.
func continuedAs(t *testing.T, err error) LifecycleInput {
	t.Helper()
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, err, &can)
	assert.Equal(t, LifecycleWorkflow, can.WorkflowType.Name)
	var in LifecycleInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
	return in
}

func TestSLAContinueAsNew(t *testing.T) {
	lifecycle := models.Lifecycle{ResolvedAutoCloseSeconds: 5 * 3600, PendingAutoResolveSeconds: 10 * 3600}

	// The first run: created at t0, pending at 1h, continued as new at 2h.
	first := newSLAHarness(t)
	first.sla.setLifecycle(lifecycle)
	_, in := first.create(models.PriorityNormal)
	pend := first.send(time.Hour, UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusPending})
	note := &updateOutcome{}
	first.do(2*time.Hour, func() {
		first.env.UpdateWorkflow(UpdateAddReply, "", &testsuite.TestUpdateCallback{
			OnAccept: func() {
				note.accepted = true
				first.env.SetContinueAsNewSuggested(true)
			},
			OnReject: func(err error) { note.rejected, note.err = true, err },
			OnComplete: func(v any, err error) {
				note.completed, note.err = true, err
				note.result, _ = v.(UpdateResult)
			},
		}, ReplyRequest{Actor: testAgent, Body: "Asked the vendor.", Internal: true})
	})
	first.runUntil(in, 100*time.Hour)

	requireSucceeded(t, pend)
	requireSucceeded(t, note)
	next := continuedAs(t, first.env.GetWorkflowError())
	assert.Equal(t, 2*time.Hour, first.since(first.env.Now()))
	assert.True(t, next.SLAEnabled, "the SLA engine must stay on")
	assert.Equal(t, lifecycle, next.Lifecycle)
	assert.True(t, first.at0(time.Hour).Equal(next.StatusSince), "status since %s", next.StatusSince)
	assert.Equal(t, int64(3), next.Events)
	require.NotNil(t, next.State)
	assert.Equal(t, note.result.Ticket, *next.State)
	s := next.State.SLA
	require.NotNil(t, s)
	assert.Equal(t, models.SLARunning, s.FirstResponse.State())
	first.requireDue(s.FirstResponse, 8*time.Hour, "first_response")
	assert.Equal(t, models.SLAPaused, s.Resolution.State())
	assert.Equal(t, int64(3600), s.Resolution.ConsumedSeconds)

	// The next run: its timers fire where the first run's would have.
	h := newSLAHarnessAt(t, first.env.Now(), first.t0)
	h.runUntil(next, 20*time.Hour)

	assert.Empty(t, h.sla.requested(), "the next run needs no configuration")
	assert.Equal(t, []mark{
		warning(fr, 0.75, 6*time.Hour), warning(fr, 0.9, 7*time.Hour+12*time.Minute), breach(fr, 8*time.Hour),
	}, h.marks())
	// Pending since 1h with a 10h delay, then resolved for 5h.
	assert.Equal(t, []autoMark{{models.EventAutoResolved, 11 * time.Hour}, {models.EventAutoClosed, 16 * time.Hour}}, h.autoMarks())
	assert.Equal(t, LifecycleResult{Status: models.StatusClosed}, h.result())
	h.requireConsistent(next.State.Version+1, next.Events+1)
}

// ---- 10. search attributes

// saSnapshot is what Temporal UI shows of the SLA after an upsert.
type saSnapshot struct {
	After    time.Duration // after t0
	State    string        // "" when unset
	Due      time.Duration // after t0; open when unset
	Priority string
}

// saRecorder is a worker interceptor that reads the workflow's search
// attributes after every upsert, unsets included (the upsert mock cannot
// show those).
type saRecorder struct {
	interceptor.WorkerInterceptorBase
	t0    time.Time
	mu    sync.Mutex
	snaps []saSnapshot
}

func (r *saRecorder) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &saInbound{r: r}
	i.Next = next
	return i
}

func (r *saRecorder) snapshots() []saSnapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]saSnapshot(nil), r.snaps...)
}

type saInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	r *saRecorder
}

func (i *saInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &saOutbound{r: i.r}
	o.Next = outbound
	return i.Next.Init(o)
}

type saOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	r *saRecorder
}

func (o *saOutbound) UpsertTypedSearchAttributes(ctx workflow.Context, attrs ...temporal.SearchAttributeUpdate) error {
	if err := o.Next.UpsertTypedSearchAttributes(ctx, attrs...); err != nil {
		return err
	}
	sa := o.Next.GetTypedSearchAttributes(ctx)
	snap := saSnapshot{After: o.Next.Now(ctx).Sub(o.r.t0), Due: open}
	snap.State, _ = sa.GetKeyword(AttrSLAState)
	snap.Priority, _ = sa.GetKeyword(AttrPriority)
	if due, ok := sa.GetTime(AttrSLADueAt); ok {
		snap.Due = due.Sub(o.r.t0)
	}
	o.r.mu.Lock()
	defer o.r.mu.Unlock()
	o.r.snaps = append(o.r.snaps, snap)
	return nil
}

func (h *slaHarness) recordSearchAttributes() *saRecorder {
	r := &saRecorder{t0: h.t0}
	h.env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{r}})
	return r
}

func TestSLASearchAttributes(t *testing.T) {
	t.Run("they follow the headline clock", func(t *testing.T) {
		h := newSLAHarness(t)
		rec := h.recordSearchAttributes()
		_, in := h.create(models.PriorityNormal)
		h.send(time.Hour, UpdateAddReply, ReplyRequest{Actor: testAgent, Body: "On it."})
		h.send(2*time.Hour, UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusPending})
		h.send(4*time.Hour, UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusOpen})
		h.send(80*time.Hour, UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusResolved})
		h.runUntil(in, 90*time.Hour)

		snaps := rec.snapshots()
		require.GreaterOrEqual(t, len(snaps), 4, "snapshots: %+v", snaps)
		assert.Equal(t, []saSnapshot{
			{0, "running", 8 * time.Hour, "normal"},              // the first response is due first
			{time.Hour, "running", 72 * time.Hour, "normal"},     // met: the resolution clock matters now
			{2 * time.Hour, "paused", open, "normal"},            // waiting on the customer
			{4 * time.Hour, "running", 74 * time.Hour, "normal"}, // resumed, due 2h later
		}, snaps[:4])
		// The warnings upsert nothing new; the breach says so and leaves no
		// clock running to be due.
		var breached *saSnapshot
		for i := range snaps {
			if snaps[i].State == "breached" {
				breached = &snaps[i]
				break
			}
		}
		require.NotNil(t, breached, "snapshots: %+v", snaps)
		assert.Equal(t, saSnapshot{74 * time.Hour, "breached", open, "normal"}, *breached)
		last := snaps[len(snaps)-1]
		assert.Equal(t, saSnapshot{80 * time.Hour, "breached", open, "normal"}, last, "a breach stays in the headline once resolved")
	})

	t.Run("a first-response breach shows with the resolution's due time", func(t *testing.T) {
		h := newSLAHarness(t)
		rec := h.recordSearchAttributes()
		_, in := h.create(models.PriorityNormal)
		h.runUntil(in, 9*time.Hour)

		snaps := rec.snapshots()
		require.NotEmpty(t, snaps)
		assert.Equal(t, saSnapshot{0, "running", 8 * time.Hour, "normal"}, snaps[0])
		assert.Equal(t, saSnapshot{8 * time.Hour, "breached", 72 * time.Hour, "normal"}, snaps[len(snaps)-1])
	})

	t.Run("a resolved ticket within its targets shows met", func(t *testing.T) {
		h := newSLAHarness(t)
		rec := h.recordSearchAttributes()
		_, in := h.create(models.PriorityNormal)
		h.send(time.Hour, UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusResolved})
		h.runUntil(in, 2*time.Hour)

		snaps := rec.snapshots()
		require.Len(t, snaps, 2)
		assert.Equal(t, saSnapshot{time.Hour, "met", open, "normal"}, snaps[1])
	})

	t.Run("an escalation shows the new priority", func(t *testing.T) {
		h := newSLAHarness(t)
		rec := h.recordSearchAttributes()
		p := testPolicy(models.PriorityNormal)
		p.Escalate = true
		h.sla.setPolicy(p)
		_, in := h.create(models.PriorityNormal)
		h.runUntil(in, 9*time.Hour)

		snaps := rec.snapshots()
		require.NotEmpty(t, snaps)
		last := snaps[len(snaps)-1]
		assert.Equal(t, 8*time.Hour, last.After)
		assert.Equal(t, "high", last.Priority)
		assert.Equal(t, "breached", last.State)
	})
}

// ---- 11. tickets without the engine, failures, the end

func TestSLAOffAndFailures(t *testing.T) {
	t.Run("a ticket started before the engine gets no clocks and no automatic moves", func(t *testing.T) {
		h := newSLAHarness(t)
		// As a v1 run continues as new: a state, no SLAEnabled.
		from := ticketIn(models.StatusResolved)
		h.send(time.Hour, UpdateEdit, EditRequest{Actor: testAgent, Priority: new(models.PriorityUrgent)})
		h.runUntil(LifecycleInput{TicketID: testTicketID, Number: 1, State: &from, Events: 3}, 300*time.Hour)

		h.requireStillRunning()
		assert.Empty(t, h.sla.requested(), "LoadSLAConfig called")
		require.Equal(t, 1, h.store.calls(), "only the edit was written")
		assert.Nil(t, h.store.last(t).Ticket.SLA)
		assert.Empty(t, h.marks())
		assert.Empty(t, h.autoMarks())
	})

	down := temporal.NewNonRetryableApplicationError("connection refused", "Unavailable", nil)

	t.Run("a create fails when the policy cannot be read, and nothing is written", func(t *testing.T) {
		h := newSLAHarness(t)
		h.sla.setFailure(down)
		failed, in := h.create(models.PriorityNormal)
		h.do(time.Minute, func() { h.sla.setFailure(nil) })
		again := h.send(2*time.Minute, UpdateCreate, CreateRequest{
			Actor: testCustomer, Subject: "S", Description: "D", Priority: models.PriorityHigh, CustomerID: testCustomer.ID,
		})
		h.runUntil(in, time.Hour)

		requireFailed(t, failed, ErrTypeUnavailable)
		requireSucceeded(t, again)
		require.Equal(t, 1, h.store.calls())
		assert.Equal(t, int64(1), again.result.Ticket.Version)
		require.NotNil(t, again.result.Ticket.SLA)
		h.requireDue(again.result.Ticket.SLA.FirstResponse, 2*time.Minute+4*time.Hour, "first_response")
	})

	for _, tt := range []struct {
		name string
		kind string
		req  any
	}{
		{"resolving", UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusResolved}},
		{"going pending", UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusPending}},
		{"a priority change", UpdateEdit, EditRequest{Actor: testAgent, Priority: new(models.PriorityHigh)}},
	} {
		t.Run(tt.name+" fails when the settings cannot be read, and nothing is written", func(t *testing.T) {
			h := newSLAHarness(t)
			_, in := h.create(models.PriorityNormal)
			h.do(time.Hour-time.Minute, func() { h.sla.setFailure(down) })
			o := h.send(time.Hour, tt.kind, tt.req)
			after := h.stateAt(time.Hour + time.Minute)
			h.runUntil(in, 2*time.Hour)

			requireFailed(t, o, ErrTypeUnavailable)
			assert.Equal(t, 1, h.store.calls(), "only the create was written")
			assert.Equal(t, int64(1), after.Version)
			assert.Equal(t, models.StatusNew, after.Status)
			assert.Equal(t, models.PriorityNormal, after.SLA.Priority)
		})
	}

	t.Run("deleting a ticket ends its clocks", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		del := h.send(time.Hour, UpdateDelete, DeleteRequest{Actor: testAdmin})
		h.runUntil(in, 100*time.Hour)

		requireSucceeded(t, del)
		assert.Equal(t, LifecycleResult{Status: models.StatusNew, Deleted: true}, h.result())
		assert.Equal(t, time.Hour, h.since(h.env.Now()))
		assert.Empty(t, h.marks())
	})

	t.Run("closing a ticket ends its clocks", func(t *testing.T) {
		h := newSLAHarness(t)
		_, in := h.create(models.PriorityNormal)
		closed := h.send(time.Hour, UpdateChangeStatus, StatusRequest{Actor: testAgent, Status: models.StatusClosed})
		h.runUntil(in, 100*time.Hour)

		requireSucceeded(t, closed)
		assert.Equal(t, LifecycleResult{Status: models.StatusClosed}, h.result())
		s := closed.result.Ticket.SLA
		assert.Equal(t, models.SLAMet, s.FirstResponse.State())
		assert.Equal(t, models.SLAMet, s.Resolution.State())
		assert.Empty(t, h.marks())
	})
}

// ---- 12. what the SLA events tell the metrics

// fakeActivityStore is the database behind the real activities: it applies
// every change.
type fakeActivityStore struct{}

func (fakeActivityStore) ApplyChange(_ context.Context, c models.Change) (models.Ticket, bool, error) {
	return c.Ticket, true, nil
}

func (fakeActivityStore) Commit(_ context.Context, c models.Change) (models.Committed, error) {
	return models.Committed{Ticket: c.Ticket, LastSeq: c.Events[len(c.Events)-1].Seq, Applied: true}, nil
}

func (fakeActivityStore) GetPolicy(context.Context, models.Priority) (models.Policy, error) {
	return models.Policy{}, errors.New("not used")
}

func (fakeActivityStore) GetLifecycle(context.Context) (models.Lifecycle, error) {
	return models.Lifecycle{}, errors.New("not used")
}

// labelRecorder keeps the metric labels the activities report.
type labelRecorder struct{ labels []string }

func (r *labelRecorder) SLAWarning(priority, clock string, fraction float64) {
	r.labels = append(r.labels, fmt.Sprintf("warning %s %s %v", priority, clock, fraction))
}

func (r *labelRecorder) SLABreached(priority, clock string, _ time.Duration) {
	r.labels = append(r.labels, fmt.Sprintf("breached %s %s", priority, clock))
}

func TestSLAEventsReachTheMetrics(t *testing.T) {
	h := newSLAHarness(t)
	_, in := h.create(models.PriorityNormal)
	h.runUntil(in, 9*time.Hour)

	// Hand the changes, as the local activity received them, to the real
	// activity.
	rec := &labelRecorder{}
	acts := activities.New(fakeActivityStore{}, rec)
	cs, _ := h.changes()
	for _, c := range cs {
		_, err := acts.ApplyChange(context.Background(), activities.ApplyChangeInput{Change: c})
		require.NoError(t, err)
	}
	assert.Equal(t, []string{
		"warning normal first_response 0.75", "warning normal first_response 0.9", "breached normal first_response",
	}, rec.labels)
}

// TestSLAConfigFromTheCaller: a create that carries the policy in force
// starts its clocks with it, without reading the configuration itself.
func TestSLAConfigFromTheCaller(t *testing.T) {
	h := newSLAHarness(t)
	policy := testPolicy(models.PriorityHigh)
	policy.FirstResponseSeconds = 1234
	o := h.updateWithID(h.delay(0), UpdateCreate, CreateUpdateID, CreateRequest{
		Actor: testCustomer, Subject: "Printer is on fire", Description: "It smells of toner.",
		Priority: models.PriorityHigh, CustomerID: testCustomer.ID,
		SLA: &activities.LoadSLAConfigOutput{Policy: policy, Lifecycle: testLifecycle},
	})
	h.runUntil(LifecycleInput{TicketID: testTicketID, Number: 1}, time.Minute)
	require.True(t, o.succeeded(), "create: %v", o.err)
	require.NotNil(t, o.result.Ticket.SLA)
	assert.Equal(t, int64(1234), o.result.Ticket.SLA.FirstResponse.TargetSeconds)
	h.sla.mu.Lock()
	defer h.sla.mu.Unlock()
	assert.Empty(t, h.sla.requests, "the workflow read the configuration although the create carried it")
}
