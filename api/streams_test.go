package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ticketd/ticketd/api"
	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/monitoring"
	"github.com/ticketd/ticketd/workflows"
)

// wait is generous: the machine is shared and slow.
const wait = 20 * time.Second

func eventOf(t *testing.T, ev testenv.Event) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
		t.Fatalf("event data %q: %v", ev.Data, err)
	}
	return m
}

func TestTicketStream(t *testing.T) {
	p := newPeople(t)
	id := p.fileTicket(t, "live", "watch me")["id"].(string)
	path := "/api/v1/tickets/" + id
	stream := path + "/stream"

	owner, _ := stack.Stream(t, stream, p.token(asOwner))
	agent, _ := stack.Stream(t, stream, p.token(asAgent))
	if owner == nil || agent == nil {
		t.Fatal("streams refused")
	}
	if ct := owner.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	mustDo(t, http.StatusCreated, "POST", path+"/replies", p.token(asAgent), map[string]any{"body": "secret note", "internal": true})
	mustDo(t, http.StatusCreated, "POST", path+"/replies", p.token(asAgent), map[string]any{"body": "hello"})

	t.Run("staff get every event as recorded, with seq as id", func(t *testing.T) {
		for _, want := range []int64{2, 3} {
			ev, err := agent.NextEvent(wait)
			if err != nil {
				t.Fatal(err)
			}
			m := eventOf(t, ev)
			if ev.Type != "timeline" || ev.ID != strconv.FormatInt(want, 10) || m["seq"] != float64(want) || m["type"] != "replied" {
				t.Errorf("event %+v", ev)
			}
			if a, _ := m["author"].(map[string]any); a["id"] != p.id(asAgent) {
				t.Errorf("author %v", m["author"])
			}
		}
	})
	t.Run("customers never get internal events", func(t *testing.T) {
		ev, err := owner.NextEvent(wait)
		if err != nil {
			t.Fatal(err)
		}
		if ev.ID != "3" || strings.Contains(ev.Data, `"internal":true`) {
			t.Errorf("owner's first event %+v, want the public reply (seq 3)", ev)
		}
	})
	t.Run("heartbeats are comments", func(t *testing.T) {
		ev, err := owner.Next(wait)
		if err != nil || ev.Comment != "heartbeat" {
			t.Errorf("got %+v, %v; want a heartbeat comment", ev, err)
		}
	})
	t.Run("Last-Event-ID resumes after that event, filtered the same", func(t *testing.T) {
		resumed, _ := stack.Stream(t, stream, p.token(asOwner), "Last-Event-ID", "0")
		var ids []string
		for range 2 {
			ev, err := resumed.NextEvent(wait)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ev.ID)
		}
		if fmt.Sprint(ids) != "[1 3]" {
			t.Errorf("resumed ids %v, want [1 3]", ids)
		}
		staff, _ := stack.Stream(t, stream, p.token(asAgent), "Last-Event-ID", "2")
		if ev, err := staff.NextEvent(wait); err != nil || ev.ID != "3" {
			t.Errorf("resume after 2: %+v %v", ev, err)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for _, c := range []struct {
			name, path, tok string
			headers         []string
			want            int
		}{
			{"another customer", stream, p.token(asOther), nil, 404},
			{"no token", stream, "", nil, 401},
			{"bad Last-Event-ID", stream, p.token(asOwner), []string{"Last-Event-ID", "three"}, 400},
			{"unknown ticket", "/api/v1/tickets/00000000-0000-4000-8000-000000000000/stream", p.token(asAgent), nil, 404},
		} {
			t.Run(c.name, func(t *testing.T) {
				es, r := stack.Stream(t, c.path, c.tok, c.headers...)
				if es != nil {
					t.Fatal("stream opened")
				}
				assertProblem(t, r, c.want, "secret note")
			})
		}
	})
	t.Run("the stream ends after the ticket's deletion", func(t *testing.T) {
		mustDo(t, http.StatusNoContent, "DELETE", path, p.token(asAdmin), nil)
		var last testenv.Event
		for {
			ev, err := owner.NextEvent(wait)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			last = ev
		}
		if eventOf(t, last)["type"] != "deleted" {
			t.Errorf("last event %+v, want deleted", last)
		}
	})
}

func TestChangeStream(t *testing.T) {
	p := newPeople(t)
	id := p.fileTicket(t, "changes", "x")["id"].(string)
	owner, _ := stack.Stream(t, "/api/v1/stream", p.token(asOwner))
	other, _ := stack.Stream(t, "/api/v1/stream", p.token(asOther))
	agent, _ := stack.Stream(t, "/api/v1/stream", p.token(asAgent))
	updated := mustDo(t, http.StatusOK, "POST", "/api/v1/tickets/"+id+"/status", p.token(asAgent), map[string]any{"status": "in_progress"}).Map(t)

	want := fmt.Sprintf(`{"id":"%s","version":%v,"status":"in_progress"}`, id, updated["version"])
	for name, es := range map[string]*testenv.EventStream{"owner": owner, "agent": agent} {
		t.Run(name+" hears of the change", func(t *testing.T) {
			for {
				ev, err := es.NextEvent(wait)
				if err != nil {
					t.Fatal(err)
				}
				if ev.Type != "ticket.changed" {
					t.Fatalf("event type %q", ev.Type)
				}
				if ev.Data == want {
					return
				}
				// An agent hears of other tests' tickets too.
				if name == "owner" {
					t.Fatalf("owner got %s, want %s", ev.Data, want)
				}
			}
		})
	}
	t.Run("another customer does not", func(t *testing.T) {
		mustDo(t, http.StatusCreated, "POST", "/api/v1/tickets/"+id+"/replies", p.token(asOwner), map[string]any{"body": "more"})
		if _, err := owner.NextEvent(wait); err != nil { // the reply's change reached the owner...
			t.Fatal(err)
		}
		if ev, err := other.NextEvent(time.Second); err == nil { // ...and never the other customer
			t.Errorf("another customer heard %+v", ev)
		}
	})
}

func TestStreamLimits(t *testing.T) {
	u, tok := stack.NewUser(t, models.RoleAgent)
	_ = u
	for i := range 5 {
		if es, r := stack.Stream(t, "/api/v1/stream", tok); es == nil {
			t.Fatalf("stream %d refused: %d %s", i+1, r.Status, r.Body)
		}
	}
	es, r := stack.Stream(t, "/api/v1/stream", tok)
	if es != nil {
		t.Fatal("a sixth stream opened")
	}
	assertProblem(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Another user is not affected.
	if _, other := stack.NewUser(t, models.RoleAgent); true {
		if es, _ := stack.Stream(t, "/api/v1/stream", other); es == nil {
			t.Error("another user's stream refused")
		}
	}
}

func TestStreamsEndOnDrain(t *testing.T) {
	// A server of its own, so that draining it leaves the shared one be.
	reg := prometheus.NewRegistry()
	srv := api.New(api.Config{JWTSecret: testenv.Secret, StreamHeartbeat: time.Hour, StreamPoll: 100 * time.Millisecond},
		models.NewStore(stack.DB), workflows.NewClient(stack.Temporal, models.NewStore(stack.DB)), slog.New(slog.NewTextHandler(io.Discard, nil)),
		monitoring.NewMetrics(reg), reg)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	p := newPeople(t)
	id := p.fileTicket(t, "drain", "x")["id"].(string)

	open := func(path string) *http.Response {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+p.token(asAgent))
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	var bodies []io.ReadCloser
	for _, path := range []string{"/api/v1/stream", "/api/v1/tickets/" + id + "/stream"} {
		resp := open(path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		bodies = append(bodies, resp.Body)
	}
	srv.Drain()
	for i, b := range bodies {
		done := make(chan error, 1)
		go func() { _, err := io.ReadAll(b); done <- err }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("stream %d ended with %v, want a clean end", i, err)
			}
		case <-time.After(wait):
			t.Errorf("stream %d still open after Drain", i)
		}
		b.Close()
	}
	if resp := open("/api/v1/stream"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a stream after Drain: %d, want 503", resp.StatusCode)
	} else {
		resp.Body.Close()
	}
}

func TestStreamEndsWhenUserDeactivated(t *testing.T) {
	u, tok := stack.NewUser(t, models.RoleAgent)
	es, r := stack.Stream(t, "/api/v1/stream", tok)
	if es == nil {
		t.Fatalf("refused: %d %s", r.Status, r.Body)
	}
	if err := stack.DB.Model(&models.User{}).Where("id = ?", u.ID).Update("active", false).Error; err != nil {
		t.Fatal(err)
	}
	if !es.Ended(wait) {
		t.Error("the stream of a deactivated user is still open")
	}
}
