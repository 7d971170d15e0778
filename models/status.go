package models

import "slices"

// Status is where a ticket is in its lifecycle.
type Status string

// The seven statuses of the contract.
const (
	StatusNew        Status = "new"
	StatusOpen       Status = "open"
	StatusInProgress Status = "in_progress"
	StatusPending    Status = "pending"
	StatusOnHold     Status = "on_hold"
	StatusResolved   Status = "resolved"
	StatusClosed     Status = "closed"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusNew, StatusOpen, StatusInProgress, StatusPending, StatusOnHold, StatusResolved, StatusClosed}

// transitions is the graph of the contract. Slices keep a stable order, so
// allowed_transitions and error messages are deterministic.
var transitions = map[Status][]Status{
	StatusNew:        {StatusOpen, StatusInProgress, StatusPending, StatusOnHold, StatusResolved, StatusClosed},
	StatusOpen:       {StatusInProgress, StatusPending, StatusOnHold, StatusResolved, StatusClosed},
	StatusInProgress: {StatusOpen, StatusPending, StatusOnHold, StatusResolved, StatusClosed},
	StatusPending:    {StatusOpen, StatusInProgress, StatusOnHold, StatusResolved, StatusClosed},
	StatusOnHold:     {StatusOpen, StatusInProgress, StatusPending, StatusResolved, StatusClosed},
	StatusResolved:   {StatusOpen, StatusClosed},
	StatusClosed:     nil,
}

// Valid reports whether s is one of the seven statuses.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Transitions returns the statuses the graph allows from s, whoever asks.
func Transitions(from Status) []Status { return slices.Clone(transitions[from]) }

// CanTransition reports whether the graph allows from → to.
func CanTransition(from, to Status) bool { return slices.Contains(transitions[from], to) }

// TransitionsFor returns the statuses role may move a ticket to from s.
// Customers may only resolve their ticket or reopen a resolved one; the
// caller checks that the customer owns the ticket.
func TransitionsFor(role Role, from Status) []Status {
	all := Transitions(from)
	if role != RoleCustomer {
		return all
	}
	return slices.DeleteFunc(all, func(to Status) bool { return !customerMay(from, to) })
}

func customerMay(from, to Status) bool {
	return to == StatusResolved || (from == StatusResolved && to == StatusOpen)
}

// ReopensOnCustomerReply reports whether a customer's public reply moves a
// ticket in status s back to open.
func ReopensOnCustomerReply(s Status) bool {
	return s == StatusPending || s == StatusOnHold || s == StatusResolved
}

// Priority is how urgent a ticket is. It is stored as its rank (1–4) so that
// sorting by priority is an index scan.
type Priority string

// The four priorities, lowest first.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Priorities lists every priority, lowest first.
var Priorities = []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}

// Valid reports whether p is one of the four priorities.
func (p Priority) Valid() bool { return slices.Contains(Priorities, p) }

// Rank is 1 for low up to 4 for urgent; 0 for an unknown priority.
func (p Priority) Rank() int { return slices.Index(Priorities, p) + 1 }

// PriorityOfRank is the inverse of Rank.
func PriorityOfRank(rank int) Priority {
	if rank < 1 || rank > len(Priorities) {
		return ""
	}
	return Priorities[rank-1]
}

// Role is what a user may do.
type Role string

// The three roles.
const (
	RoleCustomer Role = "customer"
	RoleAgent    Role = "agent"
	RoleAdmin    Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleCustomer, RoleAgent, RoleAdmin}

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// IsStaff reports whether r is an agent or an admin.
func (r Role) IsStaff() bool { return r == RoleAgent || r == RoleAdmin }
