package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/ticketd/ticketd/activities"
	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/workflows"
)

// idempotencyNamespace derives a ticket's ID from its creator and their
// Idempotency-Key, so every retry of a create names the same workflow.
var idempotencyNamespace = uuid.MustParse("5b0c1a3e-7f0d-4c53-9a55-3d2f8e1b6c47")

// ticketView is a ticket as one caller sees it. Its sla field (a summary)
// shadows the ticket's full ledger, which GET /tickets/{id}/sla explains.
type ticketView struct {
	models.Ticket
	SLA                *slaSummary     `json:"sla"`
	AllowedTransitions []models.Status `json:"allowed_transitions"`
}

func view(u models.User, t models.Ticket) ticketView {
	allowed := models.TransitionsFor(u.Role, t.Status)
	if allowed == nil {
		allowed = []models.Status{}
	}
	return ticketView{Ticket: t, SLA: summarize(t.SLA), AllowedTransitions: allowed}
}

func actor(u models.User) workflows.Actor { return workflows.Actor{ID: u.ID, Role: u.Role} }

// visibleTicket loads the ticket of the :id path parameter if the caller may
// see it; anything else is the same 404, so nobody learns that another
// customer's ticket exists.
func (s *Server) visibleTicket(c *gin.Context) (models.Ticket, error) {
	id := c.Param("id")
	if !isUUID(id) {
		return models.Ticket{}, models.ErrNotFound
	}
	t, err := s.store.GetTicket(c.Request.Context(), strings.ToLower(id))
	if err != nil {
		return models.Ticket{}, err
	}
	logTicket(c, t.ID)
	u := caller(c)
	if u.Role == models.RoleCustomer && t.CustomerID != u.ID {
		return models.Ticket{}, models.ErrNotFound
	}
	return t, nil
}

// changeableTicket is visibleTicket for a change: closed tickets are final.
func (s *Server) changeableTicket(c *gin.Context) (models.Ticket, error) {
	t, err := s.visibleTicket(c)
	if err == nil && t.Status == models.StatusClosed {
		err = models.ErrTicketClosed
	}
	return t, err
}

func (s *Server) sendTicket(c *gin.Context, status int, t models.Ticket) {
	c.Header("ETag", quoteETag(t.Version))
	writeJSON(c, status, view(caller(c), t))
}

// ---- create

type createTicketBody struct {
	Subject     *string          `json:"subject"`
	Description *string          `json:"description"`
	Priority    *models.Priority `json:"priority"`
	CategoryID  Optional[string] `json:"category_id"`
	CustomerID  *string          `json:"customer_id"`
}

func (s *Server) createTicket(c *gin.Context) {
	ctx := c.Request.Context()
	u := caller(c)
	key := c.GetHeader("Idempotency-Key")
	if c.Request.Header.Values("Idempotency-Key") != nil && !validIdempotencyKey(key) {
		s.fail(c, badRequestf("Idempotency-Key must be 1-255 printable ASCII characters"))
		return
	}
	var body createTicketBody
	if err := decode(c, &body); err != nil {
		s.fail(c, err)
		return
	}
	req, err := s.checkCreate(c, u, body)
	if err != nil {
		s.fail(c, err)
		return
	}
	ticketID := ""
	if key != "" {
		req.IdempotencyKey, req.RequestHash = key, hashCreate(req)
		prev, err := s.store.GetIdempotencyKey(ctx, u.ID, key)
		switch {
		case err == nil && prev.RequestHash != req.RequestHash:
			s.fail(c, models.Invalid("Idempotency-Key", "was already used with a different request"))
			return
		case err == nil:
			s.replayCreate(c, prev.TicketID)
			return
		case !errors.Is(err, models.ErrNotFound):
			s.fail(c, err)
			return
		}
		ticketID = uuid.NewSHA1(idempotencyNamespace, []byte(u.ID+"\x00"+key)).String()
	}
	s.create(c, req, ticketID)
}

// create files a ticket through its workflow; ticketID is derived from an
// Idempotency-Key, or empty for a fresh one.
func (s *Server) create(c *gin.Context, req workflows.CreateRequest, ticketID string) {
	keyed := ticketID != ""
	if !keyed {
		ticketID = uuid.Must(uuid.NewV7()).String()
	}
	logTicket(c, ticketID)
	ctx := c.Request.Context()
	cfg, err := s.slaConfig(ctx, req.Priority)
	if err != nil {
		s.fail(c, err)
		return
	}
	req.SLA = cfg
	number, err := s.store.NextTicketNumber(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	uctx, cancel := s.updateContext(c)
	defer cancel()
	req.Deadline = s.deadline()
	res, err := s.tickets.Create(uctx, workflows.CreateInput{TicketID: ticketID, Number: number, Request: req})
	if errors.Is(err, models.ErrConflict) && keyed {
		// The keyed workflow already ran to completion: replay its ticket.
		s.replayCreate(c, ticketID)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if keyed && hashCreate(requestOf(res.Ticket)) != hashCreate(req) {
		// A concurrent request with the same key and another body won.
		s.fail(c, models.Invalid("Idempotency-Key", "was already used with a different request"))
		return
	}
	if res.Ticket.Number != number && keyed {
		c.Header("Idempotent-Replayed", "true") // a concurrent retry won the race
	} else {
		s.metrics.TicketChanged("create")
	}
	c.Header("Location", "/api/v1/tickets/"+res.Ticket.ID)
	s.sendTicket(c, http.StatusCreated, res.Ticket)
}

func (s *Server) replayCreate(c *gin.Context, ticketID string) {
	t, err := s.store.GetTicket(c.Request.Context(), ticketID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Idempotent-Replayed", "true")
	c.Header("Location", "/api/v1/tickets/"+t.ID)
	s.sendTicket(c, http.StatusCreated, t)
}

func validIdempotencyKey(k string) bool {
	if k == "" || len(k) > 255 {
		return false
	}
	for _, r := range k {
		if r < 0x20 || r > 0x7e {
			return false
		}
	}
	return true
}

// requestOf is the part of a create request a stored ticket shows.
func requestOf(t models.Ticket) workflows.CreateRequest {
	return workflows.CreateRequest{Subject: t.Subject, Description: t.Description, Priority: t.Priority,
		CategoryID: t.CategoryID, CustomerID: t.CustomerID}
}

// withDeadline stamps an update request with the time its caller stops
// waiting, so the workflow never starts a write it could finish too late.
func withDeadline(req any, d time.Time) any {
	switch r := req.(type) {
	case workflows.EditRequest:
		r.Deadline = d
		return r
	case workflows.StatusRequest:
		r.Deadline = d
		return r
	case workflows.AssignRequest:
		r.Deadline = d
		return r
	case workflows.ReplyRequest:
		r.Deadline = d
		return r
	case workflows.TimeRequest:
		r.Deadline = d
		return r
	case workflows.DeleteRequest:
		r.Deadline = d
		return r
	}
	return req
}

// hashCreate fingerprints what a create asks for, to spot a key reused with
// another request.
func hashCreate(r workflows.CreateRequest) string {
	b, _ := json.Marshal([]any{r.Subject, r.Description, r.Priority, r.CategoryID, r.CustomerID})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// checkCreate validates a create and applies the role rules.
func (s *Server) checkCreate(c *gin.Context, u models.User, b createTicketBody) (workflows.CreateRequest, error) {
	ctx := c.Request.Context()
	v := &models.ValidationError{}
	req := workflows.CreateRequest{Actor: actor(u), Priority: models.PriorityNormal}
	req.Subject = checkText(v, "subject", b.Subject, 200, true)
	req.Description = checkText(v, "description", b.Description, 10000, true)
	if b.Priority != nil {
		if !b.Priority.Valid() {
			v.Add("priority", "must be one of low, normal, high, urgent")
		}
		req.Priority = *b.Priority
	}
	if id := b.CategoryID.Ptr(); id != nil {
		cat, err := s.checkCategory(c, v, *id)
		if err != nil {
			return req, err
		}
		req.CategoryID = cat
	}
	switch {
	case u.Role == models.RoleCustomer:
		if b.CustomerID != nil && !strings.EqualFold(*b.CustomerID, u.ID) {
			return req, forbidden("customers can only file tickets for themselves")
		}
		req.CustomerID = u.ID
	case b.CustomerID == nil:
		v.Add("customer_id", "is required when an agent or admin files a ticket")
	case !isUUID(*b.CustomerID):
		v.Add("customer_id", "must be a UUID")
	default:
		cust, err := s.store.GetUser(ctx, strings.ToLower(*b.CustomerID))
		switch {
		case errors.Is(err, models.ErrNotFound):
			v.Add("customer_id", "no such customer")
		case err != nil:
			return req, err
		case cust.Role != models.RoleCustomer:
			v.Add("customer_id", "is not a customer")
		case !cust.Active:
			v.Add("customer_id", "is not active")
		default:
			req.CustomerID = cust.ID
		}
	}
	return req, v.Err()
}

func (s *Server) checkCategory(c *gin.Context, v *models.ValidationError, id string) (*string, error) {
	if !isUUID(id) {
		v.Add("category_id", "must be a UUID")
		return nil, nil
	}
	cat, err := s.store.GetCategory(c.Request.Context(), strings.ToLower(id))
	switch {
	case errors.Is(err, models.ErrNotFound):
		v.Add("category_id", "no such category")
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &cat.ID, nil
}

// checkText validates a text field's presence and length in characters.
func checkText(v *models.ValidationError, field string, p *string, maxLen int, required bool) string {
	if p == nil {
		if required {
			v.Add(field, "is required")
		}
		return ""
	}
	n := utf8.RuneCountInString(*p)
	switch {
	case unstorable(*p) != "":
		v.Add(field, "%s", unstorable(*p))
	case strings.TrimSpace(*p) == "":
		v.Add(field, "must not be blank")
	case n > maxLen:
		v.Add(field, "must be at most %d characters (got %d)", maxLen, n)
	}
	return *p
}

// ---- lists

func (s *Server) listTickets(c *gin.Context) { s.ticketList(c, false) }

func (s *Server) myTickets(c *gin.Context) {
	if caller(c).Role != models.RoleCustomer {
		s.fail(c, forbidden("my-tickets is the customers' list; agents and admins use /api/v1/tickets"))
		return
	}
	s.ticketList(c, true)
}

type ticketPage struct {
	Items      []ticketView `json:"items"`
	NextCursor *string      `json:"next_cursor"`
	Total      *int64       `json:"total,omitempty"`
	TotalExact *bool        `json:"total_exact,omitempty"`
}

var listParams = []string{"status", "priority", "assignee_id", "customer_id", "category_id", "q",
	"created_after", "created_before", "sla_state", "sort", "limit", "cursor", "count"}

func (s *Server) ticketList(c *gin.Context, mine bool) {
	u := caller(c)
	f, count, err := parseTicketFilter(c, u, mine)
	if err != nil {
		s.fail(c, err)
		return
	}
	page := ticketPage{Items: []ticketView{}}
	if f.CustomerID == "-" { // a customer asking for someone else's tickets
		if count {
			page.Total, page.TotalExact = new(int64), new(true)
		}
		writeJSON(c, http.StatusOK, page)
		return
	}
	// The count runs next to the page on its own connection: count=true
	// costs the slower of the two, not their sum.
	var (
		counting   errgroup.Group
		total      int64
		totalExact bool
		ctx        = c.Request.Context()
	)
	if count {
		counting.Go(func() (err error) {
			total, totalExact, err = s.store.CountTickets(ctx, f)
			return err
		})
	}
	ts, next, err := s.store.ListTickets(ctx, f)
	if cerr := counting.Wait(); err == nil {
		err = cerr
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, t := range ts {
		page.Items = append(page.Items, view(u, t))
	}
	if next != nil {
		enc := next.Encode()
		page.NextCursor = &enc
	}
	if count {
		page.Total, page.TotalExact = &total, &totalExact
	}
	writeJSON(c, http.StatusOK, page)
}

func parseTicketFilter(c *gin.Context, u models.User, mine bool) (models.TicketFilter, bool, error) {
	q := c.Request.URL.Query()
	v := &models.ValidationError{}
	for name, values := range q {
		switch {
		case !slices.Contains(listParams, name) || (mine && name == "customer_id"):
			v.Add(name, "is not a known query parameter")
		case len(values) > 1:
			v.Add(name, "must be given once (use a comma-separated list)")
		}
	}
	f := models.TicketFilter{Sort: models.SortCreatedDesc, Limit: 20}
	f.Statuses = parseList(v, q, "status", models.Status.Valid)
	f.Priorities = parseList(v, q, "priority", models.Priority.Valid)
	if q.Has("assignee_id") {
		switch a := q.Get("assignee_id"); {
		case a == "me":
			f.AssigneeID = u.ID
		case a == "none":
			f.Unassigned = true
		case isUUID(a):
			f.AssigneeID = strings.ToLower(a)
		default:
			v.Add("assignee_id", "must be me, none or a UUID")
		}
	}
	f.CustomerID = uuidParam(v, q, "customer_id")
	if u.Role == models.RoleCustomer {
		if f.CustomerID != "" && f.CustomerID != u.ID {
			f.CustomerID = "-"
		} else {
			f.CustomerID = u.ID
		}
	}
	f.CategoryID = uuidParam(v, q, "category_id")
	if q.Has("q") {
		text := q.Get("q")
		if n := utf8.RuneCountInString(text); n < 1 || n > 200 {
			v.Add("q", "must be 1 to 200 characters")
		} else if msg := unstorable(text); msg != "" {
			v.Add("q", "%s", msg)
		}
		f.Query = text
	}
	f.CreatedAfter = parseTime(v, q, "created_after")
	f.CreatedBefore = parseTime(v, q, "created_before")
	f.SLAStates = parseList(v, q, "sla_state", models.SLAState.Valid)
	if q.Has("sort") {
		f.Sort = q.Get("sort")
		if !slices.Contains(models.TicketSorts, f.Sort) {
			v.Add("sort", "must be one of %s", strings.Join(models.TicketSorts, ", "))
		}
	}
	if q.Has("limit") {
		f.Limit = parseLimit(v, q.Get("limit"))
	}
	count := false
	if q.Has("count") {
		b, err := strconv.ParseBool(q.Get("count"))
		if err != nil {
			v.Add("count", "must be true or false")
		}
		count = b
	}
	if err := v.Err(); err != nil {
		return f, false, err
	}
	if q.Has("cursor") {
		cur, err := models.DecodeCursor(q.Get("cursor"), f.Sort)
		if err != nil || cur == nil {
			return f, false, badRequestf("cursor is not valid for this list and sort order")
		}
		f.After = cur
	}
	return f, count, nil
}

// uuidParam reads an optional UUID query parameter.
func uuidParam(v *models.ValidationError, q url.Values, name string) string {
	if !q.Has(name) {
		return ""
	}
	id := q.Get(name)
	if !isUUID(id) {
		v.Add(name, "must be a UUID")
	}
	return strings.ToLower(id)
}

func parseLimit(v *models.ValidationError, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100 {
		v.Add("limit", "must be an integer from 1 to 100")
	}
	return n
}

// parseList reads an optional comma-separated enum parameter: present, it
// must name at least one value, and every value must be valid.
func parseList[T ~string](v *models.ValidationError, q url.Values, name string, valid func(T) bool) []T {
	if !q.Has(name) {
		return nil
	}
	list := splitList(q.Get(name))
	if len(list) == 0 {
		v.Add(name, "must name at least one %s", name)
	}
	out := make([]T, 0, len(list))
	for _, item := range list {
		if !valid(T(item)) {
			v.Add(name, "%q is not a %s", item, name)
		}
		out = append(out, T(item))
	}
	return out
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseTime(v *models.ValidationError, q url.Values, field string) *time.Time {
	if !q.Has(field) {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, q.Get(field))
	if err != nil {
		v.Add(field, "must be an RFC 3339 date-time")
		return nil
	}
	return &t
}

// ---- one ticket

type editBody struct {
	Subject     *string          `json:"subject"`
	Description *string          `json:"description"`
	Priority    *models.Priority `json:"priority"`
	CategoryID  Optional[string] `json:"category_id"`
}

func (s *Server) editTicket(c *gin.Context) {
	t, err := s.visibleTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var b editBody
	if err := decode(c, &b); err != nil {
		s.fail(c, err)
		return
	}
	u := caller(c)
	if u.Role == models.RoleCustomer && (b.Priority != nil || b.CategoryID.Set) {
		s.fail(c, forbidden("customers may change only the subject and description"))
		return
	}
	if t.Status == models.StatusClosed {
		s.fail(c, models.ErrTicketClosed)
		return
	}
	req := workflows.EditRequest{Actor: actor(u), Subject: b.Subject, Description: b.Description, Priority: b.Priority}
	v := &models.ValidationError{}
	if b.Subject == nil && b.Description == nil && b.Priority == nil && !b.CategoryID.Set {
		v.Add("", "name at least one of subject, description, priority, category_id")
	}
	if b.Subject != nil {
		checkText(v, "subject", b.Subject, 200, true)
	}
	if b.Description != nil {
		checkText(v, "description", b.Description, 10000, true)
	}
	if b.Priority != nil && !b.Priority.Valid() {
		v.Add("priority", "must be one of low, normal, high, urgent")
	}
	if b.CategoryID.Set {
		req.SetCategory = true
		if id := b.CategoryID.Ptr(); id != nil {
			cat, err := s.checkCategory(c, v, *id)
			if err != nil {
				s.fail(c, err)
				return
			}
			req.CategoryID = cat
		}
	}
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	if m := c.GetHeader("If-Match"); m != "" {
		ok, version := matchETag(m, t.Version)
		if !ok {
			s.fail(c, models.ErrPrecondition)
			return
		}
		req.IfVersion = version
	}
	if b.Priority != nil && *b.Priority != t.Priority {
		cfg, err := s.slaConfig(c.Request.Context(), *b.Priority)
		if err != nil {
			s.fail(c, err)
			return
		}
		req.SLA = cfg
	}
	s.update(c, t, workflows.UpdateEdit, "edit", req, http.StatusOK)
}

// slaConfig reads the SLA policy of priority p and the lifecycle delays, for
// a change whose workflow needs them: the workflow then need not read them
// itself (one activity fewer on the write path).
func (s *Server) slaConfig(ctx context.Context, p models.Priority) (*activities.LoadSLAConfigOutput, error) {
	policy, err := s.store.GetPolicy(ctx, p)
	if err != nil {
		return nil, err
	}
	lifecycle, err := s.store.GetLifecycle(ctx)
	if err != nil {
		return nil, err
	}
	return &activities.LoadSLAConfigOutput{Policy: policy, Lifecycle: lifecycle}, nil
}

// matchETag checks an If-Match header against the current version (strong
// comparison: a weak tag never matches) and returns the version to hold the
// workflow to (0 for "*").
func matchETag(header string, current int64) (bool, int64) {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true, 0
		}
		if tag == quoteETag(current) {
			return true, current
		}
	}
	return false, 0
}

type statusBody struct {
	Status *models.Status `json:"status"`
	Reason *string        `json:"reason"`
}

func (s *Server) changeStatus(c *gin.Context) {
	t, err := s.changeableTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var b statusBody
	if err := decode(c, &b); err != nil {
		s.fail(c, err)
		return
	}
	v := &models.ValidationError{}
	switch {
	case b.Status == nil:
		v.Add("status", "is required")
	case !b.Status.Valid():
		v.Add("status", "must be one of %s", joinStatuses(models.Statuses))
	}
	reason := ""
	if b.Reason != nil {
		reason = checkText(v, "reason", b.Reason, 500, false)
	}
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	u := caller(c)
	to := *b.Status
	if !models.CanTransition(t.Status, to) {
		s.fail(c, &models.TransitionError{From: t.Status, To: to, Allowed: models.TransitionsFor(u.Role, t.Status)})
		return
	}
	if !slices.Contains(models.TransitionsFor(u.Role, t.Status), to) {
		s.fail(c, forbidden("customers may only resolve their ticket or reopen a resolved one"))
		return
	}
	req := workflows.StatusRequest{Actor: actor(u), Status: to, Reason: reason}
	if to == models.StatusResolved || to == models.StatusPending {
		// The move arms an automatic one with the delays in force now.
		if req.SLA, err = s.slaConfig(c.Request.Context(), t.Priority); err != nil {
			s.fail(c, err)
			return
		}
	}
	s.update(c, t, workflows.UpdateChangeStatus, "status", req, http.StatusOK)
}

func joinStatuses(ss []models.Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

type assignBody struct {
	AssigneeID Optional[string] `json:"assignee_id"`
}

func (s *Server) assign(c *gin.Context) {
	t, err := s.visibleTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	u := caller(c)
	if !u.Role.IsStaff() {
		s.fail(c, forbidden("only agents and admins assign tickets"))
		return
	}
	if t.Status == models.StatusClosed {
		s.fail(c, models.ErrTicketClosed)
		return
	}
	var b assignBody
	if err := decode(c, &b); err != nil {
		s.fail(c, err)
		return
	}
	if !b.AssigneeID.Set {
		s.fail(c, models.Invalid("assignee_id", "is required (null to unassign)"))
		return
	}
	req := workflows.AssignRequest{Actor: actor(u)}
	if id := b.AssigneeID.Ptr(); id != nil {
		if !isUUID(*id) {
			s.fail(c, models.Invalid("assignee_id", "must be a UUID or null"))
			return
		}
		a, err := s.store.GetUser(c.Request.Context(), strings.ToLower(*id))
		switch {
		case errors.Is(err, models.ErrNotFound):
			s.fail(c, models.Invalid("assignee_id", "no such user"))
			return
		case err != nil:
			s.fail(c, err)
			return
		case !a.Role.IsStaff() || !a.Active:
			s.fail(c, models.Invalid("assignee_id", "must be an active agent or admin"))
			return
		}
		req.AssigneeID = &a.ID
	}
	s.update(c, t, workflows.UpdateAssign, "assign", req, http.StatusOK)
}

// update sends a change to the ticket's workflow and answers with the
// stored ticket.
func (s *Server) update(c *gin.Context, t models.Ticket, name, kind string, req any, status int) {
	res, err := s.send(c, t, name, req)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.metrics.TicketChanged(kind)
	s.sendTicket(c, status, res.Ticket)
}

func (s *Server) send(c *gin.Context, t models.Ticket, name string, req any) (workflows.UpdateResult, error) {
	ctx, cancel := s.updateContext(c)
	defer cancel()
	if err := s.gate.enter(ctx, t.ID); err != nil {
		return workflows.UpdateResult{}, fmt.Errorf("wait for ticket %s: %w: %w", t.ID, models.ErrUnavailable, err)
	}
	defer s.gate.leave(t.ID)
	res, err := s.tickets.Update(ctx, t.ID, name, withDeadline(req, s.deadline()))
	var trans *models.TransitionError
	if errors.As(err, &trans) {
		// The workflow refused on a fresher state than the read model's:
		// explain with that state.
		fresh := t
		if cur, gerr := s.store.GetTicket(c.Request.Context(), t.ID); gerr == nil {
			fresh = cur
		}
		if r, ok := req.(workflows.StatusRequest); ok {
			trans.To = r.Status
		}
		trans.From = fresh.Status
		trans.Allowed = models.TransitionsFor(caller(c).Role, fresh.Status)
	}
	return res, err
}

type replyBody struct {
	Body     *string `json:"body"`
	Internal *bool   `json:"internal"`
}

func (s *Server) addReply(c *gin.Context) {
	t, err := s.visibleTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var b replyBody
	if err := decode(c, &b); err != nil {
		s.fail(c, err)
		return
	}
	u := caller(c)
	internal := b.Internal != nil && *b.Internal
	if internal && !u.Role.IsStaff() {
		s.fail(c, forbidden("customers cannot post internal notes"))
		return
	}
	if t.Status == models.StatusClosed {
		s.fail(c, closedForReplies(t.ID))
		return
	}
	v := &models.ValidationError{}
	body := checkText(v, "body", b.Body, 20000, true)
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.send(c, t, workflows.UpdateAddReply, workflows.ReplyRequest{Actor: actor(u), Body: body, Internal: internal})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.metrics.TicketChanged("reply")
	c.Header("Location", fmt.Sprintf("/api/v1/tickets/%s/replies/%s", t.ID, res.Reply.ID))
	writeJSON(c, http.StatusCreated, replyView{Reply: *res.Reply, Author: authorOf(u)})
}

type listOf[T any] struct {
	Items []T `json:"items"`
}

type timeBody struct {
	Minutes *int    `json:"minutes"`
	Note    *string `json:"note"`
}

func (s *Server) logTime(c *gin.Context) {
	t, err := s.staffTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	var b timeBody
	if err := decode(c, &b); err != nil {
		s.fail(c, err)
		return
	}
	if t.Status == models.StatusClosed {
		s.fail(c, models.ErrTicketClosed)
		return
	}
	v := &models.ValidationError{}
	if b.Minutes == nil {
		v.Add("minutes", "is required")
	} else if *b.Minutes < 1 || *b.Minutes > 1440 {
		v.Add("minutes", "must be from 1 to 1440")
	}
	note := ""
	if b.Note != nil {
		note = *b.Note
		if msg := unstorable(note); msg != "" {
			v.Add("note", "%s", msg)
		} else if utf8.RuneCountInString(note) > 1000 {
			v.Add("note", "must be at most 1000 characters")
		}
	}
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.send(c, t, workflows.UpdateLogTime, workflows.TimeRequest{Actor: actor(caller(c)), Minutes: *b.Minutes, Note: note})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.metrics.TicketChanged("time")
	writeJSON(c, http.StatusCreated, res.TimeEntry)
}

// staffTicket is visibleTicket for staff-only routes: the owner customer
// gets 403, everybody else who cannot see it 404.
func (s *Server) staffTicket(c *gin.Context) (models.Ticket, error) {
	t, err := s.visibleTicket(c)
	if err == nil && !caller(c).Role.IsStaff() {
		err = forbidden("only agents and admins work with time entries")
	}
	return t, err
}

func (s *Server) deleteTicket(c *gin.Context) {
	t, err := s.visibleTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	u := caller(c)
	if u.Role != models.RoleAdmin {
		s.fail(c, forbidden("only admins delete tickets"))
		return
	}
	if t.Status == models.StatusClosed {
		s.fail(c, models.ErrTicketClosed)
		return
	}
	if _, err := s.send(c, t, workflows.UpdateDelete, workflows.DeleteRequest{Actor: actor(u)}); err != nil {
		s.fail(c, err)
		return
	}
	s.metrics.TicketChanged("delete")
	c.Status(http.StatusNoContent)
}
