package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/ticketd/ticketd/activities"
	"github.com/ticketd/ticketd/models"
)

// slaChangeID gates the SLA engine: workflows whose histories were recorded
// before it (no marker) replay without clocks.
const slaChangeID = "sla-engine"

// loadConfig reads the policy of priority and the lifecycle delays through
// an activity, so what applied is recorded in the history.
func (w *lifecycle) loadConfig(ctx workflow.Context, p models.Priority) (activities.LoadSLAConfigOutput, error) {
	var out activities.LoadSLAConfigOutput
	if err := w.execute(ctx, ActivityLoadSLAConfig, activities.LoadSLAConfigInput{Priority: p}).Get(ctx, &out); err != nil {
		return out, persistError(err)
	}
	w.lifecycle = out.Lifecycle
	return out, nil
}

// configFromCallerChangeID gates taking the SLA configuration from the
// create request: histories from before it read it with an activity.
const configFromCallerChangeID = "sla-config-from-caller"

// createConfig is the SLA configuration a new ticket starts under: the one
// the API read with the request (one activity and two workflow tasks fewer
// per create), else read here.
func (w *lifecycle) createConfig(ctx workflow.Context, r CreateRequest) (activities.LoadSLAConfigOutput, error) {
	v := workflow.Version(1) // runs on the write path at the engine's floor came later
	if !w.local {
		v = workflow.GetVersion(ctx, configFromCallerChangeID, workflow.DefaultVersion, 1)
	}
	if v == 1 && r.SLA != nil && r.SLA.Policy.Priority == r.Priority {
		w.lifecycle = r.SLA.Lifecycle
		return *r.SLA, nil
	}
	return w.loadConfig(ctx, r.Priority)
}

// startSLA starts both clocks of a new ticket under policy.
func startSLA(policy models.Policy, now time.Time) (*models.SLA, error) {
	s := &models.SLA{Priority: policy.Priority, WarnAt: slices.Clone(policy.WarnAt), Escalate: policy.Escalate, Calendar: policy.Calendar}
	s.FirstResponse.Start(policy.FirstResponseSeconds, now, "created")
	s.Resolution.Start(policy.ResolutionSeconds, now, "created")
	if err := s.FirstResponse.Reschedule(s.Calendar); err != nil {
		return nil, err
	}
	return s, s.Resolution.Reschedule(s.Calendar)
}

// applyPolicy re-targets the clocks to another policy (after a priority
// change), keeping the seconds already consumed under the old calendar.
func applyPolicy(s *models.SLA, policy models.Policy, now time.Time) error {
	for _, c := range []*models.SLAClock{&s.FirstResponse, &s.Resolution} {
		if c.Running {
			n, err := c.Consumed(s.Calendar, now)
			if err != nil {
				return err
			}
			c.ConsumedSeconds, c.Since = n, now
		}
	}
	s.Priority, s.WarnAt, s.Escalate, s.Calendar = policy.Priority, slices.Clone(policy.WarnAt), policy.Escalate, policy.Calendar
	s.FirstResponse.TargetSeconds = policy.FirstResponseSeconds
	s.Resolution.TargetSeconds = policy.ResolutionSeconds
	if err := s.FirstResponse.Reschedule(s.Calendar); err != nil {
		return err
	}
	return s.Resolution.Reschedule(s.Calendar)
}

// slaOnStatus moves the clocks with a status change: the resolution clock
// pauses while the ticket waits (pending, on hold), stops when it is
// resolved or closed and resumes when it comes back; the first-response
// clock stops when the ticket is resolved or closed without a reply.
func slaOnStatus(s *models.SLA, from, to models.Status, now time.Time, detail string) error {
	if s == nil {
		return nil
	}
	reason := "status:" + string(to)
	res, fr := &s.Resolution, &s.FirstResponse
	switch to {
	case models.StatusPending, models.StatusOnHold:
		if res.Stopped {
			if err := res.Resume(s.Calendar, now, reason, detail); err != nil {
				return err
			}
		}
		return res.Pause(s.Calendar, now, reason, detail)
	case models.StatusResolved, models.StatusClosed:
		if err := fr.Stop(s.Calendar, now, reason, ""); err != nil {
			return err
		}
		return res.Stop(s.Calendar, now, reason, detail)
	default:
		if from == models.StatusResolved {
			reason = "reopened"
		}
		return res.Resume(s.Calendar, now, reason, detail)
	}
}

// nextWake is when the main loop must act next: an SLA threshold or an
// automatic move. ok is false when nothing is scheduled.
func (w *lifecycle) nextWake() (time.Time, bool, error) {
	var (
		next time.Time
		ok   bool
	)
	consider := func(t time.Time) {
		if !ok || t.Before(next) {
			next, ok = t, true
		}
	}
	if s := w.state.SLA; s != nil {
		for _, c := range []*models.SLAClock{&s.FirstResponse, &s.Resolution} {
			th, has, err := c.Next(s.Calendar, s.WarnAt)
			if err != nil {
				return next, false, err
			}
			if has {
				consider(th.At)
			}
		}
	}
	if at, has := w.autoMoveAt(); has {
		consider(at)
	}
	return next, ok, nil
}

// autoMoveAt is when a resolved ticket closes, or a pending one resolves,
// by itself.
func (w *lifecycle) autoMoveAt() (time.Time, bool) {
	if !w.slaOn || w.lifecycle.ResolvedAutoCloseSeconds == 0 {
		return time.Time{}, false
	}
	switch w.state.Status {
	case models.StatusResolved:
		return w.statusSince.Add(time.Duration(w.lifecycle.ResolvedAutoCloseSeconds) * time.Second), true
	case models.StatusPending:
		return w.statusSince.Add(time.Duration(w.lifecycle.PendingAutoResolveSeconds) * time.Second), true
	}
	return time.Time{}, false
}

// tick records what has come due by now: warnings and breaches (each once),
// escalation, and automatic moves. It runs under the mutex, like a handler.
func (w *lifecycle) tick(ctx workflow.Context) error {
	if err := w.mu.Lock(ctx); err != nil {
		return err
	}
	defer w.mu.Unlock()
	if w.done || w.deleted {
		return nil
	}
	system := Actor{ID: models.SystemActorID, Role: models.RoleAdmin}
	// A candidate next version, with its own copy of the clocks; it is
	// stored only if something came due.
	t := w.next(ctx, w.state, system)
	now := t.UpdatedAt
	before := w.events // restored if nothing is stored: no gaps in the timeline
	adopted := false   // the stored ticket was ahead: its counter stands
	defer func() {
		if !adopted && w.state.Version != t.Version {
			w.events = before
		}
	}()
	var events []models.Event
	breached := false
	if s := t.SLA; s != nil {
		for _, clock := range []models.Clock{models.ClockFirstResponse, models.ClockResolution} {
			c := s.Clock(clock)
			due := c.DueAt
			crossed, err := c.Crossed(s.Calendar, s.WarnAt, now)
			if err != nil {
				return err
			}
			for _, f := range crossed {
				data := models.EventData{"clock": string(clock), "fraction": f, "priority": string(s.Priority), "target_seconds": c.TargetSeconds}
				if due != nil {
					data["due_at"] = due.Format(time.RFC3339Nano)
				}
				typ := models.EventSLAWarning
				if f == 1 {
					typ, breached = models.EventSLABreached, true
					c.DueAt = due
				}
				events = append(events, w.event(t, system, typ, false, data))
			}
		}
		if breached && s.Escalate && s.Priority.Rank() < models.PriorityUrgent.Rank() && t.Priority == s.Priority {
			to := models.PriorityOfRank(t.Priority.Rank() + 1)
			cfg, err := w.loadConfig(ctx, to)
			if err != nil {
				return err
			}
			events = append(events, w.event(t, system, models.EventEscalated, false, models.EventData{"from": string(t.Priority), "to": string(to)}))
			t.Priority = to
			if err := applyPolicy(s, cfg.Policy, now); err != nil {
				return err
			}
		}
	}
	if at, has := w.autoMoveAt(); has && !now.Before(at) {
		from := t.Status
		to, typ := models.StatusClosed, models.EventAutoClosed
		if from == models.StatusPending {
			to, typ = models.StatusResolved, models.EventAutoResolved
		}
		ev, err := w.moveTo(&t, system, to, "", true)
		if err != nil {
			return err
		}
		ev.Type = typ
		events = append(events, ev)
	}
	if len(events) == 0 {
		return nil
	}
	if _, err := w.apply(ctx, models.Change{Ticket: t, Events: events}); errors.Is(err, errBehind) {
		// The workflow adopted the stored ticket; the next turn of the
		// wait loop looks again at what is due.
		adopted = true
		return nil
	} else if err != nil {
		return fmt.Errorf("record sla events: %w", err)
	}
	if t.Status == models.StatusClosed {
		w.done = true
	}
	return nil
}

// slaHeadline is what Temporal UI shows of the SLA: breached if any clock
// breached, else the state and due time of the clock that matters now.
func slaHeadline(s *models.SLA) (models.SLAState, *time.Time) {
	if s == nil {
		return "", nil
	}
	fr, res := &s.FirstResponse, &s.Resolution
	var due *time.Time
	for _, c := range []*models.SLAClock{fr, res} {
		if c.Running && !c.Breached && c.DueAt != nil && (due == nil || c.DueAt.Before(*due)) {
			due = c.DueAt
		}
	}
	switch {
	case fr.Breached || res.Breached:
		return models.SLABreached, due
	case fr.Running:
		return fr.State(), due
	default:
		return res.State(), due
	}
}
