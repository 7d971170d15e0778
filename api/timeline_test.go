package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/ticketd/ticketd/models"
)

func TestAuthors(t *testing.T) {
	p := newPeople(t)
	id := p.fileTicket(t, "authors", "who said what")["id"].(string)
	path := "/api/v1/tickets/" + id
	created := mustDo(t, http.StatusCreated, "POST", path+"/replies", p.token(asAgent), map[string]any{"body": "on it"}).Map(t)
	agent := p.user(asAgent)
	want := map[string]any{"id": agent.ID, "name": agent.Name, "role": "agent"}
	if fmt.Sprint(created["author"]) != fmt.Sprint(want) {
		t.Errorf("POST reply author %v, want %v", created["author"], want)
	}
	// The customer sees who answered, without being allowed to list users.
	r := mustDo(t, http.StatusOK, "GET", path+"/replies", p.token(asOwner), nil).Map(t)
	items := r["items"].([]any)
	if len(items) != 1 || fmt.Sprint(items[0].(map[string]any)["author"]) != fmt.Sprint(want) {
		t.Errorf("replies %v", items)
	}
	tk := mustDo(t, http.StatusOK, "GET", path, p.token(asOwner), nil).Map(t)
	if rs := tk["replies"].([]any); len(rs) != 1 || fmt.Sprint(rs[0].(map[string]any)["author"]) != fmt.Sprint(want) {
		t.Errorf("embedded replies %v", rs)
	}
	evs := mustDo(t, http.StatusOK, "GET", path+"/events", p.token(asOwner), nil).Map(t)["items"].([]any)
	owner := p.user(asOwner)
	byType := map[string]any{}
	for _, e := range evs {
		m := e.(map[string]any)
		byType[m["type"].(string)] = m["author"]
	}
	if fmt.Sprint(byType["created"]) != fmt.Sprint(map[string]any{"id": owner.ID, "name": owner.Name, "role": "customer"}) {
		t.Errorf("created event author %v", byType["created"])
	}
	if fmt.Sprint(byType["replied"]) != fmt.Sprint(want) {
		t.Errorf("replied event author %v", byType["replied"])
	}
}

func TestGetOne(t *testing.T) {
	p := newPeople(t)
	id := p.fileTicket(t, "one reply", "x")["id"].(string)
	path := "/api/v1/tickets/" + id
	pub := mustDo(t, http.StatusCreated, "POST", path+"/replies", p.token(asAgent), map[string]any{"body": "public"})
	note := mustDo(t, http.StatusCreated, "POST", path+"/replies", p.token(asAgent), map[string]any{"body": "note", "internal": true})
	otherTicket := p.fileTicket(t, "another", "x")["id"].(string)
	pubURL, noteURL := pub.Header.Get("Location"), note.Header.Get("Location")
	foreign := "/api/v1/tickets/" + otherTicket + "/replies/" + pub.Map(t)["id"].(string)
	for _, c := range []struct {
		name, path, who string
		want            int
	}{
		{"owner reads a public reply", pubURL, asOwner, 200},
		{"owner cannot read an internal note", noteURL, asOwner, 404},
		{"another customer cannot read it", pubURL, asOther, 404},
		{"agent reads the internal note", noteURL, asAgent, 200},
		{"a reply through another ticket", foreign, asAgent, 404},
		{"an unknown reply", path + "/replies/" + uuid.NewString(), asAgent, 404},
		{"a reply id that is not a uuid", path + "/replies/nope", asAgent, 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := stack.Do(t, "GET", c.path, p.token(c.who), nil)
			if c.want != 200 {
				assertProblem(t, r, c.want, "note")
				return
			}
			if r.Status != 200 || !strings.HasSuffix(c.path, r.Map(t)["id"].(string)) {
				t.Errorf("%d %s", r.Status, r.Body)
			}
		})
	}

	cat := mustDo(t, http.StatusCreated, "POST", "/api/v1/categories", p.token(asAdmin), map[string]any{"name": "one " + uuid.NewString()})
	t.Run("category by Location", func(t *testing.T) {
		got := mustDo(t, http.StatusOK, "GET", cat.Header.Get("Location"), p.token(asOwner), nil).Map(t)
		if got["id"] != cat.Map(t)["id"] {
			t.Errorf("got %v", got)
		}
		assertProblem(t, stack.Do(t, "GET", "/api/v1/categories/"+uuid.NewString(), p.token(asOwner), nil), 404)
	})
	t.Run("user by id, staff only", func(t *testing.T) {
		got := mustDo(t, http.StatusOK, "GET", "/api/v1/users/"+p.id(asOwner), p.token(asAgent), nil).Map(t)
		if got["email"] != p.user(asOwner).Email {
			t.Errorf("got %v", got)
		}
		assertProblem(t, stack.Do(t, "GET", "/api/v1/users/"+p.id(asAgent), p.token(asOwner), nil), 403)
		assertProblem(t, stack.Do(t, "GET", "/api/v1/users/"+uuid.NewString(), p.token(asAdmin), nil), 404)
	})
}

// insertReplies stores n replies straight in the database (reads never go
// through the workflow, and posting thousands would take minutes).
func insertReplies(t *testing.T, ticketID, authorID string, n int, internalEvery int) {
	t.Helper()
	base := time.Now().UTC().Truncate(time.Microsecond)
	rs := make([]models.Reply, n)
	for i := range rs {
		rs[i] = models.Reply{ID: uuid.Must(uuid.NewV7()).String(), TicketID: ticketID, AuthorID: authorID,
			Body: fmt.Sprintf("bulk %03d", i), Internal: internalEvery > 0 && i%internalEvery == 0,
			CreatedAt: base.Add(time.Duration(i/3) * time.Millisecond)} // ties on created_at
	}
	if err := stack.DB.CreateInBatches(rs, 100).Error; err != nil {
		t.Fatal(err)
	}
}

func TestTimelinePages(t *testing.T) {
	p := newPeople(t)
	id := p.fileTicket(t, "long", "a long history")["id"].(string)
	path := "/api/v1/tickets/" + id
	insertReplies(t, id, p.id(asAgent), 250, 5) // 50 internal

	collect := func(t *testing.T, who, list string, limit int) []map[string]any {
		var all []map[string]any
		cursor := ""
		for pages := 0; ; pages++ {
			q := url.Values{}
			if limit > 0 {
				q.Set("limit", fmt.Sprint(limit))
			}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			r := mustDo(t, http.StatusOK, "GET", path+"/"+list+"?"+q.Encode(), p.token(who), nil).Map(t)
			items := r["items"].([]any)
			max := limit
			if max == 0 {
				max = 100
			}
			if len(items) > max {
				t.Fatalf("page of %d, limit %d", len(items), max)
			}
			for _, it := range items {
				all = append(all, it.(map[string]any))
			}
			next, _ := r["next_cursor"].(string)
			if next == "" {
				return all
			}
			if pages > 100 {
				t.Fatal("no end")
			}
			cursor = next
		}
	}
	check := func(t *testing.T, got []map[string]any, want int, internal bool) {
		t.Helper()
		if len(got) != want {
			t.Fatalf("%d replies, want %d", len(got), want)
		}
		seen := map[string]bool{}
		prev := ""
		for _, r := range got {
			key := r["created_at"].(string) + r["id"].(string)
			if seen[r["id"].(string)] || (prev != "" && r["created_at"].(string) < prev[:len(r["created_at"].(string))]) {
				t.Fatalf("reply %v repeated or out of order", r["id"])
			}
			seen[r["id"].(string)] = true
			prev = key
			if !internal && r["internal"] == true {
				t.Fatalf("customer got internal reply %v", r["id"])
			}
		}
	}
	t.Run("staff pages of 7 see all 250", func(t *testing.T) { check(t, collect(t, asAgent, "replies", 7), 250, true) })
	t.Run("staff default pages of 100", func(t *testing.T) { check(t, collect(t, asAgent, "replies", 0), 250, true) })
	t.Run("customer pages of 200 see the 200 public", func(t *testing.T) { check(t, collect(t, asOwner, "replies", 200), 200, false) })

	t.Run("the ticket embeds the first 100 and a cursor for the rest", func(t *testing.T) {
		tk := mustDo(t, http.StatusOK, "GET", path, p.token(asOwner), nil).Map(t)
		if n := len(tk["replies"].([]any)); n != 100 {
			t.Fatalf("%d embedded", n)
		}
		cur, _ := tk["replies_next_cursor"].(string)
		rest := mustDo(t, http.StatusOK, "GET", path+"/replies?limit=200&cursor="+url.QueryEscape(cur), p.token(asOwner), nil).Map(t)
		if n := len(rest["items"].([]any)); n != 100 || rest["next_cursor"] != nil {
			t.Errorf("rest: %d, next %v", n, rest["next_cursor"])
		}
		short := p.fileTicket(t, "short", "x")["id"].(string)
		if tk := mustDo(t, http.StatusOK, "GET", "/api/v1/tickets/"+short, p.token(asOwner), nil).Map(t); tk["replies_next_cursor"] != nil {
			t.Errorf("short ticket: replies_next_cursor %v", tk["replies_next_cursor"])
		}
	})

	t.Run("events and time entries page too", func(t *testing.T) {
		for range 3 {
			mustDo(t, http.StatusCreated, "POST", path+"/time-entries", p.token(asAgent), map[string]any{"minutes": 1})
		}
		evs := collect(t, asAgent, "events", 1)
		if len(evs) != 4 { // created + 3 time_logged
			t.Fatalf("%d events", len(evs))
		}
		for i, e := range evs {
			if e["seq"] != float64(i+1) {
				t.Errorf("event %d has seq %v", i, e["seq"])
			}
		}
		if evs := collect(t, asOwner, "events", 2); len(evs) != 1 {
			t.Errorf("customer sees %d events, want 1 (time entries are internal)", len(evs))
		}
		if tes := collect(t, asAgent, "time-entries", 2); len(tes) != 3 {
			t.Errorf("%d time entries", len(tes))
		}
	})

	t.Run("bad pages", func(t *testing.T) {
		rcur := mustDo(t, http.StatusOK, "GET", path+"/replies?limit=1", p.token(asAgent), nil).Map(t)["next_cursor"].(string)
		for _, c := range []struct {
			q    string
			want int
		}{
			{"/replies?limit=0", 422}, {"/replies?limit=201", 422}, {"/events?limit=x", 422},
			{"/replies?limit=1&limit=2", 422}, {"/replies?colour=red", 422},
			{"/replies?cursor=garbage", 400}, {"/events?cursor=" + rcur, 400}, {"/time-entries?cursor=" + rcur, 400},
		} {
			assertProblem(t, stack.Do(t, "GET", path+c.q, p.token(asAgent), nil), c.want)
		}
	})
}

func TestSLAListFilterAndSort(t *testing.T) {
	p := newPeople(t)
	agent := p.token(asAgent)
	file := func(priority string) string {
		return mustCreateTicket(t, agent, map[string]any{"subject": "sla " + priority, "description": "x",
			"priority": priority, "customer_id": p.id(asOwner)})["id"].(string)
	}
	urgent, low, high := file("urgent"), file("low"), file("high")
	resolved := file("urgent")
	moveTo(t, resolved, agent, models.StatusResolved)
	pending := file("normal")
	moveTo(t, pending, agent, models.StatusPending)

	list := func(q string) []string {
		r := mustDo(t, http.StatusOK, "GET", "/api/v1/tickets?customer_id="+p.id(asOwner)+"&"+q, agent, nil).Map(t)
		var ids []string
		for _, it := range r["items"].([]any) {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		return ids
	}
	t.Run("sla_due_at: soonest running clock first, none last", func(t *testing.T) {
		// urgent due in 1h, high 4h, pending's first response 8h (its
		// resolution is paused), low 24h; resolved has no running clock.
		got := list("sort=sla_due_at")
		want := []string{urgent, high, pending, low, resolved}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("order %v, want %v", got, want)
		}
		// The same, page by page.
		var paged []string
		cursor := ""
		for range 10 {
			q := "sort=sla_due_at&limit=2"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			r := mustDo(t, http.StatusOK, "GET", "/api/v1/tickets?customer_id="+p.id(asOwner)+"&"+q, agent, nil).Map(t)
			for _, it := range r["items"].([]any) {
				paged = append(paged, it.(map[string]any)["id"].(string))
			}
			next, _ := r["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if fmt.Sprint(paged) != fmt.Sprint(want) {
			t.Errorf("paged order %v, want %v", paged, want)
		}
	})
	t.Run("sla_state", func(t *testing.T) {
		for _, c := range []struct {
			q    string
			want []string
		}{
			{"sla_state=met", []string{resolved}},
			{"sla_state=running", []string{urgent, high, pending, low}},
			{"sla_state=met,running", []string{urgent, high, pending, low, resolved}},
			{"sla_state=breached,warning", nil},
		} {
			if got := list(c.q + "&sort=sla_due_at"); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s: %v, want %v", c.q, got, c.want)
			}
		}
		assertProblem(t, stack.Do(t, "GET", "/api/v1/tickets?sla_state=late", agent, nil), 422)
		assertProblem(t, stack.Do(t, "GET", "/api/v1/tickets?sort=-sla_due_at", agent, nil), 422)
	})
	t.Run("the at-risk query is served by an index", func(t *testing.T) {
		var plan []string
		err := stack.DB.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
				return err
			}
			return tx.Raw(`EXPLAIN SELECT * FROM tickets WHERE sla_state IN ('warning','breached') AND deleted_at IS NULL
				ORDER BY sla_due_at ASC NULLS LAST, id LIMIT 21`).Scan(&plan).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(plan, "\n"), "tickets_sla_") {
			t.Errorf("plan does not use an sla index:\n%s", strings.Join(plan, "\n"))
		}
	})
}

// TestSLAIndexDerivation checks the ticket-level state and due time the
// list filters and sorts on, for every mix of clock states.
func TestSLAIndexDerivation(t *testing.T) {
	at := func(h int) *time.Time { v := time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC); return &v }
	running := func(due int) models.SLAClock { return models.SLAClock{Running: true, DueAt: at(due)} }
	warned := func(c models.SLAClock) models.SLAClock { c.Warned = []float64{0.75}; return c }
	breached := func(c models.SLAClock) models.SLAClock { c.Breached = true; return c }
	met := models.SLAClock{Stopped: true}
	paused := models.SLAClock{}
	for _, c := range []struct {
		name      string
		fr, res   models.SLAClock
		wantState string
		wantDue   *time.Time
	}{
		{"both running", running(10), running(12), "running", at(10)},
		{"first response met, resolution running", met, running(12), "running", at(12)},
		{"resolution paused, first response running", running(9), paused, "running", at(9)},
		{"first response met, resolution paused", met, paused, "paused", nil},
		{"a warning", warned(running(10)), running(12), "warning", at(10)},
		{"a breach outranks a warning", warned(running(10)), breached(running(8)), "breached", at(8)},
		{"both met", met, met, "met", nil},
		{"met after a breach stays breached", breached(models.SLAClock{Stopped: true}), met, "breached", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &models.SLA{FirstResponse: c.fr, Resolution: c.res}
			state, due := s.Index()
			if state == nil || *state != c.wantState {
				t.Errorf("state %v, want %s", state, c.wantState)
			}
			if fmt.Sprint(due) != fmt.Sprint(c.wantDue) {
				t.Errorf("due %v, want %v", due, c.wantDue)
			}
		})
	}
	if s, d := (*models.SLA)(nil).Index(); s != nil || d != nil {
		t.Errorf("no SLA: %v %v", s, d)
	}
}
