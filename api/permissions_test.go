package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/ticketd/ticketd/models"
)

// permRoute is one route of the /api/v1 router with the status each caller
// gets from the contract.
type permRoute struct {
	method string
	path   string // gin's template under /api/v1: ":id" is the ticket (or user) id
	// body is what the caller sends: the request that would succeed if the
	// caller's role allowed it.
	body func(t *testing.T, p *people, who string) any
	// mutates marks routes whose success changes the ticket (or the user):
	// a caller expected to succeed gets a fresh one.
	mutates bool
	// prepare readies the fresh ticket of a caller expected to succeed.
	prepare func(t *testing.T, p *people, ticketID string)
	want    map[string]int
	// public routes need no token; stream routes answer Server-Sent Events.
	public, stream bool
}

// matrixIDs are what the matrix's paths name.
type matrixIDs struct{ ticket, user, category, reply string }

// pathFor fills in rt's path parameters.
func (r permRoute) pathFor(ids matrixIDs) string {
	path := "/api/v1" + r.path
	switch {
	case strings.HasPrefix(r.path, "/users/"):
		return strings.Replace(path, ":id", ids.user, 1)
	case strings.HasPrefix(r.path, "/categories/"):
		return strings.Replace(path, ":id", ids.category, 1)
	case strings.HasPrefix(r.path, "/sla-policies/"):
		return strings.Replace(path, ":priority", string(models.PriorityLow), 1)
	}
	return strings.Replace(strings.Replace(path, ":id", ids.ticket, 1), ":reply_id", ids.reply, 1)
}

// withPassword gives the caller a known password and returns it.
func withPassword(t *testing.T, p *people, who string) string {
	const pw = "matrix password"
	setPassword(t, p.id(who), pw)
	return pw
}

func (r permRoute) name() string { return r.method + " " + r.path }

func all(status int) map[string]int {
	return map[string]int{asOwner: status, asOther: status, asAgent: status, asAdmin: status}
}

func roles(owner, other, agent, admin int) map[string]int {
	return map[string]int{asOwner: owner, asOther: other, asAgent: agent, asAdmin: admin}
}

func fixed(v any) func(*testing.T, *people, string) any {
	return func(*testing.T, *people, string) any { return v }
}

// currentPolicy is the body that puts the low policy back as it is.
func currentPolicy(t *testing.T, p *people, _ string) any {
	r := mustDo(t, http.StatusOK, "GET", "/api/v1/sla-policies", p.token(asAdmin), nil)
	var list struct {
		Items []map[string]any `json:"items"`
	}
	r.Decode(t, &list)
	for _, pol := range list.Items {
		if pol["priority"] == string(models.PriorityLow) {
			delete(pol, "priority")
			delete(pol, "updated_at")
			return pol
		}
	}
	t.Fatalf("no low policy: %s", r.Body)
	return nil
}

// currentLifecycle is the body that puts the lifecycle settings back as
// they are.
func currentLifecycle(t *testing.T, p *people, _ string) any {
	return mustDo(t, http.StatusOK, "GET", "/api/v1/settings/lifecycle", p.token(asAdmin), nil).Map(t)
}

// permRoutes is every route of the /api/v1 router; TestPermissionMatrix
// checks that against the router itself.
var permRoutes = []permRoute{
	{method: "POST", path: "/tickets", body: func(_ *testing.T, p *people, who string) any {
		b := map[string]any{"subject": "filed by " + who, "description": "matrix"}
		if who == asAgent || who == asAdmin {
			b["customer_id"] = p.id(asOwner)
		}
		return b
	}, want: all(http.StatusCreated)},
	{method: "GET", path: "/tickets", want: all(http.StatusOK)},
	{method: "GET", path: "/tickets/my-tickets", want: roles(200, 200, 403, 403)},
	{method: "GET", path: "/tickets/:id", want: roles(200, 404, 200, 200)},
	{method: "PATCH", path: "/tickets/:id", body: fixed(map[string]any{"subject": "edited"}), mutates: true, want: roles(200, 404, 200, 200)},
	{method: "PUT", path: "/tickets/:id", body: fixed(map[string]any{"description": "edited"}), mutates: true, want: roles(200, 404, 200, 200)},
	{method: "DELETE", path: "/tickets/:id", mutates: true, want: roles(403, 404, 403, 204)},
	{method: "POST", path: "/tickets/:id/status", body: fixed(map[string]any{"status": "resolved"}), mutates: true, want: roles(200, 404, 200, 200)},
	{method: "POST", path: "/tickets/:id/assign", body: func(_ *testing.T, p *people, _ string) any {
		return map[string]any{"assignee_id": p.id(asAgent)}
	}, mutates: true, want: roles(403, 404, 200, 200)},
	{method: "POST", path: "/tickets/:id/replies", body: fixed(map[string]any{"body": "a public reply"}), mutates: true, want: roles(201, 404, 201, 201)},
	{method: "GET", path: "/tickets/:id/replies", want: roles(200, 404, 200, 200)},
	{method: "GET", path: "/tickets/:id/events", want: roles(200, 404, 200, 200)},
	{method: "POST", path: "/tickets/:id/time-entries", body: fixed(map[string]any{"minutes": 5}), mutates: true, want: roles(403, 404, 201, 201)},
	{method: "GET", path: "/tickets/:id/time-entries", want: roles(403, 404, 200, 200)},
	{method: "GET", path: "/tickets/:id/sla", want: roles(200, 404, 200, 200)},
	// The shared ticket is open, so a follow-up to it is a 409 for those who
	// can see it; the callers expected to succeed get a closed one.
	{method: "POST", path: "/tickets/:id/follow-up", body: fixed(map[string]any{"description": "it is back"}), mutates: true,
		prepare: func(t *testing.T, p *people, id string) { moveTo(t, id, p.token(asAgent), models.StatusClosed) },
		want:    roles(201, 404, 201, 201)},
	{method: "GET", path: "/sla-policies", want: roles(403, 403, 200, 200)},
	{method: "PUT", path: "/sla-policies/:priority", body: currentPolicy, want: roles(403, 403, 403, 200)},
	{method: "GET", path: "/settings/lifecycle", want: roles(403, 403, 403, 200)},
	{method: "PUT", path: "/settings/lifecycle", body: currentLifecycle, want: roles(403, 403, 403, 200)},
	{method: "GET", path: "/categories", want: all(http.StatusOK)},
	{method: "POST", path: "/categories", body: func(*testing.T, *people, string) any {
		return map[string]any{"name": "matrix " + uuid.NewString()}
	}, want: roles(403, 403, 403, 201)},
	{method: "GET", path: "/users/me", want: all(http.StatusOK)},
	{method: "GET", path: "/users", want: roles(403, 403, 200, 200)},
	{method: "POST", path: "/users", body: func(*testing.T, *people, string) any {
		return map[string]any{"email": "matrix-" + uuid.NewString() + "@example.com", "name": "Matrix", "role": "customer"}
	}, want: roles(403, 403, 403, 201)},
	{method: "PATCH", path: "/users/:id", body: fixed(map[string]any{"name": "Renamed"}), mutates: true, want: roles(403, 403, 403, 200)},
	{method: "GET", path: "/users/:id", want: roles(403, 403, 200, 200)},
	{method: "PUT", path: "/users/me/password", body: func(t *testing.T, p *people, who string) any {
		return map[string]any{"current_password": withPassword(t, p, who), "new_password": "another password"}
	}, want: all(http.StatusNoContent)},
	{method: "POST", path: "/auth/login", public: true, body: func(t *testing.T, p *people, who string) any {
		return map[string]any{"email": p.user(who).Email, "password": withPassword(t, p, who)}
	}, want: all(http.StatusOK)},
	{method: "GET", path: "/categories/:id", want: all(http.StatusOK)},
	{method: "GET", path: "/tickets/:id/replies/:reply_id", want: roles(200, 404, 200, 200)},
	{method: "GET", path: "/tickets/:id/stream", stream: true, want: roles(200, 404, 200, 200)},
	{method: "GET", path: "/stream", stream: true, want: all(http.StatusOK)},
}

// sharedTicket is the ticket the refused cases run against: it has an
// internal note and a time entry, so a leak of either would show.
type sharedTicket struct {
	id, subject, description, note string
	reply                          string // a public reply's id
}

func newSharedTicket(t *testing.T, p *people) sharedTicket {
	t.Helper()
	mark := uuid.NewString()
	s := sharedTicket{
		subject:     "secret-subject-" + mark,
		description: "secret-description-" + mark,
		note:        "secret-internal-note-" + mark,
	}
	s.id = p.fileTicket(t, s.subject, s.description)["id"].(string)
	path := "/api/v1/tickets/" + s.id
	mustDo(t, http.StatusCreated, "POST", path+"/replies", p.token(asAgent), map[string]any{"body": s.note, "internal": true})
	s.reply = mustDo(t, http.StatusCreated, "POST", path+"/replies", p.token(asAgent), map[string]any{"body": "a public answer"}).Map(t)["id"].(string)
	mustDo(t, http.StatusCreated, "POST", path+"/time-entries", p.token(asAgent), map[string]any{"minutes": 7, "note": "looked into it"})
	return s
}

// TestPermissionMatrix runs every /api/v1 route as the ticket's owner,
// another customer, an agent and an admin, and without a usable token.
func TestPermissionMatrix(t *testing.T) {
	p := newPeople(t)
	shared := newSharedTicket(t, p)
	target, _ := stack.NewUser(t, models.RoleAgent) // the user PATCH /users/:id refusals aim at
	inactive := inactiveUser(t, models.RoleAdmin)
	customers := []string{p.id(asOwner), p.id(asOther)}
	category := mustDo(t, http.StatusCreated, "POST", "/api/v1/categories", p.token(asAdmin), map[string]any{"name": "matrix " + uuid.NewString()}).Map(t)["id"].(string)

	t.Run("the table covers every /api/v1 route", func(t *testing.T) {
		var routed, listed []string
		for _, r := range stack.Handler.(*gin.Engine).Routes() {
			if rest, ok := strings.CutPrefix(r.Path, "/api/v1/"); ok {
				routed = append(routed, r.Method+" /"+rest)
			}
		}
		for _, r := range permRoutes {
			listed = append(listed, r.name())
		}
		slices.Sort(routed)
		slices.Sort(listed)
		if !slices.Equal(routed, listed) {
			t.Fatalf("router has\n  %v\nthe permission table has\n  %v", routed, listed)
		}
	})

	for _, rt := range permRoutes {
		for _, who := range []string{asOwner, asOther, asAgent, asAdmin} {
			want := rt.want[who]
			t.Run(rt.name()+"/as "+who, func(t *testing.T) {
				ok := want < 400
				ticketID, userID := shared.id, target.ID
				if ok && rt.mutates {
					if strings.HasPrefix(rt.path, "/users/") {
						u, _ := stack.NewUser(t, models.RoleAgent)
						userID = u.ID
					} else {
						ticketID = p.fileTicket(t, "fresh for "+rt.name(), "fresh")["id"].(string)
						if rt.prepare != nil {
							rt.prepare(t, p, ticketID)
						}
					}
				}
				path := rt.pathFor(matrixIDs{ticket: ticketID, user: userID, category: category, reply: shared.reply})
				var body any
				if rt.body != nil {
					body = rt.body(t, p, who)
				}
				if rt.stream && ok {
					es, r := stack.Stream(t, path, p.token(who))
					if es == nil {
						t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
					}
					es.Close()
					return
				}
				before := stateOf(t, shared.id, customers...)
				var targetBefore models.User
				if err := stack.DB.Take(&targetBefore, "id = ?", target.ID).Error; err != nil {
					t.Fatal(err)
				}

				r := stack.Do(t, rt.method, path, p.token(who), body)

				// Customers never see internal notes; another customer never
				// sees anything of the owner's ticket.
				if who == asOwner || who == asOther {
					if strings.Contains(string(r.Body), shared.note) {
						t.Errorf("a customer was shown the internal note: %s", r.Body)
					}
				}
				if who == asOther {
					for _, s := range []string{shared.subject, shared.description, shared.id} {
						if strings.Contains(string(r.Body), s) {
							t.Errorf("another customer was shown %q: %s", s, r.Body)
						}
					}
				}
				if ok {
					if r.Status != want {
						t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
					}
					return
				}
				assertProblem(t, r, want, shared.subject, shared.description, shared.note)
				assertUnchanged(t, before, shared.id, customers...)
				var targetAfter models.User
				if err := stack.DB.Take(&targetAfter, "id = ?", target.ID).Error; err != nil {
					t.Fatal(err)
				}
				if targetAfter != targetBefore {
					t.Errorf("a refused request changed user %s: %+v → %+v", target.ID, targetBefore, targetAfter)
				}

				// Another customer's ticket looks exactly like one that does
				// not exist.
				if want == http.StatusNotFound {
					ghost := rt.pathFor(matrixIDs{uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()})
					g := stack.Do(t, rt.method, ghost, p.token(who), body)
					assertProblem(t, g, http.StatusNotFound)
					got, gone := problemMap(t, r.Body), problemMap(t, g.Body)
					if fmt.Sprint(got) != fmt.Sprint(gone) {
						t.Errorf("404 for another customer's ticket differs from a missing one's:\n%v\n%v", got, gone)
					}
				}
			})
		}
	}

	// Without a usable token every route is 401, whatever the request would
	// have done: the body is an admin's, which would succeed.
	refused := badTokens(t, p.id(asAdmin), inactive.ID)
	refused = append(refused, badToken{name: "no token"})
	for _, rt := range permRoutes {
		if rt.public {
			continue
		}
		for _, bt := range refused {
			t.Run(rt.name()+"/"+bt.name, func(t *testing.T) {
				path := rt.pathFor(matrixIDs{ticket: shared.id, user: target.ID, category: category, reply: shared.reply})
				var body any
				if rt.body != nil {
					body = rt.body(t, p, asAdmin)
				}
				before := stateOf(t, shared.id, customers...)
				r := stack.Do(t, rt.method, path, bt.token, body)
				assertProblem(t, r, http.StatusUnauthorized, shared.subject, shared.description, shared.note, shared.id)
				if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", h)
				}
				assertUnchanged(t, before, shared.id, customers...)
			})
		}
	}
}

// problemMap is a problem body without the fields that may legitimately
// name the request (instance).
func problemMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("problem body: %v: %s", err, b)
	}
	delete(m, "instance")
	return m
}

// TestPermissionCustomerStatusMoves checks who may move a ticket where:
// customers only resolve their own ticket and reopen a resolved one (other
// moves in the graph 403), moves not in the graph are 409 for everyone.
func TestPermissionCustomerStatusMoves(t *testing.T) {
	p := newPeople(t)
	const (
		sNew, sOpen, sProg, sPend, sHold, sRes, sClosed = models.StatusNew, models.StatusOpen, models.StatusInProgress,
			models.StatusPending, models.StatusOnHold, models.StatusResolved, models.StatusClosed
	)
	cases := []struct {
		name     string
		from     models.Status
		who      string
		to       models.Status
		want     int
		wantType string
	}{
		{"owner resolves a new ticket", sNew, asOwner, sRes, 200, ""},
		{"owner resolves an open ticket", sOpen, asOwner, sRes, 200, ""},
		{"owner resolves an in_progress ticket", sProg, asOwner, sRes, 200, ""},
		{"owner resolves a pending ticket", sPend, asOwner, sRes, 200, ""},
		{"owner resolves an on_hold ticket", sHold, asOwner, sRes, 200, ""},
		{"owner reopens a resolved ticket", sRes, asOwner, sOpen, 200, ""},
		{"owner may not open a new ticket", sNew, asOwner, sOpen, 403, "forbidden"},
		{"owner may not start work", sNew, asOwner, sProg, 403, "forbidden"},
		{"owner may not set pending", sOpen, asOwner, sPend, 403, "forbidden"},
		{"owner may not put on hold", sOpen, asOwner, sHold, 403, "forbidden"},
		{"owner may not reopen a pending ticket", sPend, asOwner, sOpen, 403, "forbidden"},
		{"owner may not reopen an on_hold ticket", sHold, asOwner, sOpen, 403, "forbidden"},
		{"owner may not close a new ticket", sNew, asOwner, sClosed, 403, "forbidden"},
		{"owner may not close a resolved ticket", sRes, asOwner, sClosed, 403, "forbidden"},
		{"owner resolved→pending is not in the graph", sRes, asOwner, sPend, 409, "invalid-transition"},
		{"owner resolved→in_progress is not in the graph", sRes, asOwner, sProg, 409, "invalid-transition"},
		{"owner resolved→resolved is not a transition", sRes, asOwner, sRes, 409, "invalid-transition"},
		{"owner new→new is not a transition", sNew, asOwner, sNew, 409, "invalid-transition"},
		{"owner open→new: nothing returns to new", sOpen, asOwner, sNew, 409, "invalid-transition"},
		{"owner cannot reopen a closed ticket", sClosed, asOwner, sOpen, 409, "ticket-closed"},
		{"another customer cannot resolve it", sNew, asOther, sRes, 404, "not-found"},
		{"another customer cannot reopen it", sRes, asOther, sOpen, 404, "not-found"},
		{"agent starts work", sNew, asAgent, sProg, 200, ""},
		{"agent sets pending on open", sOpen, asAgent, sPend, 200, ""},
		{"agent reopens on_hold", sHold, asAgent, sOpen, 200, ""},
		{"agent closes a resolved ticket", sRes, asAgent, sClosed, 200, ""},
		{"admin closes a new ticket", sNew, asAdmin, sClosed, 200, ""},
		{"agent resolved→pending is not in the graph", sRes, asAgent, sPend, 409, "invalid-transition"},
		{"admin in_progress→new: nothing returns to new", sProg, asAdmin, sNew, 409, "invalid-transition"},
		{"agent pending→pending is not a transition", sPend, asAgent, sPend, 409, "invalid-transition"},
		{"agent cannot reopen a closed ticket", sClosed, asAgent, sOpen, 409, "ticket-closed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := p.fileTicket(t, "move "+c.name, "status moves")
			id := tk["id"].(string)
			moveTo(t, id, p.token(asAgent), c.from)
			before := stateOf(t, id, p.id(asOwner))
			r := stack.Do(t, "POST", "/api/v1/tickets/"+id+"/status", p.token(c.who), map[string]any{"status": c.to})
			if c.want == http.StatusOK {
				if r.Status != c.want {
					t.Fatalf("status %d, want 200: %s", r.Status, r.Body)
				}
				got := r.Map(t)
				if got["status"] != string(c.to) {
					t.Errorf("ticket status %v, want %s", got["status"], c.to)
				}
				role := p.user(c.who).Role
				wantAllowed := fmt.Sprint(models.TransitionsFor(role, c.to))
				if fmt.Sprint(asStrings(got["allowed_transitions"])) != wantAllowed {
					t.Errorf("allowed_transitions %v, want %s", got["allowed_transitions"], wantAllowed)
				}
				return
			}
			prob := assertProblem(t, r, c.want, "status moves")
			if prob["type"] != "urn:ticketd:problem:"+c.wantType {
				t.Errorf("problem type %v, want %s", prob["type"], c.wantType)
			}
			if c.wantType == "invalid-transition" {
				want := fmt.Sprint(models.TransitionsFor(p.user(c.who).Role, c.from))
				if got := fmt.Sprint(asStrings(prob["allowed_transitions"])); got != want {
					t.Errorf("allowed_transitions %s, want %s (the caller's moves from %s)", got, want, c.from)
				}
			}
			assertUnchanged(t, before, id, p.id(asOwner))
		})
	}
}

func asStrings(v any) []models.Status {
	xs, _ := v.([]any)
	out := []models.Status{}
	for _, x := range xs {
		s, _ := x.(string)
		out = append(out, models.Status(s))
	}
	return out
}

// TestPermissionInternalVisibility checks that customers never see internal
// notes, in the ticket, its replies or its timeline, while staff see them.
func TestPermissionInternalVisibility(t *testing.T) {
	p := newPeople(t)
	shared := newSharedTicket(t, p)
	path := "/api/v1/tickets/" + shared.id
	var noteID string
	if err := stack.DB.Model(&models.Reply{}).Where("ticket_id = ? AND internal", shared.id).Select("id").Scan(&noteID).Error; err != nil || noteID == "" {
		t.Fatalf("internal note not stored: %v", err)
	}

	for _, who := range []string{asOwner, asAgent, asAdmin} {
		staff := who != asOwner
		t.Run("GET /tickets/:id as "+who, func(t *testing.T) {
			r := mustDo(t, http.StatusOK, "GET", path, p.token(who), nil)
			var tk struct {
				Replies []models.Reply `json:"replies"`
			}
			r.Decode(t, &tk)
			checkReplies(t, tk.Replies, staff, shared.note)
			if !staff && strings.Contains(string(r.Body), shared.note) {
				t.Errorf("customer sees the note: %s", r.Body)
			}
		})
		t.Run("GET /tickets/:id/replies as "+who, func(t *testing.T) {
			r := mustDo(t, http.StatusOK, "GET", path+"/replies", p.token(who), nil)
			var list struct {
				Items []models.Reply `json:"items"`
			}
			r.Decode(t, &list)
			checkReplies(t, list.Items, staff, shared.note)
			if !staff && strings.Contains(string(r.Body), shared.note) {
				t.Errorf("customer sees the note: %s", r.Body)
			}
		})
		t.Run("GET /tickets/:id/events as "+who, func(t *testing.T) {
			r := mustDo(t, http.StatusOK, "GET", path+"/events", p.token(who), nil)
			var list struct {
				Items []struct {
					Type string         `json:"type"`
					Data map[string]any `json:"data"`
				} `json:"items"`
			}
			r.Decode(t, &list)
			var internalReplies, timeLogged int
			for _, e := range list.Items {
				if e.Type == "replied" && (e.Data["internal"] == true || e.Data["reply_id"] == noteID) {
					internalReplies++
				}
				if e.Type == "time_logged" {
					timeLogged++
				}
			}
			want := 0
			if staff {
				want = 1
			}
			if internalReplies != want || timeLogged != want {
				t.Errorf("%s sees %d internal-note events and %d time_logged events, want %d of each: %s",
					who, internalReplies, timeLogged, want, r.Body)
			}
			if !staff && strings.Contains(string(r.Body), noteID) {
				t.Errorf("customer timeline names the internal note: %s", r.Body)
			}
		})
	}
}

// TestPermissionSLADetail checks that the staff's words in the SLA ledger
// (segment detail) reach agents and admins only.
func TestPermissionSLADetail(t *testing.T) {
	p := newPeople(t)
	id := p.fileTicket(t, "sla detail", "x")["id"].(string)
	reason := "waiting-for-logs-" + uuid.NewString()
	mustDo(t, http.StatusOK, "POST", "/api/v1/tickets/"+id+"/status", p.token(asAgent), map[string]any{"status": "pending", "reason": reason})
	for _, who := range []string{asOwner, asAgent, asAdmin} {
		t.Run(who, func(t *testing.T) {
			r := mustDo(t, http.StatusOK, "GET", "/api/v1/tickets/"+id+"/sla", p.token(who), nil)
			var sla struct {
				Resolution struct {
					Segments []map[string]any `json:"segments"`
				} `json:"resolution"`
			}
			r.Decode(t, &sla)
			details := 0
			for _, seg := range sla.Resolution.Segments {
				if _, ok := seg["detail"]; ok {
					details++
				}
			}
			staff := who != asOwner
			if staff && (details == 0 || !strings.Contains(string(r.Body), reason)) {
				t.Errorf("%s does not see the reason in the ledger: %s", who, r.Body)
			}
			if !staff && details != 0 {
				t.Errorf("customer sees segment details: %s", r.Body)
			}
		})
	}
}

func checkReplies(t *testing.T, rs []models.Reply, staff bool, note string) {
	t.Helper()
	var internal, public int
	for _, r := range rs {
		if r.Internal {
			internal++
			if r.Body != note {
				t.Errorf("unexpected internal reply %q", r.Body)
			}
		} else {
			public++
		}
	}
	wantInternal := 0
	if staff {
		wantInternal = 1
	}
	if internal != wantInternal || public != 1 {
		t.Errorf("replies: %d internal, %d public; want %d internal, 1 public", internal, public, wantInternal)
	}
}

// TestPermissionCustomerListScope checks that customers list only their own
// tickets, whatever they filter on.
func TestPermissionCustomerListScope(t *testing.T) {
	p := newPeople(t)
	mark := uuid.NewString()
	own := map[string]bool{}
	for i := range 2 {
		own[p.fileTicket(t, fmt.Sprintf("own %d %s", i, mark), "scope")["id"].(string)] = true
	}
	othersSubject := "theirs " + mark
	mustCreateTicket(t, p.token(asOther), map[string]any{"subject": othersSubject, "description": "scope"})
	// An agent files one for the other customer too.
	mustCreateTicket(t, p.token(asAgent), map[string]any{"subject": othersSubject + " by agent", "description": "scope", "customer_id": p.id(asOther)})

	ownerTok := p.token(asOwner)
	cases := []struct {
		name, path string
		want       int // number of the owner's tickets expected
	}{
		{"plain list", "/api/v1/tickets?count=true", 2},
		{"customer_id=other", "/api/v1/tickets?count=true&customer_id=" + p.id(asOther), 0},
		{"customer_id=self", "/api/v1/tickets?count=true&customer_id=" + p.id(asOwner), 2},
		{"customer_id=unknown", "/api/v1/tickets?count=true&customer_id=" + uuid.NewString(), 0},
		{"q names the other's subject", "/api/v1/tickets?count=true&q=theirs", 0},
		{"assignee_id=none", "/api/v1/tickets?count=true&assignee_id=none", 2},
		{"my-tickets", "/api/v1/tickets/my-tickets?count=true", 2},
		{"my-tickets q names the other's subject", "/api/v1/tickets/my-tickets?count=true&q=theirs", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustDo(t, http.StatusOK, "GET", c.path, ownerTok, nil)
			var page struct {
				Items []models.Ticket `json:"items"`
				Total *int64          `json:"total"`
			}
			r.Decode(t, &page)
			for _, tk := range page.Items {
				if tk.CustomerID != p.id(asOwner) || !own[tk.ID] {
					t.Errorf("customer listed ticket %s of customer %s", tk.ID, tk.CustomerID)
				}
			}
			if len(page.Items) != c.want || page.Total == nil || *page.Total != int64(c.want) {
				t.Errorf("%d items, total %v; want %d: %s", len(page.Items), page.Total, c.want, r.Body)
			}
			if strings.Contains(string(r.Body), othersSubject) {
				t.Errorf("the other customer's ticket leaked: %s", r.Body)
			}
		})
	}
	t.Run("my-tickets does not take customer_id", func(t *testing.T) {
		r := stack.Do(t, "GET", "/api/v1/tickets/my-tickets?customer_id="+p.id(asOther), ownerTok, nil)
		prob := assertProblem(t, r, http.StatusUnprocessableEntity, othersSubject)
		if !contains(errorFields(prob), "customer_id") {
			t.Errorf("errors %v do not name customer_id", prob["errors"])
		}
	})
	t.Run("staff see both customers", func(t *testing.T) {
		for _, who := range []string{asAgent, asAdmin} {
			for cust, n := range map[string]int{asOwner: 2, asOther: 2} {
				r := mustDo(t, http.StatusOK, "GET", "/api/v1/tickets?count=true&customer_id="+p.id(cust), p.token(who), nil)
				if got := r.Map(t)["total"]; got != float64(n) {
					t.Errorf("%s listing %s's tickets: total %v, want %d", who, cust, got, n)
				}
			}
		}
	})
}

// TestPermissionRoleRefusals covers the role rules inside otherwise allowed
// routes: customers' internal replies, customers' edits of staff fields,
// tickets filed for someone else.
func TestPermissionRoleRefusals(t *testing.T) {
	p := newPeople(t)
	shared := newSharedTicket(t, p)
	cat := mustDo(t, http.StatusCreated, "POST", "/api/v1/categories", p.token(asAdmin), map[string]any{"name": "refusals " + uuid.NewString()}).Map(t)["id"]
	path := "/api/v1/tickets/" + shared.id
	customers := []string{p.id(asOwner), p.id(asOther)}
	cases := []struct {
		name, method, path, who string
		body                    any
		want                    int
	}{
		{"owner posts an internal reply", "POST", path + "/replies", asOwner, map[string]any{"body": "psst", "internal": true}, 403},
		{"owner patches priority", "PATCH", path, asOwner, map[string]any{"priority": "urgent"}, 403},
		{"owner patches category_id", "PATCH", path, asOwner, map[string]any{"category_id": cat}, 403},
		{"owner clears category_id", "PATCH", path, asOwner, map[string]any{"category_id": nil}, 403},
		{"owner patches subject and priority", "PATCH", path, asOwner, map[string]any{"subject": "mine", "priority": "urgent"}, 403},
		{"owner puts priority", "PUT", path, asOwner, map[string]any{"priority": "low"}, 403},
		{"other customer patches subject", "PATCH", path, asOther, map[string]any{"subject": "hijack"}, 404},
		{"other customer posts an internal reply", "POST", path + "/replies", asOther, map[string]any{"body": "psst", "internal": true}, 404},
		{"customer files a ticket for another customer", "POST", "/api/v1/tickets", asOwner,
			map[string]any{"subject": "for you", "description": "x", "customer_id": p.id(asOther)}, 403},
		{"owner deletes own ticket", "DELETE", path, asOwner, nil, 403},
		{"agent deletes a ticket", "DELETE", path, asAgent, nil, 403},
		{"agent creates a category", "POST", "/api/v1/categories", asAgent, map[string]any{"name": "agents " + uuid.NewString()}, 403},
		{"agent creates a user", "POST", "/api/v1/users", asAgent, map[string]any{"email": uuid.NewString() + "@example.com", "name": "X", "role": "admin"}, 403},
		{"agent promotes themself", "PATCH", "/api/v1/users/" + p.id(asAgent), asAgent, map[string]any{"role": "admin"}, 403},
		{"customer makes themself an agent", "PATCH", "/api/v1/users/" + p.id(asOwner), asOwner, map[string]any{"role": "agent"}, 403},
		{"customer lists users", "GET", "/api/v1/users", asOwner, nil, 403},
		{"agent patches a user that does not exist: role first", "PATCH", "/api/v1/users/" + uuid.NewString(), asAgent, map[string]any{"name": "x"}, 403},
		{"customer patches a non-uuid user: role first", "PATCH", "/api/v1/users/nobody", asOwner, map[string]any{"name": "x"}, 403},
		{"agent lists my-tickets", "GET", "/api/v1/tickets/my-tickets", asAgent, nil, 403},
		{"admin lists my-tickets", "GET", "/api/v1/tickets/my-tickets", asAdmin, nil, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := stateOf(t, shared.id, customers...)
			usersBefore := usersOf(t, p)
			r := stack.Do(t, c.method, c.path, p.token(c.who), c.body)
			assertProblem(t, r, c.want, shared.subject, shared.description, shared.note)
			assertUnchanged(t, before, shared.id, customers...)
			if got := usersOf(t, p); fmt.Sprint(got) != fmt.Sprint(usersBefore) {
				t.Errorf("users changed: %v → %v", usersBefore, got)
			}
		})
	}
	t.Run("staff file for a customer and the owner files for themself", func(t *testing.T) {
		mustCreateTicket(t, p.token(asOwner), map[string]any{"subject": "mine", "description": "x", "customer_id": p.id(asOwner)})
		for _, who := range []string{asAgent, asAdmin} {
			tk := mustCreateTicket(t, p.token(who), map[string]any{"subject": "for owner", "description": "x", "customer_id": p.id(asOwner)})
			if tk["customer_id"] != p.id(asOwner) || tk["created_by"] != p.id(who) {
				t.Errorf("ticket filed by %s: customer %v, created_by %v", who, tk["customer_id"], tk["created_by"])
			}
		}
	})
	t.Run("staff may edit priority and category", func(t *testing.T) {
		for _, who := range []string{asAgent, asAdmin} {
			id := p.fileTicket(t, "staff edit", "x")["id"].(string)
			r := mustDo(t, http.StatusOK, "PATCH", "/api/v1/tickets/"+id, p.token(who), map[string]any{"priority": "urgent", "category_id": cat})
			if got := r.Map(t); got["priority"] != "urgent" || got["category_id"] != cat {
				t.Errorf("%s edit: %s", who, r.Body)
			}
		}
	})
	t.Run("staff may post internal replies", func(t *testing.T) {
		for _, who := range []string{asAgent, asAdmin} {
			r := mustDo(t, http.StatusCreated, "POST", path+"/replies", p.token(who), map[string]any{"body": "staff note", "internal": true})
			if r.Map(t)["internal"] != true {
				t.Errorf("%s internal reply: %s", who, r.Body)
			}
		}
	})
}

// TestPermissionNoExistenceOracle checks that nothing a customer can send
// tells another customer's ticket, or a deleted one, from one that never
// existed.
func TestPermissionNoExistenceOracle(t *testing.T) {
	p := newPeople(t)
	shared := newSharedTicket(t, p)
	deleted := p.fileTicket(t, "to be deleted", "x")["id"].(string)
	mustDo(t, http.StatusNoContent, "DELETE", "/api/v1/tickets/"+deleted, p.token(asAdmin), nil)
	bodies := []struct {
		name string
		body any
	}{
		{"no body", nil},
		{"malformed JSON", `{"oops`},
		{"unknown field", map[string]any{"colour": "red"}},
		{"invalid values", map[string]any{"status": "done", "body": "", "minutes": 0, "assignee_id": "x"}},
		{"empty object", map[string]any{}},
	}
	cases := []struct {
		name, who, id string
	}{
		{"another customer's ticket", asOther, shared.id},
		{"a deleted ticket (owner)", asOwner, deleted},
		{"a deleted ticket (agent)", asAgent, deleted},
	}
	for _, rt := range permRoutes {
		if !strings.Contains(rt.path, "/tickets/:id") {
			continue
		}
		for _, c := range cases {
			for _, b := range bodies {
				t.Run(rt.name()+"/"+c.name+"/"+b.name, func(t *testing.T) {
					before := stateOf(t, shared.id, p.id(asOwner), p.id(asOther))
					r := stack.Do(t, rt.method, "/api/v1"+strings.Replace(rt.path, ":id", c.id, 1), p.token(c.who), b.body)
					g := stack.Do(t, rt.method, "/api/v1"+strings.Replace(rt.path, ":id", uuid.NewString(), 1), p.token(c.who), b.body)
					assertProblem(t, r, g.Status, shared.subject, shared.description, shared.note)
					if fmt.Sprint(problemMap(t, r.Body)) != fmt.Sprint(problemMap(t, g.Body)) {
						t.Errorf("answers differ from a missing ticket's:\n%s\n%s", r.Body, g.Body)
					}
					if r.Status != http.StatusNotFound {
						t.Errorf("status %d, want 404", r.Status)
					}
					assertUnchanged(t, before, shared.id, p.id(asOwner), p.id(asOther))
				})
			}
		}
	}
}

func usersOf(t *testing.T, p *people) []models.User {
	t.Helper()
	var us []models.User
	ids := []string{p.id(asOwner), p.id(asOther), p.id(asAgent), p.id(asAdmin)}
	if err := stack.DB.Where("id IN ?", ids).Order("id").Find(&us).Error; err != nil {
		t.Fatal(err)
	}
	return us
}
