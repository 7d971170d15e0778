package models

import (
	"fmt"
	"math"
	"slices"
	"time"

	"gorm.io/gorm"
)

// Clock names one of a ticket's two SLA clocks.
type Clock string

// The SLA clocks.
const (
	ClockFirstResponse Clock = "first_response"
	ClockResolution    Clock = "resolution"
)

// SLAState is what a clock is doing.
type SLAState string

// The clock states: running and paused count toward or wait on the target;
// met and breached are outcomes (a breached clock that is still running
// stays breached).
const (
	SLARunning  SLAState = "running"
	SLAPaused   SLAState = "paused"
	SLAMet      SLAState = "met"
	SLABreached SLAState = "breached"
)

// Policy is the SLA for one priority.
type Policy struct {
	Priority             Priority  `gorm:"primaryKey;autoIncrement:false" json:"priority"`
	FirstResponseSeconds int64     `json:"first_response_seconds"`
	ResolutionSeconds    int64     `json:"resolution_seconds"`
	WarnAt               []float64 `gorm:"serializer:json" json:"warn_at"`
	Escalate             bool      `json:"escalate"`
	Calendar             *Calendar `gorm:"serializer:json" json:"calendar"`
	UpdatedAt            time.Time `json:"updated_at"`
}

// TableName is sla_policies.
func (Policy) TableName() string { return "sla_policies" }

// AfterFind normalises times to UTC.
func (p *Policy) AfterFind(*gorm.DB) error { p.UpdatedAt = p.UpdatedAt.UTC(); return nil }

// Validate checks a policy's fields.
func (p *Policy) Validate() error {
	v := &ValidationError{}
	const maxTarget = 365 * 24 * 3600
	if p.FirstResponseSeconds < 1 || p.FirstResponseSeconds > maxTarget {
		v.Add("first_response_seconds", "must be from 1 to %d", maxTarget)
	}
	if p.ResolutionSeconds < 1 || p.ResolutionSeconds > maxTarget {
		v.Add("resolution_seconds", "must be from 1 to %d", maxTarget)
	}
	if len(p.WarnAt) > 5 {
		v.Add("warn_at", "at most 5 fractions")
	}
	for i, f := range p.WarnAt {
		if !(f > 0 && f < 1) {
			v.Add(fmt.Sprintf("warn_at[%d]", i), "must be between 0 and 1 (exclusive)")
		}
	}
	if cerr := p.Calendar.Validate("calendar"); cerr != nil {
		if ve, ok := cerr.(*ValidationError); ok {
			v.Fields = append(v.Fields, ve.Fields...)
		} else {
			v.Add("calendar", "%v", cerr)
		}
	}
	return v.Err()
}

// Lifecycle holds the automatic moves' delays.
type Lifecycle struct {
	ResolvedAutoCloseSeconds  int64 `json:"resolved_auto_close_seconds"`
	PendingAutoResolveSeconds int64 `json:"pending_auto_resolve_seconds"`
}

// DefaultLifecycle is what a fresh database holds: close resolved tickets
// after 96 hours, resolve pending ones after 7 days without a reply.
var DefaultLifecycle = Lifecycle{ResolvedAutoCloseSeconds: 96 * 3600, PendingAutoResolveSeconds: 7 * 24 * 3600}

// Validate checks the delays.
func (l Lifecycle) Validate() error {
	v := &ValidationError{}
	const maxDelay = 365 * 24 * 3600
	if l.ResolvedAutoCloseSeconds < 1 || l.ResolvedAutoCloseSeconds > maxDelay {
		v.Add("resolved_auto_close_seconds", "must be from 1 to %d", maxDelay)
	}
	if l.PendingAutoResolveSeconds < 1 || l.PendingAutoResolveSeconds > maxDelay {
		v.Add("pending_auto_resolve_seconds", "must be from 1 to %d", maxDelay)
	}
	return v.Err()
}

// SLA is a ticket's two clocks with the policy they run under. The ticket's
// workflow owns it and stores it with every change; the API derives live
// figures from it.
type SLA struct {
	Priority      Priority  `json:"priority"` // whose policy the targets come from
	WarnAt        []float64 `json:"warn_at"`
	Escalate      bool      `json:"escalate"`
	Calendar      *Calendar `json:"calendar"`
	FirstResponse SLAClock  `json:"first_response"`
	Resolution    SLAClock  `json:"resolution"`
}

// Clock returns the named clock.
func (s *SLA) Clock(c Clock) *SLAClock {
	if c == ClockFirstResponse {
		return &s.FirstResponse
	}
	return &s.Resolution
}

// SLAClock counts business seconds toward a target. Consumed holds the
// seconds counted before Since, when the current segment began.
type SLAClock struct {
	TargetSeconds   int64        `json:"target_seconds"`
	Running         bool         `json:"running"`
	Stopped         bool         `json:"stopped"`
	Breached        bool         `json:"breached"`
	ConsumedSeconds int64        `json:"consumed_seconds"`
	Since           time.Time    `json:"since"`
	DueAt           *time.Time   `json:"due_at"`
	Warned          []float64    `json:"warned"`
	Segments        []SLASegment `json:"segments"`
}

// SLASegment is one stretch of a clock's ledger. Reason is a code anyone may
// see; Detail is the staff's own words (a status reason) and is internal.
type SLASegment struct {
	State  SLAState   `json:"state"`
	From   time.Time  `json:"from"`
	To     *time.Time `json:"to"`
	Reason string     `json:"reason"`
	Detail string     `json:"detail,omitempty"`
}

// State is the clock's state for people.
func (c *SLAClock) State() SLAState {
	switch {
	case c.Breached:
		return SLABreached
	case c.Stopped:
		return SLAMet
	case c.Running:
		return SLARunning
	default:
		return SLAPaused
	}
}

// Consumed is the business seconds counted up to now.
func (c *SLAClock) Consumed(cal *Calendar, now time.Time) (int64, error) {
	if !c.Running {
		return c.ConsumedSeconds, nil
	}
	n, err := cal.BusinessSeconds(c.Since, now)
	return c.ConsumedSeconds + n, err
}

// Start begins a clock with its target at now.
func (c *SLAClock) Start(target int64, now time.Time, reason string) {
	*c = SLAClock{TargetSeconds: target, Warned: []float64{}}
	c.open(SLARunning, now, reason, "")
	c.Running, c.Since = true, now
}

// open closes the current segment and opens a new one.
func (c *SLAClock) open(state SLAState, now time.Time, reason, detail string) {
	if n := len(c.Segments); n > 0 && c.Segments[n-1].To == nil {
		at := now
		c.Segments[n-1].To = &at
	}
	c.Segments = append(c.Segments, SLASegment{State: state, From: now, Reason: reason, Detail: detail})
}

// Pause stops counting until Resume.
func (c *SLAClock) Pause(cal *Calendar, now time.Time, reason, detail string) error {
	if !c.Running || c.Stopped {
		return nil
	}
	n, err := c.Consumed(cal, now)
	if err != nil {
		return err
	}
	c.ConsumedSeconds, c.Running, c.Since, c.DueAt = n, false, now, nil
	c.open(SLAPaused, now, reason, detail)
	return nil
}

// Resume counts again from now, keeping what was consumed; a stopped
// clock (a resolved ticket reopened) starts again too.
func (c *SLAClock) Resume(cal *Calendar, now time.Time, reason, detail string) error {
	if c.Running {
		return nil
	}
	c.Running, c.Stopped, c.Since = true, false, now
	c.open(SLARunning, now, reason, detail)
	return c.Reschedule(cal)
}

// Stop ends the clock: met, unless it breached first.
func (c *SLAClock) Stop(cal *Calendar, now time.Time, reason, detail string) error {
	if c.Stopped {
		return nil
	}
	n, err := c.Consumed(cal, now)
	if err != nil {
		return err
	}
	c.ConsumedSeconds, c.Running, c.Stopped, c.Since = n, false, true, now
	state := SLAMet
	if c.Breached {
		state = SLABreached
	}
	// The outcome segment stays open until the clock resumes (a reopened
	// ticket), so the ledger has no holes.
	c.open(state, now, reason, detail)
	return nil
}

// Retarget changes the target, keeping the seconds already consumed.
func (c *SLAClock) Retarget(cal *Calendar, target int64, now time.Time) error {
	if c.Running {
		n, err := c.Consumed(cal, now)
		if err != nil {
			return err
		}
		c.ConsumedSeconds, c.Since = n, now
	}
	c.TargetSeconds = target
	return c.Reschedule(cal)
}

// Reschedule recomputes DueAt for a running clock that has not breached.
func (c *SLAClock) Reschedule(cal *Calendar) error {
	if !c.Running || c.Stopped || c.Breached {
		return nil
	}
	due, err := cal.AddBusiness(c.Since, max(0, c.TargetSeconds-c.ConsumedSeconds))
	if err != nil {
		return err
	}
	due = due.UTC()
	c.DueAt = &due
	return nil
}

// Threshold is a point a running clock will reach: a warning fraction, or
// the target itself (Fraction 1).
type Threshold struct {
	At       time.Time
	Fraction float64
}

// Next is the earliest threshold the clock has not yet passed, if it is
// running; ok is false when nothing more can happen.
func (c *SLAClock) Next(cal *Calendar, warnAt []float64) (Threshold, bool, error) {
	if !c.Running || c.Stopped || c.Breached {
		return Threshold{}, false, nil
	}
	fractions := slices.Clone(warnAt)
	slices.Sort(fractions)
	for _, f := range append(fractions, 1) {
		if f < 1 && slices.Contains(c.Warned, f) {
			continue
		}
		need := int64(math.Ceil(f * float64(c.TargetSeconds)))
		at, err := cal.AddBusiness(c.Since, max(0, need-c.ConsumedSeconds))
		if err != nil {
			return Threshold{}, false, err
		}
		return Threshold{At: at.UTC(), Fraction: f}, true, nil
	}
	return Threshold{}, false, nil
}

// Crossed lists the thresholds the clock has reached by now and not yet
// recorded, marking them recorded; Fraction 1 is the breach.
func (c *SLAClock) Crossed(cal *Calendar, warnAt []float64, now time.Time) ([]float64, error) {
	if !c.Running || c.Stopped || c.Breached {
		return nil, nil
	}
	n, err := c.Consumed(cal, now)
	if err != nil {
		return nil, err
	}
	fractions := slices.Clone(warnAt)
	slices.Sort(fractions)
	var out []float64
	for _, f := range fractions {
		if !slices.Contains(c.Warned, f) && n >= int64(math.Ceil(f*float64(c.TargetSeconds))) {
			c.Warned = append(c.Warned, f)
			out = append(out, f)
		}
	}
	if n >= c.TargetSeconds {
		c.Breached = true
		out = append(out, 1)
	}
	return out, nil
}

// Clone is a deep copy: the workflow changes a copy and adopts it only once
// the change is stored.
func (s *SLA) Clone() *SLA {
	if s == nil {
		return nil
	}
	c := *s
	c.WarnAt = slices.Clone(s.WarnAt)
	c.FirstResponse = s.FirstResponse.clone()
	c.Resolution = s.Resolution.clone()
	return &c
}

func (c SLAClock) clone() SLAClock {
	c.Warned = slices.Clone(c.Warned)
	c.Segments = slices.Clone(c.Segments)
	if c.DueAt != nil {
		d := *c.DueAt
		c.DueAt = &d
	}
	return c
}
