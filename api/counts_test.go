package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ticketd/ticketd/models"
)

// countOf asks path (with its query) for count=true and returns total and
// total_exact, failing when either is missing.
func countOf(t *testing.T, tok, path string) (int64, bool) {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	r := mustDo(t, http.StatusOK, "GET", path+sep+"count=true&limit=1", tok, nil)
	var pg struct {
		Total      *int64 `json:"total"`
		TotalExact *bool  `json:"total_exact"`
	}
	r.Decode(t, &pg)
	if pg.Total == nil || pg.TotalExact == nil {
		t.Fatalf("GET %s: no total or total_exact: %s", path, r.Body)
	}
	return *pg.Total, *pg.TotalExact
}

// TestCountsFollowChanges: on the real stack, count=true is exact after
// creates, status changes and deletes, for a customer's own lists (by
// status, served from the counters) and for a filter beyond them.
func TestCountsFollowChanges(t *testing.T) {
	p := newPeople(t)
	owner, agent, admin := p.token(asOwner), p.token(asAgent), p.token(asAdmin)
	var ids []string
	for i := range 5 {
		tk := mustCreateTicket(t, owner, map[string]any{"subject": fmt.Sprintf("count %d", i), "description": "d"})
		ids = append(ids, tk["id"].(string))
	}
	moveTo(t, ids[0], agent, models.StatusOpen)
	moveTo(t, ids[1], agent, models.StatusOpen)
	moveTo(t, ids[2], agent, models.StatusResolved)
	mustDo(t, http.StatusNoContent, "DELETE", "/api/v1/tickets/"+ids[3], admin, nil)
	mustDo(t, http.StatusOK, "POST", "/api/v1/tickets/"+ids[2]+"/status", owner, map[string]any{"status": "open"})
	// Now: 0, 1, 2 open; 4 new; 3 deleted.
	cust := p.id(asOwner)
	for _, c := range []struct {
		name, tok, path string
		want            int64
	}{
		{"my-tickets", owner, "/api/v1/tickets/my-tickets", 4},
		{"my-tickets open", owner, "/api/v1/tickets/my-tickets?status=open", 3},
		{"my-tickets new", owner, "/api/v1/tickets/my-tickets?status=new", 1},
		{"my-tickets resolved", owner, "/api/v1/tickets/my-tickets?status=resolved", 0},
		{"customer's list", owner, "/api/v1/tickets?status=open,new", 4},
		{"agent by customer", agent, "/api/v1/tickets?customer_id=" + cust, 4},
		{"agent by customer and status", agent, "/api/v1/tickets?customer_id=" + cust + "&status=new", 1},
		{"beyond the counters", agent, "/api/v1/tickets?customer_id=" + cust + "&q=count&status=open", 3},
		{"another customer's tickets", p.token(asOther), "/api/v1/tickets?customer_id=" + cust, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, exact := countOf(t, c.tok, c.path)
			if n != c.want || !exact {
				t.Errorf("total %d (exact %v), want exactly %d", n, exact, c.want)
			}
		})
	}
}
