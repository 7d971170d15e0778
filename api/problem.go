package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketd/ticketd/models"
)

// problem is an RFC 9457 problem details body.
type problem struct {
	Type               string              `json:"type"`
	Title              string              `json:"title"`
	Status             int                 `json:"status"`
	Detail             string              `json:"detail"`
	Errors             []models.FieldError `json:"errors,omitempty"`
	AllowedTransitions []models.Status     `json:"allowed_transitions,omitempty"`
}

const problemType = "urn:ticketd:problem:"

// badRequest is a request that is not valid JSON, or not of the right shape.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badRequestf(format string, args ...any) error {
	return &badRequest{msg: fmt.Sprintf(format, args...)}
}

// rateLimited carries how long to wait.
type rateLimited struct{ retryAfter int }

func (e *rateLimited) Error() string { return "rate limit exceeded" }

// fail writes err as problem+json. It is the one place errors become HTTP:
// handlers return or pass errors here and never pick statuses themselves.
func (s *Server) fail(c *gin.Context, err error) {
	var (
		p     problem
		valid *models.ValidationError
		trans *models.TransitionError
		bad   *badRequest
		rate  *rateLimited
	)
	switch {
	case errors.As(err, &bad):
		p = problem{Type: "invalid-request", Title: "Invalid request", Status: http.StatusBadRequest, Detail: bad.msg}
	case errors.Is(err, errLoginFailed):
		p = problem{Type: "unauthorized", Title: "Unauthorized", Status: http.StatusUnauthorized,
			Detail: "the email or password is incorrect"}
	case errors.Is(err, errUnauthenticated):
		c.Header("WWW-Authenticate", `Bearer realm="ticketd"`)
		p = problem{Type: "unauthorized", Title: "Unauthorized", Status: http.StatusUnauthorized,
			Detail: "a valid bearer token for an active user is required"}
	case errors.Is(err, models.ErrForbidden):
		p = problem{Type: "forbidden", Title: "Forbidden", Status: http.StatusForbidden, Detail: detail(err)}
	case errors.Is(err, models.ErrNotFound):
		p = problem{Type: "not-found", Title: "Not found", Status: http.StatusNotFound, Detail: "no such resource"}
	case errors.As(err, &trans):
		p = problem{Type: "invalid-transition", Title: "Invalid status transition", Status: http.StatusConflict,
			Detail: trans.Error(), AllowedTransitions: trans.Allowed}
		if p.AllowedTransitions == nil {
			p.AllowedTransitions = []models.Status{}
		}
	case errors.Is(err, models.ErrTicketClosed):
		p = problem{Type: "ticket-closed", Title: "Ticket is closed", Status: http.StatusConflict,
			Detail: "a closed ticket cannot change"}
		if d := detail(err); d != "" {
			p.Detail = d
		}
	case errors.Is(err, models.ErrConflict):
		p = problem{Type: "conflict", Title: "Conflict", Status: http.StatusConflict, Detail: detail(err)}
	case errors.Is(err, models.ErrPrecondition):
		p = problem{Type: "precondition-failed", Title: "Precondition failed", Status: http.StatusPreconditionFailed,
			Detail: "If-Match does not match the ticket's current ETag"}
	case errors.As(err, &valid):
		p = problem{Type: "validation", Title: "Validation failed", Status: http.StatusUnprocessableEntity,
			Detail: "one or more fields are invalid", Errors: valid.Fields}
	case errors.Is(err, models.ErrBusy):
		c.Header("Retry-After", "1")
		p = problem{Type: "rate-limited", Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail: "too many changes to this ticket are in flight; retry after the number of seconds in Retry-After"}
	case errors.As(err, &rate):
		c.Header("Retry-After", fmt.Sprint(rate.retryAfter))
		p = problem{Type: "rate-limited", Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail: "slow down and retry after the number of seconds in Retry-After"}
	case models.IsUnavailable(err) || errors.Is(err, context.DeadlineExceeded):
		s.log.WarnContext(c.Request.Context(), "dependency unavailable", "path", c.FullPath(), "err", err)
		p = problem{Type: "unavailable", Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Detail: "the database or the workflow engine is unreachable; nothing was changed, retry later"}
	default:
		s.log.ErrorContext(c.Request.Context(), "request failed", "path", c.FullPath(), "err", err)
		p = problem{Type: "internal", Title: "Internal server error", Status: http.StatusInternalServerError,
			Detail: "an unexpected error occurred"}
	}
	p.Type = problemType + p.Type
	writeProblem(c, p)
}

func writeProblem(c *gin.Context, p problem) {
	c.Header("Content-Type", "application/problem+json")
	c.Status(p.Status)
	c.Writer.WriteHeaderNow()
	if err := jsonEncode(c.Writer, p); err != nil {
		slog.Default().Debug("write problem", "err", err)
	}
}

// detail keeps messages of our own making and hides anything else.
func detail(err error) string {
	var pub interface{ Public() string }
	if errors.As(err, &pub) {
		return pub.Public()
	}
	switch {
	case errors.Is(err, models.ErrForbidden):
		return "your role may not do this"
	case errors.Is(err, models.ErrConflict):
		return "the request conflicts with the current state"
	}
	return ""
}

// publicError is an error whose message is safe to show clients.
type publicError struct {
	msg string
	err error
}

func (e *publicError) Error() string  { return e.msg }
func (e *publicError) Unwrap() error  { return e.err }
func (e *publicError) Public() string { return e.msg }

func forbidden(msg string) error { return &publicError{msg: msg, err: models.ErrForbidden} }
func conflict(msg string) error  { return &publicError{msg: msg, err: models.ErrConflict} }
