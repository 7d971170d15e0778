package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/ticketd/ticketd/models"
)

func wantStatus(t *testing.T, r interface{ String() string }, got, want int) {
	t.Helper()
	if got != want {
		t.Fatalf("status %d, want %d: %s", got, want, r.String())
	}
}

type body []byte

func (b body) String() string { return string(b) }

// TestLifecycleOverHTTP walks one ticket through its whole life on the real
// stack: create, list and filter, replies (public and internal), assign,
// transitions, time entries, timeline, close, refusal after close, and a
// soft delete of another ticket.
func TestLifecycleOverHTTP(t *testing.T) {
	cust, custTok := stack.NewUser(t, models.RoleCustomer)
	agent, agentTok := stack.NewUser(t, models.RoleAgent)
	_, adminTok := stack.NewUser(t, models.RoleAdmin)

	r := stack.Do(t, "POST", "/api/v1/tickets", custTok, map[string]any{
		"subject": "Printer on fire", "description": "It is really on fire.", "priority": "high",
	})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
	var tk map[string]any
	r.Decode(t, &tk)
	id := tk["id"].(string)
	if tk["status"] != "new" || tk["customer_id"] != cust.ID || tk["version"] != float64(1) {
		t.Fatalf("created ticket: %v", tk)
	}
	if got := r.Header.Get("Location"); got != "/api/v1/tickets/"+id {
		t.Errorf("Location = %q", got)
	}
	if got := r.Header.Get("ETag"); got != `"1"` {
		t.Errorf("ETag = %q", got)
	}

	// List and filter.
	r = stack.Do(t, "GET", "/api/v1/tickets?status=new&priority=high&customer_id="+cust.ID+"&count=true", agentTok, nil)
	wantStatus(t, body(r.Body), r.Status, http.StatusOK)
	page := r.Map(t)
	if page["total"] != float64(1) || len(page["items"].([]any)) != 1 {
		t.Fatalf("filtered list: %s", r.Body)
	}
	r = stack.Do(t, "GET", "/api/v1/tickets?q=ON+FIRE&customer_id="+cust.ID, agentTok, nil)
	if n := len(r.Map(t)["items"].([]any)); n != 1 {
		t.Fatalf("q filter found %d tickets: %s", n, r.Body)
	}
	r = stack.Do(t, "GET", "/api/v1/tickets/my-tickets", custTok, nil)
	wantStatus(t, body(r.Body), r.Status, http.StatusOK)

	// An internal note does not count as the first response; a public reply does.
	r = stack.Do(t, "POST", "/api/v1/tickets/"+id+"/replies", agentTok, map[string]any{"body": "Customer sounds upset", "internal": true})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
	r = stack.Do(t, "GET", "/api/v1/tickets/"+id, custTok, nil)
	if got := r.Map(t); got["first_response_at"] != nil || len(got["replies"].([]any)) != 0 {
		t.Fatalf("customer sees internal note or first response set: %s", r.Body)
	}

	r = stack.Do(t, "POST", "/api/v1/tickets/"+id+"/assign", agentTok, map[string]any{"assignee_id": agent.ID})
	wantStatus(t, body(r.Body), r.Status, http.StatusOK)
	if got := r.Map(t); got["status"] != "open" || got["assignee_id"] != agent.ID {
		t.Fatalf("assign: %s", r.Body)
	}
	r = stack.Do(t, "POST", "/api/v1/tickets/"+id+"/replies", agentTok, map[string]any{"body": "We are on it."})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
	r = stack.Do(t, "GET", "/api/v1/tickets/"+id, custTok, nil)
	got := r.Map(t)
	if got["first_response_at"] == nil || len(got["replies"].([]any)) != 1 {
		t.Fatalf("after public reply: %s", r.Body)
	}

	for _, to := range []string{"in_progress", "pending"} {
		r = stack.Do(t, "POST", "/api/v1/tickets/"+id+"/status", agentTok, map[string]any{"status": to, "reason": "working"})
		wantStatus(t, body(r.Body), r.Status, http.StatusOK)
	}
	// The customer's reply reopens a pending ticket.
	r = stack.Do(t, "POST", "/api/v1/tickets/"+id+"/replies", custTok, map[string]any{"body": "Still burning."})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
	r = stack.Do(t, "GET", "/api/v1/tickets/"+id, agentTok, nil)
	if got := r.Map(t); got["status"] != "open" {
		t.Fatalf("customer reply did not reopen: %s", r.Body)
	}

	r = stack.Do(t, "POST", "/api/v1/tickets/"+id+"/time-entries", agentTok, map[string]any{"minutes": 45, "note": "extinguisher"})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
	r = stack.Do(t, "GET", "/api/v1/tickets/"+id+"/time-entries", agentTok, nil)
	if n := len(r.Map(t)["items"].([]any)); n != 1 {
		t.Fatalf("time entries: %s", r.Body)
	}

	// Refused transition explains itself.
	r = stack.Do(t, "POST", "/api/v1/tickets/"+id+"/status", agentTok, map[string]any{"status": "new"})
	wantStatus(t, body(r.Body), r.Status, http.StatusConflict)
	if p := r.Map(t); p["allowed_transitions"] == nil {
		t.Fatalf("409 without allowed_transitions: %s", r.Body)
	}

	// The customer resolves, then the agent closes.
	r = stack.Do(t, "POST", "/api/v1/tickets/"+id+"/status", custTok, map[string]any{"status": "resolved"})
	wantStatus(t, body(r.Body), r.Status, http.StatusOK)
	r = stack.Do(t, "POST", "/api/v1/tickets/"+id+"/status", agentTok, map[string]any{"status": "closed"})
	wantStatus(t, body(r.Body), r.Status, http.StatusOK)
	closed := r.Map(t)
	if closed["closed_at"] == nil || len(closed["allowed_transitions"].([]any)) != 0 {
		t.Fatalf("closed ticket: %s", r.Body)
	}

	// Nothing changes a closed ticket.
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"PATCH", "", map[string]any{"subject": "x"}},
		{"POST", "/status", map[string]any{"status": "open"}},
		{"POST", "/assign", map[string]any{"assignee_id": nil}},
		{"POST", "/replies", map[string]any{"body": "hello?"}},
		{"POST", "/time-entries", map[string]any{"minutes": 5}},
		{"DELETE", "", nil},
	} {
		tok := agentTok
		if c.method == "DELETE" {
			tok = adminTok
		}
		r = stack.Do(t, c.method, "/api/v1/tickets/"+id+c.path, tok, c.body)
		if r.Status != http.StatusConflict {
			t.Errorf("%s %s on closed ticket: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}

	// The timeline tells the story; the customer's omits internal entries.
	r = stack.Do(t, "GET", "/api/v1/tickets/"+id+"/events", agentTok, nil)
	staffEvents := r.Map(t)["items"].([]any)
	r = stack.Do(t, "GET", "/api/v1/tickets/"+id+"/events", custTok, nil)
	custEvents := r.Map(t)["items"].([]any)
	var types []string
	for _, e := range staffEvents {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	want := "[created replied assigned status_changed replied status_changed status_changed replied status_changed time_logged status_changed status_changed]"
	if fmt.Sprint(types) != want {
		t.Errorf("timeline = %v\nwant       %s", types, want)
	}
	if len(custEvents) != len(staffEvents)-2 {
		t.Errorf("customer sees %d of %d events; want all but the internal note and the time entry", len(custEvents), len(staffEvents))
	}

	// Soft delete: 204, then 404 for everyone, rows kept.
	r = stack.Do(t, "POST", "/api/v1/tickets", custTok, map[string]any{"subject": "dup", "description": "dup"})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
	id2 := r.Map(t)["id"].(string)
	r = stack.Do(t, "DELETE", "/api/v1/tickets/"+id2, adminTok, nil)
	wantStatus(t, body(r.Body), r.Status, http.StatusNoContent)
	for _, tok := range []string{custTok, agentTok, adminTok} {
		if r = stack.Do(t, "GET", "/api/v1/tickets/"+id2, tok, nil); r.Status != http.StatusNotFound {
			t.Errorf("deleted ticket answered %d", r.Status)
		}
	}
	var n int64
	stack.DB.Unscoped().Model(&models.Ticket{}).Where("id = ? AND deleted_at IS NOT NULL", id2).Count(&n)
	if n != 1 {
		t.Errorf("soft-deleted row count = %d, want 1", n)
	}
}
