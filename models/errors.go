package models

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors shared by every layer. The API maps them to HTTP statuses
// in one place; the activities turn them into non-retryable Temporal errors
// with the same names as types.
var (
	ErrNotFound          = errors.New("not found")
	ErrForbidden         = errors.New("forbidden")
	ErrConflict          = errors.New("conflict")
	ErrTicketClosed      = errors.New("ticket is closed")
	ErrInvalidTransition = errors.New("invalid transition")
	ErrPrecondition      = errors.New("precondition failed")
	ErrUnavailable       = errors.New("dependency unavailable")
	ErrBusy              = errors.New("too busy") // a dependency refused more work for now
)

// FieldError is one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every invalid field of a request (HTTP 422).
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

// Add records an invalid field.
func (e *ValidationError) Add(field, format string, args ...any) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns e when it holds a field, nil otherwise.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Invalid is a one-field ValidationError.
func Invalid(field, format string, args ...any) error {
	v := &ValidationError{}
	v.Add(field, format, args...)
	return v
}

// TransitionError is a status change the graph or the caller's role refuses.
type TransitionError struct {
	From, To Status
	Allowed  []Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("cannot move a ticket from %s to %s", e.From, e.To)
}

// Unwrap makes errors.Is(err, ErrInvalidTransition) hold.
func (e *TransitionError) Unwrap() error { return ErrInvalidTransition }
