package api_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/ticketd/ticketd/models"
)

// badInput is a request the API must refuse with want, naming field in
// errors on a 422, and without writing anything.
type badInput struct {
	name    string
	who     string
	method  string
	path    string // under /api/v1; ":id" is the ticket in focus
	body    any    // a string is sent as is
	headers []string
	want    int
	field   string // for 422: a field errors must name
}

func runBadInputs(t *testing.T, p *people, ticketID string, cases []badInput) {
	t.Helper()
	customers := []string{p.id(asOwner), p.id(asOther)}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := "/api/v1" + strings.Replace(c.path, ":id", ticketID, 1)
			before := stateOf(t, ticketID, customers...)
			r := stack.Do(t, c.method, path, p.token(c.who), c.body, c.headers...)
			prob := assertProblem(t, r, c.want)
			if c.want == http.StatusUnprocessableEntity {
				if fields := errorFields(prob); !contains(fields, c.field) {
					t.Errorf("errors name %q, want %q: %s", fields, c.field, r.Body)
				}
			}
			assertUnchanged(t, before, ticketID, customers...)
		})
	}
}

// TestValidationTicketWrites sends malformed and invalid bodies to every
// ticket write and checks the status, the problem and that nothing changed.
func TestValidationTicketWrites(t *testing.T) {
	p := newPeople(t)
	id := p.fileTicket(t, "validation target", "the ticket bad requests aim at")["id"].(string)
	inactiveAgent := inactiveUser(t, models.RoleAgent)
	long := func(n int) string { return strings.Repeat("é", n) } // characters, not bytes
	with := func(k string, v any) map[string]any {
		m := map[string]any{"subject": "s", "description": "d"}
		m[k] = v
		return m
	}

	cases := []badInput{
		// POST /tickets: shape (400).
		{name: "create: malformed JSON", who: asOwner, method: "POST", path: "/tickets", body: `{"subject": "a",`, want: 400},
		{name: "create: not JSON", who: asOwner, method: "POST", path: "/tickets", body: `subject=a&description=b`, want: 400},
		{name: "create: empty body", who: asOwner, method: "POST", path: "/tickets", body: ``, want: 400},
		{name: "create: whitespace body", who: asOwner, method: "POST", path: "/tickets", body: " \n ", want: 400},
		{name: "create: body is an array", who: asOwner, method: "POST", path: "/tickets", body: `[]`, want: 400},
		{name: "create: body is a string", who: asOwner, method: "POST", path: "/tickets", body: `"hello"`, want: 400},
		{name: "create: body is null", who: asOwner, method: "POST", path: "/tickets", body: `null`, want: 400},
		{name: "create: trailing data", who: asOwner, method: "POST", path: "/tickets", body: `{"subject":"a","description":"b"} {}`, want: 400},
		{name: "create: subject is a number", who: asOwner, method: "POST", path: "/tickets", body: `{"subject": 5, "description": "b"}`, want: 400},
		{name: "create: priority is a number", who: asOwner, method: "POST", path: "/tickets", body: `{"subject": "a", "description": "b", "priority": 3}`, want: 400},
		{name: "create: category_id is an object", who: asOwner, method: "POST", path: "/tickets", body: `{"subject": "a", "description": "b", "category_id": {}}`, want: 400},
		{name: "create: unknown field", who: asOwner, method: "POST", path: "/tickets", body: with("colour", "red"), want: 400},
		{name: "create: status is not a create field", who: asOwner, method: "POST", path: "/tickets", body: with("status", "closed"), want: 400},
		{name: "create: subject null", who: asOwner, method: "POST", path: "/tickets", body: `{"subject": null, "description": "b"}`, want: 400},
		{name: "create: priority null", who: asOwner, method: "POST", path: "/tickets", body: `{"subject": "a", "description": "b", "priority": null}`, want: 400},
		// POST /tickets: values (422).
		{name: "create: subject missing", who: asOwner, method: "POST", path: "/tickets", body: map[string]any{"description": "d"}, want: 422, field: "subject"},
		{name: "create: subject empty", who: asOwner, method: "POST", path: "/tickets", body: with("subject", ""), want: 422, field: "subject"},
		{name: "create: subject blank", who: asOwner, method: "POST", path: "/tickets", body: with("subject", " \t "), want: 422, field: "subject"},
		{name: "create: subject 201 characters", who: asOwner, method: "POST", path: "/tickets", body: with("subject", long(201)), want: 422, field: "subject"},
		{name: "create: description missing", who: asOwner, method: "POST", path: "/tickets", body: map[string]any{"subject": "s"}, want: 422, field: "description"},
		{name: "create: description 10001 characters", who: asOwner, method: "POST", path: "/tickets", body: with("description", long(10001)), want: 422, field: "description"},
		{name: "create: bad priority", who: asOwner, method: "POST", path: "/tickets", body: with("priority", "critical"), want: 422, field: "priority"},
		{name: "create: priority in capitals", who: asOwner, method: "POST", path: "/tickets", body: with("priority", "HIGH"), want: 422, field: "priority"},
		{name: "create: category_id not a uuid", who: asOwner, method: "POST", path: "/tickets", body: with("category_id", "billing"), want: 422, field: "category_id"},
		{name: "create: unknown category", who: asOwner, method: "POST", path: "/tickets", body: with("category_id", uuid.NewString()), want: 422, field: "category_id"},
		{name: "create: agent without customer_id", who: asAgent, method: "POST", path: "/tickets", body: with("subject", "for whom?"), want: 422, field: "customer_id"},
		{name: "create: agent names an unknown customer", who: asAgent, method: "POST", path: "/tickets", body: with("customer_id", uuid.NewString()), want: 422, field: "customer_id"},
		{name: "create: agent names an agent as customer", who: asAgent, method: "POST", path: "/tickets", body: with("customer_id", p.id(asAgent)), want: 422, field: "customer_id"},
		{name: "create: admin names a non-uuid customer", who: asAdmin, method: "POST", path: "/tickets", body: with("customer_id", "bob"), want: 422, field: "customer_id"},
		// Idempotency-Key (400).
		{name: "create: Idempotency-Key empty", who: asOwner, method: "POST", path: "/tickets", body: with("subject", "keyed"), headers: []string{"Idempotency-Key", ""}, want: 400},
		{name: "create: Idempotency-Key 256 characters", who: asOwner, method: "POST", path: "/tickets", body: with("subject", "keyed"), headers: []string{"Idempotency-Key", strings.Repeat("k", 256)}, want: 400},
		{name: "create: Idempotency-Key with a tab", who: asOwner, method: "POST", path: "/tickets", body: with("subject", "keyed"), headers: []string{"Idempotency-Key", "a\tb"}, want: 400},
		{name: "create: Idempotency-Key not ASCII", who: asOwner, method: "POST", path: "/tickets", body: with("subject", "keyed"), headers: []string{"Idempotency-Key", "clé"}, want: 400},

		// PATCH/PUT /tickets/:id.
		{name: "edit: malformed JSON", who: asOwner, method: "PATCH", path: "/tickets/:id", body: `{"subject":`, want: 400},
		{name: "edit: empty body", who: asOwner, method: "PATCH", path: "/tickets/:id", body: ``, want: 400},
		{name: "edit: subject is a boolean", who: asOwner, method: "PATCH", path: "/tickets/:id", body: `{"subject": true}`, want: 400},
		{name: "edit: unknown field", who: asOwner, method: "PATCH", path: "/tickets/:id", body: map[string]any{"subject": "x", "colour": "red"}, want: 400},
		{name: "edit: status is not editable", who: asAgent, method: "PATCH", path: "/tickets/:id", body: map[string]any{"status": "closed"}, want: 400},
		{name: "edit: assignee is not editable", who: asAgent, method: "PUT", path: "/tickets/:id", body: map[string]any{"assignee_id": p.id(asAgent)}, want: 400},
		{name: "edit: empty object", who: asOwner, method: "PATCH", path: "/tickets/:id", body: map[string]any{}, want: 422, field: ""},
		{name: "edit: subject 201 characters", who: asOwner, method: "PATCH", path: "/tickets/:id", body: map[string]any{"subject": long(201)}, want: 422, field: "subject"},
		{name: "edit: subject blank", who: asOwner, method: "PUT", path: "/tickets/:id", body: map[string]any{"subject": "   "}, want: 422, field: "subject"},
		{name: "edit: subject null", who: asOwner, method: "PATCH", path: "/tickets/:id", body: `{"subject": null}`, want: 400},
		{name: "edit: subject null next to a real change", who: asOwner, method: "PATCH", path: "/tickets/:id", body: `{"subject": null, "description": "changed"}`, want: 400},
		{name: "edit: description 10001 characters", who: asOwner, method: "PATCH", path: "/tickets/:id", body: map[string]any{"description": long(10001)}, want: 422, field: "description"},
		{name: "edit: bad priority", who: asAgent, method: "PATCH", path: "/tickets/:id", body: map[string]any{"priority": "asap"}, want: 422, field: "priority"},
		{name: "edit: unknown category", who: asAgent, method: "PATCH", path: "/tickets/:id", body: map[string]any{"category_id": uuid.NewString()}, want: 422, field: "category_id"},
		{name: "edit: stale If-Match", who: asOwner, method: "PATCH", path: "/tickets/:id", body: map[string]any{"subject": "x"}, headers: []string{"If-Match", `"99"`}, want: 412},

		// POST /tickets/:id/status.
		{name: "status: malformed JSON", who: asAgent, method: "POST", path: "/tickets/:id/status", body: `{"status"`, want: 400},
		{name: "status: status is a number", who: asAgent, method: "POST", path: "/tickets/:id/status", body: `{"status": 1}`, want: 400},
		{name: "status: unknown field", who: asAgent, method: "POST", path: "/tickets/:id/status", body: map[string]any{"status": "open", "why": "x"}, want: 400},
		{name: "status: empty body", who: asAgent, method: "POST", path: "/tickets/:id/status", body: ``, want: 400},
		{name: "status: status null", who: asAgent, method: "POST", path: "/tickets/:id/status", body: `{"status": null}`, want: 400},
		{name: "status: missing", who: asAgent, method: "POST", path: "/tickets/:id/status", body: map[string]any{}, want: 422, field: "status"},
		{name: "status: bad enum", who: asAgent, method: "POST", path: "/tickets/:id/status", body: map[string]any{"status": "done"}, want: 422, field: "status"},
		{name: "status: reason 501 characters", who: asAgent, method: "POST", path: "/tickets/:id/status", body: map[string]any{"status": "open", "reason": long(501)}, want: 422, field: "reason"},

		// POST /tickets/:id/assign.
		{name: "assign: malformed JSON", who: asAgent, method: "POST", path: "/tickets/:id/assign", body: `{`, want: 400},
		{name: "assign: assignee_id is a number", who: asAgent, method: "POST", path: "/tickets/:id/assign", body: `{"assignee_id": 7}`, want: 400},
		{name: "assign: unknown field", who: asAgent, method: "POST", path: "/tickets/:id/assign", body: map[string]any{"assignee": p.id(asAgent)}, want: 400},
		{name: "assign: missing", who: asAgent, method: "POST", path: "/tickets/:id/assign", body: map[string]any{}, want: 422, field: "assignee_id"},
		{name: "assign: not a uuid", who: asAgent, method: "POST", path: "/tickets/:id/assign", body: map[string]any{"assignee_id": "dana"}, want: 422, field: "assignee_id"},
		{name: "assign: unknown user", who: asAgent, method: "POST", path: "/tickets/:id/assign", body: map[string]any{"assignee_id": uuid.NewString()}, want: 422, field: "assignee_id"},
		{name: "assign: a customer", who: asAgent, method: "POST", path: "/tickets/:id/assign", body: map[string]any{"assignee_id": p.id(asOwner)}, want: 422, field: "assignee_id"},
		{name: "assign: an inactive agent", who: asAdmin, method: "POST", path: "/tickets/:id/assign", body: map[string]any{"assignee_id": inactiveAgent.ID}, want: 422, field: "assignee_id"},

		// POST /tickets/:id/replies.
		{name: "reply: malformed JSON", who: asOwner, method: "POST", path: "/tickets/:id/replies", body: `{"body": "x"`, want: 400},
		{name: "reply: internal is a string", who: asAgent, method: "POST", path: "/tickets/:id/replies", body: `{"body": "x", "internal": "yes"}`, want: 400},
		{name: "reply: unknown field", who: asOwner, method: "POST", path: "/tickets/:id/replies", body: map[string]any{"body": "x", "attachments": []string{}}, want: 400},
		{name: "reply: empty body", who: asOwner, method: "POST", path: "/tickets/:id/replies", body: ``, want: 400},
		{name: "reply: internal null", who: asAgent, method: "POST", path: "/tickets/:id/replies", body: `{"body": "x", "internal": null}`, want: 400},
		{name: "reply: body missing", who: asOwner, method: "POST", path: "/tickets/:id/replies", body: map[string]any{}, want: 422, field: "body"},
		{name: "reply: body blank", who: asOwner, method: "POST", path: "/tickets/:id/replies", body: map[string]any{"body": "\n\n"}, want: 422, field: "body"},
		{name: "reply: body 20001 characters", who: asAgent, method: "POST", path: "/tickets/:id/replies", body: map[string]any{"body": long(20001)}, want: 422, field: "body"},

		// POST /tickets/:id/time-entries.
		{name: "time: minutes is a string", who: asAgent, method: "POST", path: "/tickets/:id/time-entries", body: `{"minutes": "5"}`, want: 400},
		{name: "time: minutes is fractional", who: asAgent, method: "POST", path: "/tickets/:id/time-entries", body: `{"minutes": 1.5}`, want: 400},
		{name: "time: unknown field", who: asAgent, method: "POST", path: "/tickets/:id/time-entries", body: map[string]any{"minutes": 5, "hours": 1}, want: 400},
		{name: "time: minutes missing", who: asAgent, method: "POST", path: "/tickets/:id/time-entries", body: map[string]any{}, want: 422, field: "minutes"},
		{name: "time: zero minutes", who: asAgent, method: "POST", path: "/tickets/:id/time-entries", body: map[string]any{"minutes": 0}, want: 422, field: "minutes"},
		{name: "time: 1441 minutes", who: asAgent, method: "POST", path: "/tickets/:id/time-entries", body: map[string]any{"minutes": 1441}, want: 422, field: "minutes"},
		{name: "time: note 1001 characters", who: asAgent, method: "POST", path: "/tickets/:id/time-entries", body: map[string]any{"minutes": 5, "note": long(1001)}, want: 422, field: "note"},
	}
	runBadInputs(t, p, id, cases)

	t.Run("edit: weak If-Match never matches", func(t *testing.T) {
		before := stateOf(t, id, p.id(asOwner))
		r := stack.Do(t, "PATCH", "/api/v1/tickets/"+id, p.token(asOwner), map[string]any{"subject": "weakly matched"},
			"If-Match", fmt.Sprintf(`W/"%d"`, before.Version))
		assertProblem(t, r, http.StatusPreconditionFailed)
		assertUnchanged(t, before, id, p.id(asOwner))
	})
	t.Run("edit: the current strong ETag matches", func(t *testing.T) {
		v := stateOf(t, id, p.id(asOwner)).Version
		mustDo(t, http.StatusOK, "PATCH", "/api/v1/tickets/"+id, p.token(asOwner), map[string]any{"subject": "strongly matched"},
			"If-Match", fmt.Sprintf(`"%d"`, v))
	})

	// A valid request on the same ticket still works, so the refusals above
	// were about their input.
	t.Run("the limits themselves are accepted", func(t *testing.T) {
		tk := mustCreateTicket(t, p.token(asOwner), map[string]any{"subject": long(200), "description": long(10000)})
		tid := tk["id"].(string)
		mustDo(t, http.StatusCreated, "POST", "/api/v1/tickets/"+tid+"/replies", p.token(asOwner), map[string]any{"body": long(20000)})
		mustDo(t, http.StatusCreated, "POST", "/api/v1/tickets/"+tid+"/time-entries", p.token(asAgent), map[string]any{"minutes": 1440, "note": long(1000)})
		mustDo(t, http.StatusOK, "POST", "/api/v1/tickets/"+tid+"/status", p.token(asAgent), map[string]any{"status": "pending", "reason": long(500)})
	})
}

// TestValidationIdempotencyKeyReuse checks that a key reused with another
// body is 422 and creates nothing, and that a replay creates nothing either.
func TestValidationIdempotencyKeyReuse(t *testing.T) {
	p := newPeople(t)
	key := uuid.NewString()
	body := map[string]any{"subject": "keyed", "description": "once"}
	first := mustCreateTicket(t, p.token(asOwner), body, "Idempotency-Key", key)
	before := stateOf(t, first["id"].(string), p.id(asOwner))

	r := stack.Do(t, "POST", "/api/v1/tickets", p.token(asOwner), body, "Idempotency-Key", key)
	if r.Status != http.StatusCreated || r.Map(t)["id"] != first["id"] || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay: %d %v %s", r.Status, r.Header, r.Body)
	}
	assertUnchanged(t, before, first["id"].(string), p.id(asOwner))

	r = stack.Do(t, "POST", "/api/v1/tickets", p.token(asOwner), map[string]any{"subject": "keyed", "description": "twice"}, "Idempotency-Key", key)
	prob := assertProblem(t, r, http.StatusUnprocessableEntity)
	if !contains(errorFields(prob), "Idempotency-Key") {
		t.Errorf("errors %v do not name Idempotency-Key", prob["errors"])
	}
	assertUnchanged(t, before, first["id"].(string), p.id(asOwner))
}

// TestValidationNonUUIDTicketID checks that a ticket id that is not a UUID
// is a 404 on every ticket route, for every role.
func TestValidationNonUUIDTicketID(t *testing.T) {
	p := newPeople(t)
	routes := []struct {
		method, path string
		body         any
	}{
		{"GET", "", nil},
		{"PATCH", "", map[string]any{"subject": "x"}},
		{"PUT", "", map[string]any{"subject": "x"}},
		{"DELETE", "", nil},
		{"POST", "/status", map[string]any{"status": "resolved"}},
		{"POST", "/assign", map[string]any{"assignee_id": nil}},
		{"POST", "/replies", map[string]any{"body": "x"}},
		{"GET", "/replies", nil},
		{"GET", "/events", nil},
		{"POST", "/time-entries", map[string]any{"minutes": 1}},
		{"GET", "/time-entries", nil},
		{"GET", "/sla", nil},
		{"POST", "/follow-up", map[string]any{"description": "x"}},
	}
	ids := []string{"42", "not-a-uuid", strings.Repeat("a", 36), "0b8a4c2e1f3d4e5a9b6c7d8e9f0a1b2c", "{0b8a4c2e-1f3d-4e5a-9b6c-7d8e9f0a1b2c}"}
	for _, rt := range routes {
		for _, id := range ids {
			for _, who := range []string{asOwner, asAdmin} {
				t.Run(rt.method+" "+rt.path+"/"+id+"/as "+who, func(t *testing.T) {
					before := stateOf(t, "", p.id(asOwner))
					r := stack.Do(t, rt.method, "/api/v1/tickets/"+url.PathEscape(id)+rt.path, p.token(who), rt.body)
					assertProblem(t, r, http.StatusNotFound)
					assertUnchanged(t, before, "", p.id(asOwner))
				})
			}
		}
	}
}

// TestValidationListFilters checks the ticket and user list parameters.
func TestValidationListFilters(t *testing.T) {
	p := newPeople(t)
	for i := range 3 {
		p.fileTicket(t, "filter "+string(rune('a'+i)), "x")
	}
	owner := p.id(asOwner)
	// A real cursor for sort=created_at, to replay with another sort.
	r := mustDo(t, http.StatusOK, "GET", "/api/v1/tickets?limit=1&sort=created_at&customer_id="+owner, p.token(asAgent), nil)
	cursor, _ := r.Map(t)["next_cursor"].(string)
	if cursor == "" {
		t.Fatalf("no next_cursor: %s", r.Body)
	}
	r = mustDo(t, http.StatusOK, "GET", "/api/v1/users?limit=1", p.token(asAgent), nil)
	userCursor, _ := r.Map(t)["next_cursor"].(string)
	if userCursor == "" {
		t.Fatalf("no users next_cursor: %s", r.Body)
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

	cases := []struct {
		name, path string
		want       int
		field      string
	}{
		{"status unknown", "/tickets?status=done", 422, "status"},
		{"status one bad in a list", "/tickets?status=open,done", 422, "status"},
		{"priority unknown", "/tickets?priority=critical", 422, "priority"},
		{"assignee_id not a uuid", "/tickets?assignee_id=dana", 422, "assignee_id"},
		{"customer_id not a uuid", "/tickets?customer_id=42", 422, "customer_id"},
		{"category_id not a uuid", "/tickets?category_id=billing", 422, "category_id"},
		{"q empty", "/tickets?q=", 422, "q"},
		{"q 201 characters", "/tickets?q=" + strings.Repeat("x", 201), 422, "q"},
		{"created_after not a time", "/tickets?created_after=yesterday", 422, "created_after"},
		{"created_before a date only", "/tickets?created_before=2026-01-01", 422, "created_before"},
		{"sort unknown", "/tickets?sort=subject", 422, "sort"},
		{"sort with a plus", "/tickets?sort=%2Bcreated_at", 422, "sort"},
		{"limit 0", "/tickets?limit=0", 422, "limit"},
		{"limit 101", "/tickets?limit=101", 422, "limit"},
		{"limit not a number", "/tickets?limit=ten", 422, "limit"},
		{"count not a boolean", "/tickets?count=maybe", 422, "count"},
		{"unknown parameter", "/tickets?colour=red", 422, "colour"},
		{"my-tickets status unknown", "/tickets/my-tickets?status=done", 422, "status"},
		{"cursor garbage", "/tickets?cursor=!!!", 400, ""},
		{"cursor not JSON", "/tickets?cursor=" + b64("hello"), 400, ""},
		{"cursor JSON without a position", "/tickets?cursor=" + b64(`{"s":"-created_at"}`), 400, ""},
		{"cursor from another sort", "/tickets?sort=-created_at&cursor=" + cursor, 400, ""},
		{"cursor from another sort (default)", "/tickets?cursor=" + cursor, 400, ""},
		{"cursor from another sort (priority)", "/tickets?sort=priority&cursor=" + cursor, 400, ""},
		{"cursor from the users list", "/tickets?sort=created_at&cursor=" + userCursor, 400, ""},
		{"users: ticket cursor", "/users?cursor=" + cursor, 400, ""},
		{"users: cursor garbage", "/users?cursor=%25%25", 400, ""},
		{"users: role unknown", "/users?role=boss", 422, "role"},
		{"users: active not a boolean", "/users?active=sometimes", 422, "active"},
		{"users: limit 0", "/users?limit=0", 422, "limit"},
		{"users: unknown parameter", "/users?email=x", 422, "email"},
		{"status empty", "/tickets?status=", 422, "status"},
		{"status only commas", "/tickets?status=,", 422, "status"},
		{"limit empty", "/tickets?limit=", 422, "limit"},
		{"sort empty", "/tickets?sort=", 422, "sort"},
		{"customer_id empty", "/tickets?customer_id=", 422, "customer_id"},
		{"created_after empty", "/tickets?created_after=", 422, "created_after"},
		{"status repeated, the second one bad", "/tickets?status=open&status=done", 422, "status"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok := p.token(asAgent)
			if strings.HasPrefix(c.path, "/tickets/my-tickets") {
				tok = p.token(asOwner)
			}
			r := stack.Do(t, "GET", "/api/v1"+c.path, tok, nil)
			prob := assertProblem(t, r, c.want)
			if c.want == http.StatusUnprocessableEntity && !contains(errorFields(prob), c.field) {
				t.Errorf("errors name %v, want %q", errorFields(prob), c.field)
			}
		})
	}
	t.Run("the cursor works with its own sort", func(t *testing.T) {
		mustDo(t, http.StatusOK, "GET", "/api/v1/tickets?sort=created_at&customer_id="+owner+"&cursor="+cursor, p.token(asAgent), nil)
	})
	t.Run("every bad parameter is listed", func(t *testing.T) {
		r := stack.Do(t, "GET", "/api/v1/tickets?status=done&limit=0&sort=x", p.token(asAgent), nil)
		prob := assertProblem(t, r, http.StatusUnprocessableEntity)
		for _, f := range []string{"status", "limit", "sort"} {
			if !contains(errorFields(prob), f) {
				t.Errorf("errors %v do not name %s", errorFields(prob), f)
			}
		}
	})
}

// TestValidationUsersAndCategories checks the admin writes.
func TestValidationUsersAndCategories(t *testing.T) {
	p := newPeople(t)
	taken := "taken-" + uuid.NewString() + "@example.com"
	mustDo(t, http.StatusCreated, "POST", "/api/v1/users", p.token(asAdmin), map[string]any{"email": taken, "name": "Taken", "role": "agent"})
	catName := "Billing " + uuid.NewString()
	mustDo(t, http.StatusCreated, "POST", "/api/v1/categories", p.token(asAdmin), map[string]any{"name": catName})
	user := func(k string, v any) map[string]any {
		m := map[string]any{"email": uuid.NewString() + "@example.com", "name": "N", "role": "customer"}
		m[k] = v
		return m
	}
	target := "/users/" + p.id(asAgent)
	cases := []badInput{
		{name: "user: malformed JSON", who: asAdmin, method: "POST", path: "/users", body: `{"email":`, want: 400},
		{name: "user: unknown field", who: asAdmin, method: "POST", path: "/users", body: user("password", "hunter2"), want: 400},
		{name: "user: active is a string", who: asAdmin, method: "POST", path: "/users", body: user("active", "yes"), want: 400},
		{name: "user: empty body", who: asAdmin, method: "POST", path: "/users", body: ``, want: 400},
		{name: "user: bad email", who: asAdmin, method: "POST", path: "/users", body: user("email", "not-an-email"), want: 422, field: "email"},
		{name: "user: email with a display name", who: asAdmin, method: "POST", path: "/users", body: user("email", "Dana <dana@example.com>"), want: 422, field: "email"},
		{name: "user: bad role", who: asAdmin, method: "POST", path: "/users", body: user("role", "root"), want: 422, field: "role"},
		{name: "user: name missing", who: asAdmin, method: "POST", path: "/users", body: map[string]any{"email": uuid.NewString() + "@example.com", "role": "agent"}, want: 422, field: "name"},
		{name: "user: duplicate email", who: asAdmin, method: "POST", path: "/users", body: user("email", taken), want: 409},
		{name: "user: duplicate email in capitals", who: asAdmin, method: "POST", path: "/users", body: user("email", strings.ToUpper(taken)), want: 409},
		{name: "user patch: empty object", who: asAdmin, method: "PATCH", path: target, body: map[string]any{}, want: 422, field: ""},
		{name: "user patch: bad role", who: asAdmin, method: "PATCH", path: target, body: map[string]any{"role": "boss"}, want: 422, field: "role"},
		{name: "user patch: unknown field", who: asAdmin, method: "PATCH", path: target, body: map[string]any{"id": uuid.NewString()}, want: 400},
		{name: "user patch: taken email", who: asAdmin, method: "PATCH", path: target, body: map[string]any{"email": taken}, want: 409},
		{name: "user patch: admin demotes themself", who: asAdmin, method: "PATCH", path: "/users/" + p.id(asAdmin), body: map[string]any{"role": "agent"}, want: 422, field: "role"},
		{name: "user patch: admin deactivates themself", who: asAdmin, method: "PATCH", path: "/users/" + p.id(asAdmin), body: map[string]any{"active": false}, want: 422, field: "role"},
		{name: "user patch: non-uuid id", who: asAdmin, method: "PATCH", path: "/users/dana", body: map[string]any{"name": "x"}, want: 404},
		{name: "user patch: unknown id", who: asAdmin, method: "PATCH", path: "/users/" + uuid.NewString(), body: map[string]any{"name": "x"}, want: 404},
		{name: "category: malformed JSON", who: asAdmin, method: "POST", path: "/categories", body: `{`, want: 400},
		{name: "category: name is a number", who: asAdmin, method: "POST", path: "/categories", body: `{"name": 1}`, want: 400},
		{name: "category: unknown field", who: asAdmin, method: "POST", path: "/categories", body: map[string]any{"name": "x", "parent": "y"}, want: 400},
		{name: "category: name blank", who: asAdmin, method: "POST", path: "/categories", body: map[string]any{"name": "  "}, want: 422, field: "name"},
		{name: "category: name 101 characters", who: asAdmin, method: "POST", path: "/categories", body: map[string]any{"name": strings.Repeat("c", 101)}, want: 422, field: "name"},
		{name: "category: duplicate", who: asAdmin, method: "POST", path: "/categories", body: map[string]any{"name": catName}, want: 409},
		{name: "category: duplicate in other case", who: asAdmin, method: "POST", path: "/categories", body: map[string]any{"name": strings.ToLower(catName)}, want: 409},
	}
	usersBefore := usersOf(t, p)
	runBadInputs(t, p, "", cases)
	if got := usersOf(t, p); fmt.Sprint(got) != fmt.Sprint(usersBefore) {
		t.Errorf("refused user edits changed users: %v → %v", usersBefore, got)
	}
}

// TestValidationBadTokens checks that every kind of bad token is a 401 and
// that a write with it writes nothing.
func TestValidationBadTokens(t *testing.T) {
	p := newPeople(t)
	inactive := inactiveUser(t, models.RoleCustomer)
	id := p.fileTicket(t, "token target", "x")["id"].(string)
	tokens := badTokens(t, p.id(asOwner), inactive.ID)
	headers := []badToken{
		{"no Authorization", ""},
		{"Basic scheme", "Basic " + base64.StdEncoding.EncodeToString([]byte("owner:pw"))},
		{"Bearer without a token", "Bearer "},
		{"token without a scheme", p.token(asOwner)},
	}
	writes := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/tickets", map[string]any{"subject": "with a bad token", "description": "x"}},
		{"PATCH", "/api/v1/tickets/" + id, map[string]any{"subject": "with a bad token"}},
		{"POST", "/api/v1/tickets/" + id + "/replies", map[string]any{"body": "with a bad token"}},
		{"POST", "/api/v1/tickets/" + id + "/status", map[string]any{"status": "resolved"}},
	}
	check := func(t *testing.T, authorization string) {
		for _, w := range writes {
			before := stateOf(t, id, p.id(asOwner), inactive.ID)
			var hdr []string
			if authorization != "" {
				hdr = []string{"Authorization", authorization}
			}
			r := stack.Do(t, w.method, w.path, "", w.body, hdr...)
			assertProblem(t, r, http.StatusUnauthorized, "token target")
			assertUnchanged(t, before, id, p.id(asOwner), inactive.ID)
		}
	}
	for _, bt := range tokens {
		t.Run(bt.name, func(t *testing.T) { check(t, "Bearer "+bt.token) })
	}
	for _, h := range headers {
		t.Run(h.name, func(t *testing.T) { check(t, h.token) })
	}
	t.Run("the good token works", func(t *testing.T) {
		mustDo(t, http.StatusOK, "GET", "/api/v1/tickets/"+id, p.token(asOwner), nil)
	})
	t.Run("a user deactivated after the token was issued is refused", func(t *testing.T) {
		u, tok := stack.NewUser(t, models.RoleAgent)
		mustDo(t, http.StatusOK, "GET", "/api/v1/users/me", tok, nil)
		mustDo(t, http.StatusOK, "PATCH", "/api/v1/users/"+u.ID, p.token(asAdmin), map[string]any{"active": false})
		assertProblem(t, stack.Do(t, "GET", "/api/v1/users/me", tok, nil), http.StatusUnauthorized)
	})
}

// nestedBug explains the skipped cases with unknown fields inside calendar.

// TestValidationSLAWrites checks the SLA policy, lifecycle settings and
// follow-up writes.
func TestValidationSLAWrites(t *testing.T) {
	p := newPeople(t)
	// Whatever a case gets through, the low policy ends as it began.
	original := currentPolicy(t, p, asAdmin)
	t.Cleanup(func() { mustDo(t, http.StatusOK, "PUT", "/api/v1/sla-policies/low", p.token(asAdmin), original) })
	closed := p.fileTicket(t, "closed for follow-ups", "x")["id"].(string)
	moveTo(t, closed, p.token(asAgent), models.StatusClosed)
	open := p.fileTicket(t, "still open", "x")["id"].(string)
	pol := func(k string, v any) map[string]any {
		m := map[string]any{"first_response_seconds": 3600, "resolution_seconds": 86400}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cal := func(k string, v any) map[string]any {
		c := map[string]any{"time_zone": "Europe/Berlin", "hours": []map[string]any{{"day": "mon", "open": "09:00", "close": "17:00"}}, "holidays": []string{"2026-12-25"}}
		c[k] = v
		return pol("calendar", c)
	}
	cases := []badInput{
		{name: "policy: unknown priority", who: asAdmin, method: "PUT", path: "/sla-policies/critical", body: pol("", nil), want: 404},
		{name: "policy: priority in capitals", who: asAdmin, method: "PUT", path: "/sla-policies/LOW", body: pol("", nil), want: 404},
		{name: "policy: malformed JSON", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: `{"first_response_seconds": 1`, want: 400},
		{name: "policy: unknown field", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: pol("name", "gold"), want: 400},
		{name: "policy: seconds as a string", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: pol("resolution_seconds", "86400"), want: 400},
		{name: "policy: fractional seconds", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: `{"first_response_seconds": 1.5, "resolution_seconds": 2}`, want: 400},
		{name: "policy: first_response_seconds missing", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: pol("first_response_seconds", nil), want: 422, field: "first_response_seconds"},
		{name: "policy: zero target", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: pol("first_response_seconds", 0), want: 422, field: "first_response_seconds"},
		{name: "policy: target over a year", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: pol("resolution_seconds", 31536001), want: 422, field: "resolution_seconds"},
		{name: "policy: warn_at 1", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: pol("warn_at", []float64{0.5, 1}), want: 422, field: "warn_at[1]"},
		{name: "policy: warn_at 0", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: pol("warn_at", []float64{0}), want: 422, field: "warn_at[0]"},
		{name: "policy: six warnings", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: pol("warn_at", []float64{.1, .2, .3, .4, .5, .6}), want: 422, field: "warn_at"},
		{name: "policy: unknown time zone", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: cal("time_zone", "Mars/Olympus"), want: 422, field: "calendar.time_zone"},
		{name: "policy: bad opening time", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: cal("hours", []map[string]any{{"day": "mon", "open": "25:00", "close": "26:00"}}), want: 422, field: "calendar.hours[0].open"},
		{name: "policy: bad day", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: cal("hours", []map[string]any{{"day": "monday", "open": "09:00", "close": "17:00"}}), want: 422, field: "calendar.hours[0].day"},
		{name: "policy: bad holiday", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: cal("holidays", []string{"2026-13-01"}), want: 422, field: "calendar.holidays[0]"},
		{name: "policy: calendar field unknown", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: cal("weekends", true), want: 400},
		{name: "policy: opening hours field unknown", who: asAdmin, method: "PUT", path: "/sla-policies/low",
			body: cal("hours", []map[string]any{{"day": "mon", "open": "09:00", "close": "17:00", "lunch": "12:00"}}), want: 400},
		{name: "policy: hours of the wrong type", who: asAdmin, method: "PUT", path: "/sla-policies/low", body: cal("hours", "mon-fri"), want: 400},

		{name: "lifecycle: malformed JSON", who: asAdmin, method: "PUT", path: "/settings/lifecycle", body: `{`, want: 400},
		{name: "lifecycle: unknown field", who: asAdmin, method: "PUT", path: "/settings/lifecycle", body: map[string]any{"auto_close": 1}, want: 400},
		{name: "lifecycle: string seconds", who: asAdmin, method: "PUT", path: "/settings/lifecycle", body: map[string]any{"resolved_auto_close_seconds": "60"}, want: 400},
		{name: "lifecycle: empty object", who: asAdmin, method: "PUT", path: "/settings/lifecycle", body: map[string]any{}, want: 422, field: ""},
		{name: "lifecycle: zero delay", who: asAdmin, method: "PUT", path: "/settings/lifecycle", body: map[string]any{"resolved_auto_close_seconds": 0}, want: 422, field: "resolved_auto_close_seconds"},
		{name: "lifecycle: delay over a year", who: asAdmin, method: "PUT", path: "/settings/lifecycle", body: map[string]any{"pending_auto_resolve_seconds": 31536001}, want: 422, field: "pending_auto_resolve_seconds"},
		{name: "lifecycle: one good, one bad", who: asAdmin, method: "PUT", path: "/settings/lifecycle", body: map[string]any{"resolved_auto_close_seconds": 60, "pending_auto_resolve_seconds": -1}, want: 422, field: "pending_auto_resolve_seconds"},

		{name: "follow-up: malformed JSON", who: asOwner, method: "POST", path: "/tickets/:id/follow-up", body: `{"description": `, want: 400},
		{name: "follow-up: unknown field", who: asOwner, method: "POST", path: "/tickets/:id/follow-up", body: map[string]any{"description": "x", "status": "open"}, want: 400},
		{name: "follow-up: empty body", who: asOwner, method: "POST", path: "/tickets/:id/follow-up", body: ``, want: 400},
		{name: "follow-up: description missing", who: asOwner, method: "POST", path: "/tickets/:id/follow-up", body: map[string]any{}, want: 422, field: "description"},
		{name: "follow-up: description blank", who: asOwner, method: "POST", path: "/tickets/:id/follow-up", body: map[string]any{"description": "  "}, want: 422, field: "description"},
		{name: "follow-up: description 10001 characters", who: asOwner, method: "POST", path: "/tickets/:id/follow-up", body: map[string]any{"description": strings.Repeat("d", 10001)}, want: 422, field: "description"},
		{name: "follow-up: subject 201 characters", who: asAgent, method: "POST", path: "/tickets/:id/follow-up", body: map[string]any{"description": "x", "subject": strings.Repeat("s", 201)}, want: 422, field: "subject"},
		{name: "follow-up: bad priority", who: asAgent, method: "POST", path: "/tickets/:id/follow-up", body: map[string]any{"description": "x", "priority": "p1"}, want: 422, field: "priority"},
	}
	runBadInputs(t, p, closed, cases)
	runBadInputs(t, p, open, []badInput{
		{name: "follow-up: the ticket is not closed", who: asOwner, method: "POST", path: "/tickets/:id/follow-up", body: map[string]any{"description": "x"}, want: 409},
	})
}
