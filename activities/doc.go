// Package activities holds the Temporal activities of ticket workflows: the
// only code that writes ticket rows. Each activity is a method of a struct
// that holds its dependencies; each is idempotent, because Temporal retries
// it; and each translates errors once: domain errors become non-retryable
// ApplicationErrors with stable types, a lost database connection stays
// retryable.
//
// It may import models.
package activities
