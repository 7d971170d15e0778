// Package api is ticketd's REST API: the Gin router (every route in Routes),
// authentication, permission checks, problem+json errors, and the hand-written
// OpenAPI spec it serves. Reads go straight to the database; every ticket
// change is checked here against the read model and then sent to the ticket's
// workflow as a Workflow Update.
//
// It may import workflows, models and monitoring.
package api
