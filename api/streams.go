package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketd/ticketd/models"
)

// StreamKey is set on the gin context of a Server-Sent Events request, so
// that middleware measuring request latency can leave long-lived streams out.
const StreamKey = "stream"

// changeLookback is how far back the change stream looks on every poll: a
// change's updated_at is the workflow's clock when the change began, and it
// is committed within the workflow's persistence budget (8s) after that.
const changeLookback = 20 * time.Second

// streamBatch bounds the rows one poll reads.
const streamBatch = 200

// streamSlots counts each user's open streams on this replica.
type streamSlots struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

func newStreamSlots(max int) *streamSlots { return &streamSlots{max: max, n: map[string]int{}} }

func (s *streamSlots) acquire(user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n[user] >= s.max {
		return false
	}
	s.n[user]++
	return true
}

func (s *streamSlots) release(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n[user]--; s.n[user] <= 0 {
		delete(s.n, user)
	}
}

// Drain ends every open stream and refuses new ones, for a graceful
// shutdown: call it before http.Server.Shutdown, which waits for handlers.
func (s *Server) Drain() { s.drainOnce.Do(func() { close(s.drained) }) }

// sse writes Server-Sent Events to one client.
type sse struct {
	c *gin.Context
}

func (e sse) write(format string, args ...any) error {
	if _, err := fmt.Fprintf(e.c.Writer, format, args...); err != nil {
		return err
	}
	e.c.Writer.Flush()
	return nil
}

// openStream checks the caller may open one more stream and starts the
// response; the returned release must be called when the stream ends.
func (s *Server) openStream(c *gin.Context) (sse, func(), bool) {
	select {
	case <-s.drained:
		s.fail(c, fmt.Errorf("%w: the server is shutting down", models.ErrUnavailable))
		return sse{}, nil, false
	default:
	}
	u := caller(c)
	if !s.streams.acquire(u.ID) {
		s.fail(c, &rateLimited{retryAfter: 5})
		return sse{}, nil, false
	}
	c.Set(StreamKey, true)
	// A stream outlives any write timeout the HTTP server has.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	e := sse{c: c}
	if err := e.write(": connected\n\n"); err != nil {
		s.streams.release(u.ID)
		return sse{}, nil, false
	}
	return e, func() { s.streams.release(u.ID) }, true
}

// streamLoop calls poll every poll interval and sends a heartbeat (after
// checking the caller's token still holds) every heartbeat interval, until
// the client leaves, the server drains, or poll or a write fails or says
// to stop.
func (s *Server) streamLoop(c *gin.Context, e sse, poll func(context.Context) (bool, error)) {
	ctx := c.Request.Context()
	header := c.GetHeader("Authorization")
	pollT := time.NewTicker(s.cfg.StreamPoll)
	defer pollT.Stop()
	beat := time.NewTicker(s.cfg.StreamHeartbeat)
	defer beat.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.drained:
			return
		case <-beat.C:
			if _, err := s.auth.authenticate(ctx, header); errors.Is(err, errUnauthenticated) {
				return
			}
			if e.write(": heartbeat\n\n") != nil {
				return
			}
		case <-pollT.C:
			more, err := poll(ctx)
			switch {
			case err != nil && ctx.Err() != nil:
				return
			case err != nil:
				// The database is away: keep the stream, try again next tick.
				if !failing {
					s.log.WarnContext(ctx, "stream poll failed", "route", c.FullPath(), "err", err)
				}
				failing = true
			case !more:
				return
			default:
				failing = false
			}
		}
	}
}

func (s *Server) streamTicket(c *gin.Context) {
	t, err := s.visibleTicket(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	var after int64
	if h := c.GetHeader("Last-Event-ID"); h != "" {
		n, err := strconv.ParseInt(h, 10, 64)
		if err != nil || n < 0 {
			s.fail(c, badRequestf("Last-Event-ID must be the seq of an event, a non-negative integer"))
			return
		}
		after = n
	} else if after, err = s.store.LastEventSeq(ctx, t.ID); err != nil {
		s.fail(c, err)
		return
	}
	staff := caller(c).Role.IsStaff()
	e, release, ok := s.openStream(c)
	if !ok {
		return
	}
	defer release()
	send := func(ctx context.Context) (bool, error) {
		for {
			es, next, err := s.store.PageEvents(ctx, t.ID, staff, after, streamBatch)
			if err != nil {
				return true, err
			}
			views, err := s.eventViews(ctx, es)
			if err != nil {
				return true, err
			}
			for _, v := range views {
				data, err := json.Marshal(v)
				if err != nil {
					return false, err
				}
				if err := e.write("id: %d\nevent: timeline\ndata: %s\n\n", v.Seq, data); err != nil {
					return false, nil
				}
				after = v.Seq
				if v.Type == models.EventDeleted {
					return false, nil
				}
			}
			if next == nil {
				return true, nil
			}
		}
	}
	// Events recorded before the stream opened (after Last-Event-ID) go
	// out at once.
	if more, err := send(ctx); err == nil && !more {
		return
	}
	s.streamLoop(c, e, send)
}

type ticketChanged struct {
	ID      string        `json:"id"`
	Version int64         `json:"version"`
	Status  models.Status `json:"status"`
}

func (s *Server) streamChanges(c *gin.Context) {
	u := caller(c)
	customer := ""
	if u.Role == models.RoleCustomer {
		customer = u.ID
	}
	ctx := c.Request.Context()
	// sent holds the latest version announced (or already current when the
	// stream opened) of each ticket changed within the lookback.
	type seen struct {
		version int64
		at      time.Time
	}
	sent := map[string]seen{}
	mark := time.Now().UTC()
	scan := func(ctx context.Context, announce func(models.TicketChange) error) error {
		from, fromID := mark.Add(-changeLookback), ""
		for {
			cs, err := s.store.TicketChangesSince(ctx, from, fromID, customer, streamBatch)
			if err != nil {
				return err
			}
			for _, ch := range cs {
				if prev, ok := sent[ch.ID]; ok && prev.version >= ch.Version {
					continue
				}
				if err := announce(ch); err != nil {
					return err
				}
				sent[ch.ID] = seen{version: ch.Version, at: ch.UpdatedAt}
				if ch.UpdatedAt.After(mark) {
					mark = ch.UpdatedAt
				}
			}
			if len(cs) < streamBatch {
				break
			}
			from, fromID = cs[len(cs)-1].UpdatedAt, cs[len(cs)-1].ID
		}
		for id, v := range sent {
			if v.at.Before(mark.Add(-2 * changeLookback)) {
				delete(sent, id)
			}
		}
		return nil
	}
	// What changed before the stream opened is not news.
	if err := scan(ctx, func(models.TicketChange) error { return nil }); err != nil {
		s.fail(c, err)
		return
	}
	e, release, ok := s.openStream(c)
	if !ok {
		return
	}
	defer release()
	errGone := errors.New("client gone")
	s.streamLoop(c, e, func(ctx context.Context) (bool, error) {
		err := scan(ctx, func(ch models.TicketChange) error {
			data, _ := json.Marshal(ticketChanged{ID: ch.ID, Version: ch.Version, Status: ch.Status})
			if e.write("event: ticket.changed\ndata: %s\n\n", data) != nil {
				return errGone
			}
			return nil
		})
		if errors.Is(err, errGone) {
			return false, nil
		}
		return true, err
	})
}
