package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketd/ticketd/models"
)

// Timeline pages: replies, events and time entries.
const (
	timelineDefaultLimit = 100
	timelineMaxLimit     = 200
)

// author is who wrote a reply or caused an event, as anyone who can see it
// may know them.
type author struct {
	ID   string      `json:"id"`
	Name string      `json:"name"`
	Role models.Role `json:"role"`
}

func authorOf(u models.User) author { return author{ID: u.ID, Name: u.Name, Role: u.Role} }

type replyView struct {
	models.Reply
	Author author `json:"author"`
}

// eventView is a timeline entry as clients see it: whether it is internal
// shows in who may see it, not in a field.
type eventView struct {
	ID        string           `json:"id"`
	TicketID  string           `json:"ticket_id"`
	Seq       int64            `json:"seq"`
	Type      models.EventType `json:"type"`
	ActorID   string           `json:"actor_id"`
	Author    *author          `json:"author"`
	Data      models.EventData `json:"data"`
	CreatedAt time.Time        `json:"created_at"`
}

type ticketWithReplies struct {
	ticketView
	Replies           []replyView `json:"replies"`
	RepliesNextCursor *string     `json:"replies_next_cursor"`
}

type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func encodeCursor(c *models.Cursor) *string {
	if c == nil {
		return nil
	}
	s := c.Encode()
	return &s
}

// authors looks up the users named by ids, in one query.
func (s *Server) authors(ctx context.Context, ids []string) (map[string]models.User, error) {
	seen := map[string]bool{}
	var want []string
	for _, id := range ids {
		if id != models.SystemActorID && !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	return s.store.UsersByID(ctx, want)
}

func (s *Server) replyViews(ctx context.Context, rs []models.Reply) ([]replyView, error) {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.AuthorID
	}
	users, err := s.authors(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]replyView, len(rs))
	for i, r := range rs {
		u, ok := users[r.AuthorID]
		if !ok {
			return nil, fmt.Errorf("reply %s: author %s: %w", r.ID, r.AuthorID, models.ErrNotFound)
		}
		out[i] = replyView{Reply: r, Author: authorOf(u)}
	}
	return out, nil
}

func (s *Server) eventViews(ctx context.Context, es []models.Event) ([]eventView, error) {
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ActorID
	}
	users, err := s.authors(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]eventView, len(es))
	for i, e := range es {
		out[i] = eventView{ID: e.ID, TicketID: e.TicketID, Seq: e.Seq, Type: e.Type, ActorID: e.ActorID, Data: e.Data, CreatedAt: e.CreatedAt}
		if u, ok := users[e.ActorID]; ok {
			a := authorOf(u)
			out[i].Author = &a
		}
	}
	return out, nil
}

// timelinePage reads limit and cursor of a timeline list; list names the
// cursors it accepts.
func timelinePage(c *gin.Context, list string) (int, *models.Cursor, error) {
	q := c.Request.URL.Query()
	v := &models.ValidationError{}
	for name, values := range q {
		switch {
		case name != "limit" && name != "cursor":
			v.Add(name, "is not a known query parameter")
		case len(values) > 1:
			v.Add(name, "must be given once")
		}
	}
	limit := timelineDefaultLimit
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > timelineMaxLimit {
			v.Add("limit", "must be an integer from 1 to %d", timelineMaxLimit)
		}
		limit = n
	}
	if err := v.Err(); err != nil {
		return 0, nil, err
	}
	var after *models.Cursor
	if q.Has("cursor") {
		cur, err := models.DecodeCursor(q.Get("cursor"), list)
		if err != nil || cur == nil {
			return 0, nil, badRequestf("cursor is not valid for this list")
		}
		after = cur
	}
	return limit, after, nil
}

func (s *Server) getTicket(c *gin.Context) {
	t, err := s.visibleTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	u := caller(c)
	ctx := c.Request.Context()
	replies, next, err := s.store.PageReplies(ctx, t.ID, u.Role.IsStaff(), nil, timelineDefaultLimit)
	if err != nil {
		s.fail(c, err)
		return
	}
	views, err := s.replyViews(ctx, replies)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", quoteETag(t.Version))
	writeJSON(c, http.StatusOK, ticketWithReplies{ticketView: view(u, t), Replies: views, RepliesNextCursor: encodeCursor(next)})
}

func (s *Server) listReplies(c *gin.Context) {
	t, err := s.visibleTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	limit, after, err := timelinePage(c, models.CursorReplies)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	rs, next, err := s.store.PageReplies(ctx, t.ID, caller(c).Role.IsStaff(), after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	views, err := s.replyViews(ctx, rs)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, page[replyView]{Items: views, NextCursor: encodeCursor(next)})
}

func (s *Server) getReply(c *gin.Context) {
	t, err := s.visibleTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	id := c.Param("reply_id")
	if !isUUID(id) {
		s.fail(c, models.ErrNotFound)
		return
	}
	ctx := c.Request.Context()
	r, err := s.store.GetReply(ctx, t.ID, strings.ToLower(id), caller(c).Role.IsStaff())
	if err != nil {
		s.fail(c, err)
		return
	}
	views, err := s.replyViews(ctx, []models.Reply{r})
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, views[0])
}

func (s *Server) listEvents(c *gin.Context) {
	t, err := s.visibleTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	limit, after, err := timelinePage(c, models.CursorEvents)
	if err != nil {
		s.fail(c, err)
		return
	}
	var afterSeq int64
	if after != nil {
		afterSeq = after.Seq
	}
	ctx := c.Request.Context()
	es, next, err := s.store.PageEvents(ctx, t.ID, caller(c).Role.IsStaff(), afterSeq, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	views, err := s.eventViews(ctx, es)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, page[eventView]{Items: views, NextCursor: encodeCursor(next)})
}

func (s *Server) listTimeEntries(c *gin.Context) {
	t, err := s.staffTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	limit, after, err := timelinePage(c, models.CursorTimeEntries)
	if err != nil {
		s.fail(c, err)
		return
	}
	es, next, err := s.store.PageTimeEntries(c.Request.Context(), t.ID, after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, page[models.TimeEntry]{Items: es, NextCursor: encodeCursor(next)})
}
