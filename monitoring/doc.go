// Package monitoring builds ticketd's observability: the slog logger, the
// Prometheus metrics (constructed on a registry passed in, never global) and
// the Gin middleware that times every request by route.
//
// It imports nothing of ticketd's.
package monitoring
