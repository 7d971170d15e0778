package api_test

import (
	"net/http"
	"testing"
)

// TestUnstorableText: text PostgreSQL cannot hold (NUL, invalid UTF-8) is
// a 422 naming the field, in bodies and in the search parameter, and
// writes nothing. Before, it reached the database and answered 500.
func TestUnstorableText(t *testing.T) {
	p := newPeople(t)
	tk := p.fileTicket(t, "text", "unstorable text")
	id := tk["id"].(string)
	nul := "a\u0000b"
	cases := []struct {
		name, method, path, who string
		body                    any
		field                   string
	}{
		{"ticket subject", "POST", "/api/v1/tickets", asOwner, map[string]any{"subject": nul, "description": "d"}, "subject"},
		{"edit description", "PATCH", "/api/v1/tickets/" + id, asOwner, map[string]any{"description": nul}, "description"},
		{"status reason", "POST", "/api/v1/tickets/" + id + "/status", asAgent, map[string]any{"status": "pending", "reason": nul}, "reason"},
		{"reply body", "POST", "/api/v1/tickets/" + id + "/replies", asOwner, map[string]any{"body": nul}, "body"},
		{"time entry note", "POST", "/api/v1/tickets/" + id + "/time-entries", asAgent, map[string]any{"minutes": 5, "note": nul}, "note"},
		{"category name", "POST", "/api/v1/categories", asAdmin, map[string]any{"name": nul}, "name"},
		{"user name", "POST", "/api/v1/users", asAdmin, map[string]any{"email": "nul@example.com", "name": nul, "role": "agent"}, "name"},
		{"search with NUL", "GET", "/api/v1/tickets?q=a%00b", asAgent, nil, "q"},
		{"search with invalid UTF-8", "GET", "/api/v1/tickets?q=%ff%fe", asAgent, nil, "q"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := stateOf(t, id, p.id(asOwner))
			r := stack.Do(t, tc.method, tc.path, p.token(tc.who), tc.body)
			pr := assertProblem(t, r, http.StatusUnprocessableEntity)
			if fields := errorFields(pr); !contains(fields, tc.field) {
				t.Errorf("errors name %v, want %s", fields, tc.field)
			}
			assertUnchanged(t, before, id, p.id(asOwner))
		})
	}
}
