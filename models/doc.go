// Package models holds ticketd's domain: the types (tickets, replies, events,
// time entries, users, categories), the status graph as pure functions, the
// sentinel errors every layer speaks, and Store, the GORM data access used by
// the activities (writes) and the API (reads).
//
// It imports no other ticketd package.
package models
