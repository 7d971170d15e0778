// Package migrations is ticketd's schema history, applied with gormigrate.
//
// Each migration declares frozen copies of the structs it creates, so later
// changes to the models never change what an old migration does, and each has
// a Rollback. The same list runs on PostgreSQL and SQLite; the few
// dialect-specific statements switch on the dialect's name.
//
// It imports nothing of ticketd's.
package migrations
