package api_test

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ticketd/ticketd/models"
)

// pageOf is one page of GET /tickets.
type pageOf struct {
	Items      []models.Ticket `json:"items"`
	NextCursor *string         `json:"next_cursor"`
	Total      *int64          `json:"total"`
}

// listAll pages through path (which has a query) with limit, checking each
// page, and returns the ids in order.
func listAll(t *testing.T, tok, path string, limit int, wantTotal int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatal("pagination does not end")
		}
		q := fmt.Sprintf("%s&limit=%d&count=true", path, limit)
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := mustDo(t, http.StatusOK, "GET", q, tok, nil)
		var pg pageOf
		r.Decode(t, &pg)
		if pg.Total == nil || *pg.Total != int64(wantTotal) {
			t.Errorf("page %d: total %v, want %d", page, pg.Total, wantTotal)
		}
		for _, tk := range pg.Items {
			ids = append(ids, tk.ID)
		}
		last := len(ids) >= wantTotal
		switch {
		case pg.NextCursor == nil && !last:
			t.Fatalf("page %d: next_cursor null after %d of %d tickets", page, len(ids), wantTotal)
		case pg.NextCursor != nil && last:
			t.Fatalf("page %d: next_cursor %q on the last page", page, *pg.NextCursor)
		case len(pg.Items) != limit && !last:
			t.Errorf("page %d has %d items, want %d", page, len(pg.Items), limit)
		}
		if pg.NextCursor == nil {
			return ids
		}
		cursor = *pg.NextCursor
	}
}

// TestPagination pages through a customer's tickets in every sort order
// and checks the filters.
func TestPagination(t *testing.T) {
	p := newPeople(t)
	agent, admin := p.token(asAgent), p.token(asAdmin)
	cat := mustDo(t, http.StatusCreated, "POST", "/api/v1/categories", admin, map[string]any{"name": "paging " + uuid.NewString()}).Map(t)["id"].(string)
	priorities := []string{"normal", "urgent", "low", "high", "normal"}

	const n = 25
	var ids []string
	for i := range n {
		body := map[string]any{
			"subject":     fmt.Sprintf("page ticket %02d", i),
			"description": "pagination",
			"priority":    priorities[i%len(priorities)],
		}
		if i%4 == 0 {
			body["category_id"] = cat
		}
		ids = append(ids, mustCreateTicket(t, p.token(asOwner), body)["id"].(string))
	}
	// Shuffle updated_at away from created_at, and spread the statuses and
	// assignees the filters look at.
	for i := n - 1; i >= 0; i -= 3 {
		mustDo(t, http.StatusOK, "PATCH", "/api/v1/tickets/"+ids[i], agent, map[string]any{"description": "touched"})
	}
	for i := 1; i < n; i += 5 {
		mustDo(t, http.StatusOK, "POST", "/api/v1/tickets/"+ids[i]+"/assign", agent, map[string]any{"assignee_id": p.id(asAgent)})
	}
	for i := 2; i < n; i += 6 {
		mustDo(t, http.StatusOK, "POST", "/api/v1/tickets/"+ids[i]+"/assign", admin, map[string]any{"assignee_id": p.id(asAdmin)})
	}
	for i := 3; i < n; i += 5 {
		mustDo(t, http.StatusOK, "POST", "/api/v1/tickets/"+ids[i]+"/status", agent, map[string]any{"status": "pending"})
	}
	for i := 4; i < n; i += 7 {
		mustDo(t, http.StatusOK, "POST", "/api/v1/tickets/"+ids[i]+"/status", agent, map[string]any{"status": "on_hold"})
	}

	// The truth, from the database.
	var rows []models.Ticket
	if err := stack.DB.Where("customer_id = ?", p.id(asOwner)).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != n {
		t.Fatalf("%d tickets in the database, want %d", len(rows), n)
	}
	base := "/api/v1/tickets?customer_id=" + p.id(asOwner)

	byTime := func(get func(models.Ticket) time.Time) func(a, b models.Ticket) int {
		return func(a, b models.Ticket) int {
			return cmp.Or(get(a).Compare(get(b)), strings.Compare(a.ID, b.ID))
		}
	}
	sorts := map[string]func(a, b models.Ticket) int{
		"created_at": byTime(func(t models.Ticket) time.Time { return t.CreatedAt }),
		"updated_at": byTime(func(t models.Ticket) time.Time { return t.UpdatedAt }),
		"priority": func(a, b models.Ticket) int {
			return cmp.Or(cmp.Compare(a.Priority.Rank(), b.Priority.Rank()), a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
		},
		// Soonest running clock first, tickets without one last.
		"sla_due_at": func(a, b models.Ticket) int {
			switch {
			case a.SLADueAt == nil && b.SLADueAt == nil:
				return strings.Compare(a.ID, b.ID)
			case a.SLADueAt == nil:
				return 1
			case b.SLADueAt == nil:
				return -1
			}
			return cmp.Or(a.SLADueAt.Compare(*b.SLADueAt), strings.Compare(a.ID, b.ID))
		},
	}
	for _, sort := range models.TicketSorts {
		t.Run("sort="+sort, func(t *testing.T) {
			asc := sorts[strings.TrimPrefix(sort, "-")]
			want := slices.Clone(rows)
			slices.SortFunc(want, asc)
			if strings.HasPrefix(sort, "-") {
				slices.Reverse(want)
			}
			var wantIDs []string
			for _, tk := range want {
				wantIDs = append(wantIDs, tk.ID)
			}
			for _, tok := range []string{agent, p.token(asOwner)} {
				got := listAll(t, tok, base+"&sort="+url.QueryEscape(sort), 7, n)
				assertSameOrder(t, got, wantIDs)
			}
			if sort == models.SortCreatedDesc {
				assertSameOrder(t, listAll(t, agent, base, 7, n), wantIDs) // the default
				assertSameOrder(t, listAll(t, p.token(asOwner), "/api/v1/tickets/my-tickets?sort=-created_at", 7, n), wantIDs)
			}
		})
	}
	t.Run("page sizes", func(t *testing.T) {
		for _, limit := range []int{1, 5, 24, 25, 26, 100} {
			got := listAll(t, agent, base+"&sort=created_at", limit, n)
			if len(got) != n {
				t.Errorf("limit %d: %d tickets", limit, len(got))
			}
		}
		r := mustDo(t, http.StatusOK, "GET", base, agent, nil)
		var pg pageOf
		r.Decode(t, &pg)
		if len(pg.Items) != 20 || pg.NextCursor == nil || pg.Total != nil {
			t.Errorf("default page: %d items, next %v, total %v; want 20, a cursor, no total", len(pg.Items), pg.NextCursor, pg.Total)
		}
	})

	// Filters: each against the database's answer.
	filterCases := []struct {
		name, query string
		tok         string
		match       func(models.Ticket) bool
		empty       bool // the filter is meant to match nothing
	}{
		{"status list", "&status=pending,on_hold", agent, func(t models.Ticket) bool {
			return t.Status == models.StatusPending || t.Status == models.StatusOnHold
		}, false},
		{"status one", "&status=new", agent, func(t models.Ticket) bool { return t.Status == models.StatusNew }, false},
		{"status with spaces", "&status=" + url.QueryEscape("open, pending"), agent, func(t models.Ticket) bool {
			return t.Status == models.StatusOpen || t.Status == models.StatusPending
		}, false},
		{"priority list", "&priority=high,urgent", agent, func(t models.Ticket) bool {
			return t.Priority == models.PriorityHigh || t.Priority == models.PriorityUrgent
		}, false},
		{"assignee me (agent)", "&assignee_id=me", agent, func(t models.Ticket) bool { return ptrIs(t.AssigneeID, p.id(asAgent)) }, false},
		{"assignee me (admin)", "&assignee_id=me", admin, func(t models.Ticket) bool { return ptrIs(t.AssigneeID, p.id(asAdmin)) }, false},
		{"assignee id", "&assignee_id=" + p.id(asAdmin), agent, func(t models.Ticket) bool { return ptrIs(t.AssigneeID, p.id(asAdmin)) }, false},
		{"assignee none", "&assignee_id=none", agent, func(t models.Ticket) bool { return t.AssigneeID == nil }, false},
		{"category", "&category_id=" + cat, agent, func(t models.Ticket) bool { return ptrIs(t.CategoryID, cat) }, false},
		{"category unknown", "&category_id=" + uuid.NewString(), agent, func(models.Ticket) bool { return false }, true},
		{"combined", "&status=open&assignee_id=me&priority=normal,low,high,urgent", agent, func(t models.Ticket) bool {
			return t.Status == models.StatusOpen && ptrIs(t.AssigneeID, p.id(asAgent))
		}, false},
		{"customer: category and status", "&category_id=" + cat + "&status=new", p.token(asOwner), func(t models.Ticket) bool {
			return ptrIs(t.CategoryID, cat) && t.Status == models.StatusNew
		}, false},
	}
	for _, c := range filterCases {
		t.Run("filter "+c.name, func(t *testing.T) {
			want := matching(rows, c.match)
			if len(want) == 0 && !c.empty {
				t.Fatal("the fixture has no ticket for this filter to find")
			}
			for _, sort := range []string{"created_at", "-priority"} {
				got := listAll(t, c.tok, base+c.query+"&sort="+sort, 7, len(want))
				if !sameSet(got, want) {
					t.Errorf("sort %s: got %d tickets %v\nwant %d %v", sort, len(got), got, len(want), want)
				}
			}
		})
	}
	t.Run("created_after and created_before", func(t *testing.T) {
		sorted := slices.Clone(rows)
		slices.SortFunc(sorted, sorts["created_at"])
		lo, hi := sorted[5].CreatedAt, sorted[17].CreatedAt
		for _, c := range []struct {
			name, query string
			match       func(models.Ticket) bool
		}{
			{"after", "&created_after=" + stamp(lo), func(t models.Ticket) bool { return t.CreatedAt.After(lo) }},
			{"before", "&created_before=" + stamp(hi), func(t models.Ticket) bool { return t.CreatedAt.Before(hi) }},
			{"between", "&created_after=" + stamp(lo) + "&created_before=" + stamp(hi), func(t models.Ticket) bool {
				return t.CreatedAt.After(lo) && t.CreatedAt.Before(hi)
			}},
			{"after, in another zone", "&created_after=" + url.QueryEscape(lo.In(time.FixedZone("x", 2*3600)).Format(time.RFC3339Nano)),
				func(t models.Ticket) bool { return t.CreatedAt.After(lo) }},
			{"empty window", "&created_after=" + stamp(hi) + "&created_before=" + stamp(lo), func(models.Ticket) bool { return false }},
		} {
			t.Run(c.name, func(t *testing.T) {
				want := matching(rows, c.match)
				got := listAll(t, agent, base+c.query+"&sort=created_at", 7, len(want))
				if !sameSet(got, want) {
					t.Errorf("got %v\nwant %v", got, want)
				}
			})
		}
		if n := len(matching(rows, func(t models.Ticket) bool { return t.CreatedAt.After(lo) && t.CreatedAt.Before(hi) })); n != 11 {
			t.Errorf("strict bounds: %d tickets between #5 and #17, want 11", n)
		}
	})

	t.Run("a deleted ticket leaves the pages", func(t *testing.T) {
		mustDo(t, http.StatusNoContent, "DELETE", "/api/v1/tickets/"+ids[0], admin, nil)
		got := listAll(t, agent, base+"&sort=created_at", 7, n-1)
		if slices.Contains(got, ids[0]) {
			t.Error("deleted ticket listed")
		}
	})
}

func assertSameOrder(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("order differs:\ngot  %v\nwant %v", got, want)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("ticket %s listed twice", id)
		}
		seen[id] = true
	}
}

func matching(rows []models.Ticket, match func(models.Ticket) bool) []string {
	var out []string
	for _, r := range rows {
		if match(r) {
			out = append(out, r.ID)
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func ptrIs(p *string, v string) bool { return p != nil && *p == v }

func stamp(t time.Time) string { return url.QueryEscape(t.UTC().Format(time.RFC3339Nano)) }

// TestPaginationPriorityTies checks the tie-break the spec documents for
// sort=priority ("ties are broken by id in the same direction") on tickets
// whose ids do not follow their creation order (Idempotency-Key tickets
// have name-based ids).
func TestPaginationPriorityTies(t *testing.T) {
	// Equal priorities are ordered by created_at, then id (the spec says so,
	// and the index tickets_priority_idx serves it); keyed tickets have
	// UUIDv5 ids, so id order would differ from creation order.
	p := newPeople(t)
	var ids []string
	for i := range 8 {
		tk := mustCreateTicket(t, p.token(asOwner), map[string]any{"subject": fmt.Sprint("tie ", i), "description": "x", "priority": "high"},
			"Idempotency-Key", uuid.NewString())
		ids = append(ids, tk["id"].(string))
	}
	want := slices.Clone(ids)
	got := listAll(t, p.token(asOwner), "/api/v1/tickets?sort=priority", 3, len(ids))
	assertSameOrder(t, got, want)
}
