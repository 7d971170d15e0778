package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/workflows"
)

// clockSummary is what the ticket resource shows of a clock.
type clockSummary struct {
	DueAt *time.Time      `json:"due_at"`
	State models.SLAState `json:"state"`
}

type slaSummary struct {
	FirstResponse clockSummary `json:"first_response"`
	Resolution    clockSummary `json:"resolution"`
}

func summarize(s *models.SLA) *slaSummary {
	if s == nil {
		return nil // tickets from before the SLA engine have no clocks
	}
	return &slaSummary{
		FirstResponse: clockSummary{DueAt: s.FirstResponse.DueAt, State: s.FirstResponse.State()},
		Resolution:    clockSummary{DueAt: s.Resolution.DueAt, State: s.Resolution.State()},
	}
}

// clockView explains one clock: GET /tickets/{id}/sla.
type clockView struct {
	TargetSeconds    int64               `json:"target_seconds"`
	DueAt            *time.Time          `json:"due_at"`
	State            models.SLAState     `json:"state"`
	ConsumedSeconds  int64               `json:"consumed_seconds"`
	RemainingSeconds int64               `json:"remaining_seconds"`
	Segments         []models.SLASegment `json:"segments"`
}

type slaView struct {
	Priority      models.Priority  `json:"priority"`
	Calendar      *models.Calendar `json:"calendar"`
	FirstResponse clockView        `json:"first_response"`
	Resolution    clockView        `json:"resolution"`
}

func explainClock(s *models.SLA, c *models.SLAClock, now time.Time, staff bool) (clockView, error) {
	consumed, err := c.Consumed(s.Calendar, now)
	if err != nil {
		return clockView{}, err
	}
	segs := make([]models.SLASegment, len(c.Segments))
	for i, seg := range c.Segments {
		if !staff {
			seg.Detail = "" // the staff's own words are internal
		}
		segs[i] = seg
	}
	return clockView{
		TargetSeconds: c.TargetSeconds, DueAt: c.DueAt, State: c.State(),
		ConsumedSeconds: consumed, RemainingSeconds: c.TargetSeconds - consumed, Segments: segs,
	}, nil
}

func (s *Server) getTicketSLA(c *gin.Context) {
	t, err := s.visibleTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	if t.SLA == nil {
		s.fail(c, &publicError{msg: "this ticket predates the SLA engine and has no clocks", err: models.ErrNotFound})
		return
	}
	staff := caller(c).Role.IsStaff()
	now := time.Now().UTC()
	fr, err := explainClock(t.SLA, &t.SLA.FirstResponse, now, staff)
	if err != nil {
		s.fail(c, err)
		return
	}
	res, err := explainClock(t.SLA, &t.SLA.Resolution, now, staff)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, slaView{Priority: t.SLA.Priority, Calendar: t.SLA.Calendar, FirstResponse: fr, Resolution: res})
}

func (s *Server) listPolicies(c *gin.Context) {
	if !caller(c).Role.IsStaff() {
		s.fail(c, forbidden("only agents and admins read SLA policies"))
		return
	}
	ps, err := s.store.ListPolicies(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, listOf[models.Policy]{Items: ps})
}

type policyBody struct {
	FirstResponseSeconds *int64                    `json:"first_response_seconds"`
	ResolutionSeconds    *int64                    `json:"resolution_seconds"`
	WarnAt               *[]float64                `json:"warn_at"`
	Escalate             *bool                     `json:"escalate"`
	Calendar             Optional[models.Calendar] `json:"calendar"`
}

func (s *Server) putPolicy(c *gin.Context) {
	if caller(c).Role != models.RoleAdmin {
		s.fail(c, forbidden("only admins change SLA policies"))
		return
	}
	p := models.Priority(c.Param("priority"))
	if !p.Valid() {
		s.fail(c, models.ErrNotFound)
		return
	}
	var b policyBody
	if err := decode(c, &b); err != nil {
		s.fail(c, err)
		return
	}
	v := &models.ValidationError{}
	if b.FirstResponseSeconds == nil {
		v.Add("first_response_seconds", "is required")
	}
	if b.ResolutionSeconds == nil {
		v.Add("resolution_seconds", "is required")
	}
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	pol := models.Policy{Priority: p, FirstResponseSeconds: *b.FirstResponseSeconds, ResolutionSeconds: *b.ResolutionSeconds,
		WarnAt: []float64{0.75, 0.9}, Calendar: b.Calendar.Ptr(), UpdatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if b.WarnAt != nil {
		pol.WarnAt = *b.WarnAt
	}
	if cal := pol.Calendar; cal != nil && cal.Holidays == nil {
		cal.Holidays = []string{} // lists are never null in responses
	}
	if b.Escalate != nil {
		pol.Escalate = *b.Escalate
	}
	if err := pol.Validate(); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.PutPolicy(c.Request.Context(), &pol); err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, pol)
}

func (s *Server) getLifecycle(c *gin.Context) {
	if caller(c).Role != models.RoleAdmin {
		s.fail(c, forbidden("only admins read the lifecycle settings"))
		return
	}
	l, err := s.store.GetLifecycle(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, l)
}

type lifecycleBody struct {
	ResolvedAutoCloseSeconds  *int64 `json:"resolved_auto_close_seconds"`
	PendingAutoResolveSeconds *int64 `json:"pending_auto_resolve_seconds"`
}

func (s *Server) putLifecycle(c *gin.Context) {
	if caller(c).Role != models.RoleAdmin {
		s.fail(c, forbidden("only admins change the lifecycle settings"))
		return
	}
	var b lifecycleBody
	if err := decode(c, &b); err != nil {
		s.fail(c, err)
		return
	}
	l, err := s.store.GetLifecycle(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	if b.ResolvedAutoCloseSeconds != nil {
		l.ResolvedAutoCloseSeconds = *b.ResolvedAutoCloseSeconds
	}
	if b.PendingAutoResolveSeconds != nil {
		l.PendingAutoResolveSeconds = *b.PendingAutoResolveSeconds
	}
	if b.ResolvedAutoCloseSeconds == nil && b.PendingAutoResolveSeconds == nil {
		err = models.Invalid("", "name at least one of resolved_auto_close_seconds, pending_auto_resolve_seconds")
	} else {
		err = l.Validate()
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.PutLifecycle(c.Request.Context(), l); err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, l)
}

type followUpBody struct {
	Subject     *string          `json:"subject"`
	Description *string          `json:"description"`
	Priority    *models.Priority `json:"priority"`
}

// followUp continues a closed ticket as a new one linked to it.
func (s *Server) followUp(c *gin.Context) {
	old, err := s.visibleTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var b followUpBody
	if err := decode(c, &b); err != nil {
		s.fail(c, err)
		return
	}
	if old.Status != models.StatusClosed {
		s.fail(c, conflict("only a closed ticket takes a follow-up; reply to this one instead"))
		return
	}
	u := caller(c)
	v := &models.ValidationError{}
	subject := "Follow-up: " + old.Subject
	if b.Subject != nil {
		subject = checkText(v, "subject", b.Subject, 200, true)
	} else if r := []rune(subject); len(r) > 200 {
		subject = string(r[:200])
	}
	req := workflows.CreateRequest{
		Actor: actor(u), Subject: subject, Priority: old.Priority, CategoryID: old.CategoryID,
		CustomerID: old.CustomerID, FollowUpOf: &old.ID,
	}
	req.Description = checkText(v, "description", b.Description, 10000, true)
	if b.Priority != nil {
		if !b.Priority.Valid() {
			v.Add("priority", "must be one of low, normal, high, urgent")
		}
		req.Priority = *b.Priority
	}
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	s.create(c, req, "")
}

// closedForReplies explains where a conversation continues after close.
func closedForReplies(ticketID string) error {
	return &publicError{
		msg: fmt.Sprintf("the ticket is closed; continue with POST /api/v1/tickets/%s/follow-up", ticketID),
		err: models.ErrTicketClosed,
	}
}
