// Package monitoring builds ticketd's observability: the JSON slog logger
// whose records carry the request's IDs from the context, the GORM logger
// adapter, the Prometheus metrics (constructed on a registry passed in,
// never global) with the Gin middleware that times every request by route,
// the open-tickets collector, and the Temporal SDK metrics handler that
// exports into the same registry. METRICS.md lists what a real scrape
// exports.
//
// It imports nothing of ticketd's: label values and the database count come
// in as plain strings and functions.
package monitoring
