package models

import "time"

// SLAWarning is a ticket-level SLA state: a clock that has not stopped or
// breached has fired a warning. Clocks themselves are never in it.
const SLAWarning SLAState = "warning"

// TicketSLAStates are the states a ticket may be filtered by, most urgent
// last.
var TicketSLAStates = []SLAState{SLAMet, SLAPaused, SLARunning, SLAWarning, SLABreached}

// Valid reports whether s is a ticket-level SLA state.
func (s SLAState) Valid() bool {
	for _, v := range TicketSLAStates {
		if v == s {
			return true
		}
	}
	return false
}

func slaUrgency(s SLAState) int {
	for i, v := range TicketSLAStates {
		if v == s {
			return i
		}
	}
	return -1
}

// Index derives the ticket-level SLA state (the most urgent of its clocks:
// breached, warning, running, paused, met) and the soonest due time of a
// running clock, which the store keeps in indexed columns. Both are nil for
// a ticket without SLA clocks; the due time is nil when no clock runs.
func (s *SLA) Index() (*string, *time.Time) {
	if s == nil {
		return nil, nil
	}
	var (
		state SLAState
		due   *time.Time
	)
	for _, c := range []*SLAClock{&s.FirstResponse, &s.Resolution} {
		cs := c.State()
		if cs != SLABreached && cs != SLAMet && len(c.Warned) > 0 {
			cs = SLAWarning
		}
		if state == "" || slaUrgency(cs) > slaUrgency(state) {
			state = cs
		}
		if c.Running && !c.Stopped && c.DueAt != nil && (due == nil || c.DueAt.Before(*due)) {
			d := c.DueAt.UTC()
			due = &d
		}
	}
	str := string(state)
	return &str, due
}
