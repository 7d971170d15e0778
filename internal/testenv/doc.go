// Package testenv builds the real parts ticketd's tests run against: a fresh
// PostgreSQL database per suite (TEST_DATABASE_URL, or the local server on
// 127.0.0.1:5432), an in-process Temporal server (temporaltest) with the
// ticket search attributes registered, and the whole stack — worker, API and
// an HTTP client that validates every response against api/openapi.yaml.
//
// Only tests import it.
package testenv
