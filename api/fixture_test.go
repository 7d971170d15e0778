package api_test

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/ticketd/ticketd/api"
	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
)

// Who is calling, in the permission and validation tables.
const (
	asOwner = "owner" // the customer who owns the ticket
	asOther = "other" // another customer
	asAgent = "agent"
	asAdmin = "admin"
)

// people is a fresh cast around one ticket: its owner, another customer, an
// agent and an admin, with their tokens.
type people struct {
	users  map[string]models.User
	tokens map[string]string
}

func newPeople(t *testing.T) *people {
	t.Helper()
	p := &people{users: map[string]models.User{}, tokens: map[string]string{}}
	for who, role := range map[string]models.Role{
		asOwner: models.RoleCustomer, asOther: models.RoleCustomer,
		asAgent: models.RoleAgent, asAdmin: models.RoleAdmin,
	} {
		p.users[who], p.tokens[who] = stack.NewUser(t, role)
	}
	return p
}

func (p *people) id(who string) string        { return p.users[who].ID }
func (p *people) token(who string) string     { return p.tokens[who] }
func (p *people) user(who string) models.User { return p.users[who] }

// fileTicket creates a ticket for the owner (as the owner) and returns it.
func (p *people) fileTicket(t *testing.T, subject, description string) map[string]any {
	t.Helper()
	return mustCreateTicket(t, p.token(asOwner), map[string]any{"subject": subject, "description": description})
}

// mustCreateTicket posts body to /tickets with tok and wants 201.
func mustCreateTicket(t *testing.T, tok string, body map[string]any, headers ...string) map[string]any {
	t.Helper()
	r := stack.Do(t, "POST", "/api/v1/tickets", tok, body, headers...)
	if r.Status != http.StatusCreated {
		t.Fatalf("create ticket: %d %s", r.Status, r.Body)
	}
	return r.Map(t)
}

// mustDo sends a request and wants status.
func mustDo(t *testing.T, want int, method, path, tok string, body any, headers ...string) *testenv.Response {
	t.Helper()
	r := stack.Do(t, method, path, tok, body, headers...)
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// moveTo brings a fresh ticket to status as staff (every status is one move
// away from new).
func moveTo(t *testing.T, id, staffTok string, status models.Status) {
	t.Helper()
	if status == models.StatusNew {
		return
	}
	mustDo(t, http.StatusOK, "POST", "/api/v1/tickets/"+id+"/status", staffTok, map[string]any{"status": status})
}

// problemTypes are the problem types each status may carry.
var problemTypes = map[int][]string{
	400: {"invalid-request"},
	401: {"unauthorized"},
	403: {"forbidden"},
	404: {"not-found"},
	405: {"method-not-allowed"},
	409: {"invalid-transition", "ticket-closed", "conflict"},
	412: {"precondition-failed"},
	422: {"validation"},
	429: {"rate-limited"},
}

// assertProblem checks that r is an RFC 9457 problem with status, and that
// its body contains none of secrets. It returns the problem.
func assertProblem(t testing.TB, r *testenv.Response, status int, secrets ...string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/problem+json" {
		t.Errorf("Content-Type %q, want application/problem+json", r.Header.Get("Content-Type"))
	}
	p := map[string]any{}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Errorf("problem body is not JSON: %v: %s", err, r.Body)
		return p
	}
	if p["status"] != float64(r.Status) {
		t.Errorf("problem status %v, response status %d", p["status"], r.Status)
	}
	if s, _ := p["title"].(string); s == "" {
		t.Errorf("problem without title: %s", r.Body)
	}
	if _, ok := p["detail"].(string); !ok {
		t.Errorf("problem without detail: %s", r.Body)
	}
	typ, _ := p["type"].(string)
	slug, ok := strings.CutPrefix(typ, "urn:ticketd:problem:")
	if !ok {
		t.Errorf("problem type %q is not a ticketd URN", typ)
	} else if want, known := problemTypes[r.Status]; known && !contains(want, slug) {
		t.Errorf("problem type %q for status %d, want one of %v", typ, r.Status, want)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(string(r.Body), s) {
			t.Errorf("refused response leaks %q: %s", s, r.Body)
		}
	}
	return p
}

// errorFields lists the fields of a 422 problem's errors.
func errorFields(p map[string]any) []string {
	var out []string
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok {
			f, _ := m["field"].(string)
			out = append(out, f)
		}
	}
	return out
}

func contains[T comparable](xs []T, x T) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// dbState is what a refused request must leave alone.
type dbState struct {
	Version     int64 // of the ticket in focus
	Tickets     int64 // of the customers in focus, deleted ones included
	Deleted     int64 // of those, soft-deleted
	Replies     int64 // on the ticket in focus
	Events      int64
	TimeEntries int64
	IdemKeys    int64 // of the customers in focus
	Users       int64
	Categories  int64
	Policies    string // the SLA policies and settings rows, as text
	Settings    string
}

// stateOf reads dbState straight from the database for ticketID and the
// given customers.
func stateOf(t testing.TB, ticketID string, customers ...string) dbState {
	t.Helper()
	db := stack.DB
	var s dbState
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("read database state: %v", err)
		}
	}
	if ticketID != "" {
		check(db.Unscoped().Model(&models.Ticket{}).Where("id = ?", ticketID).Select("version").Scan(&s.Version).Error)
		check(db.Model(&models.Reply{}).Where("ticket_id = ?", ticketID).Count(&s.Replies).Error)
		check(db.Model(&models.Event{}).Where("ticket_id = ?", ticketID).Count(&s.Events).Error)
		check(db.Model(&models.TimeEntry{}).Where("ticket_id = ?", ticketID).Count(&s.TimeEntries).Error)
	}
	if len(customers) > 0 {
		check(db.Unscoped().Model(&models.Ticket{}).Where("customer_id IN ?", customers).Count(&s.Tickets).Error)
		check(db.Unscoped().Model(&models.Ticket{}).Where("customer_id IN ? AND deleted_at IS NOT NULL", customers).Count(&s.Deleted).Error)
		check(db.Model(&models.IdempotencyKey{}).Where("user_id IN ?", customers).Count(&s.IdemKeys).Error)
	}
	check(db.Model(&models.User{}).Count(&s.Users).Error)
	check(db.Model(&models.Category{}).Count(&s.Categories).Error)
	check(db.Raw(`SELECT coalesce(string_agg(t::text, ';' ORDER BY t::text), '') FROM sla_policies t`).Scan(&s.Policies).Error)
	check(db.Raw(`SELECT coalesce(string_agg(t::text, ';' ORDER BY t::text), '') FROM settings t`).Scan(&s.Settings).Error)
	return s
}

// assertUnchanged fails if the database moved from before.
func assertUnchanged(t testing.TB, before dbState, ticketID string, customers ...string) {
	t.Helper()
	if after := stateOf(t, ticketID, customers...); after != before {
		t.Errorf("a refused request changed the database:\nbefore %+v\nafter  %+v", before, after)
	}
}

// ---- tokens

// claims are valid claims for sub, one hour long.
func claims(sub string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": api.TokenIssuer, "aud": []string{api.TokenAudience}, "sub": sub,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

// sign makes a token with any method, key and claims.
func sign(t testing.TB, method jwt.SigningMethod, key any, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// badToken is a bearer token the API must refuse.
type badToken struct {
	name  string
	token string
}

// badTokens are refused tokens for userID, which must be an active user;
// inactiveID must be an inactive one.
func badTokens(t testing.TB, userID, inactiveID string) []badToken {
	t.Helper()
	without := func(key string) jwt.MapClaims {
		c := claims(userID)
		delete(c, key)
		return c
	}
	with := func(key string, v any) jwt.MapClaims {
		c := claims(userID)
		c[key] = v
		return c
	}
	expired, err := api.IssueToken(testenv.Secret, userID, -time.Minute, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return []badToken{
		{"garbage", "not-a-jwt"},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(userID))},
		{"alg HS512 with the right secret", sign(t, jwt.SigningMethodHS512, testenv.Secret, claims(userID))},
		{"wrong secret", sign(t, jwt.SigningMethodHS256, []byte("some-other-secret-some-other-secret"), claims(userID))},
		{"wrong iss", sign(t, jwt.SigningMethodHS256, testenv.Secret, with("iss", "someone-else"))},
		{"wrong aud", sign(t, jwt.SigningMethodHS256, testenv.Secret, with("aud", "another-api"))},
		{"no aud", sign(t, jwt.SigningMethodHS256, testenv.Secret, without("aud"))},
		{"no iss", sign(t, jwt.SigningMethodHS256, testenv.Secret, without("iss"))},
		{"no exp", sign(t, jwt.SigningMethodHS256, testenv.Secret, without("exp"))},
		{"expired", expired},
		{"not yet valid", sign(t, jwt.SigningMethodHS256, testenv.Secret, with("nbf", time.Now().Add(time.Hour).Unix()))},
		{"sub not a uuid", sign(t, jwt.SigningMethodHS256, testenv.Secret, with("sub", "admin"))},
		{"unknown user", testenv.Token(t, uuid.NewString())},
		{"inactive user", testenv.Token(t, inactiveID)},
	}
}

// inactiveUser makes a user with role and deactivates it.
func inactiveUser(t *testing.T, role models.Role) models.User {
	t.Helper()
	u, _ := stack.NewUser(t, role)
	if err := stack.DB.Model(&models.User{}).Where("id = ?", u.ID).Update("active", false).Error; err != nil {
		t.Fatal(err)
	}
	u.Active = false
	return u
}
