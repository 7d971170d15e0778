package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ticketd/ticketd/models"
)

// bodyTypes are the request bodies the handlers decode, by name; a fuzz
// input's first byte picks one.
var bodyTypes = []func() any{
	func() any { return &createTicketBody{} },
	func() any { return &editBody{} },
	func() any { return &statusBody{} },
	func() any { return &assignBody{} },
	func() any { return &replyBody{} },
	func() any { return &timeBody{} },
	func() any { return &policyBody{} },
	func() any { return &lifecycleBody{} },
	func() any { return &followUpBody{} },
	func() any { return &userBody{} },
	func() any { return &categoryBody{} },
}

func fuzzContext(method, target string, body []byte) *gin.Context {
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(method, "/", bytes.NewReader(body))
	c.Request.URL.RawQuery = target
	return c
}

// FuzzDecode feeds arbitrary bytes to the strict JSON decoder for every
// body type. Properties: the only errors are 400s (or 413s); an accepted
// body is one JSON object whose every key is a field of the type, with no
// null but for Optional fields; and the lenient standard decoder reads it
// to the same value.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"subject":"s","description":"d","priority":"high","category_id":null}`,
		`{"subject":"s","customer_id":"0190b0a4-0000-7000-8000-000000000000"}`,
		`{"status":"pending","reason":"waiting"}`,
		`{"assignee_id":null}`, `{"assignee_id":"x"}`,
		`{"body":"hello","internal":true}`,
		`{"minutes":15,"note":"call"}`, `{"minutes":1.5}`,
		`{"first_response_seconds":3600,"resolution_seconds":86400,"warn_at":[0.5,0.9],"escalate":true,"calendar":{"time_zone":"Europe/Berlin","hours":[{"day":"mon","open":"09:00","close":"17:00"}],"holidays":["2026-12-25"]}}`,
		`{"calendar":{"time_zone":"UTC","hours":[],"extra":1}}`,
		`{"resolved_auto_close_seconds":3600}`,
		`{"email":"a@example.com","name":"A","role":"agent","active":false}`,
		`{"name":"billing"}`, `{"name":null}`, `{}`, `[]`, `null`, ``, `{"a":1}`, `{"subject":"s"} {}`,
		`{"subject":1}`, "{\"subject\":\"\xff\"}", `{"subject":"s","subject":"t"}`,
	}
	for i, s := range seeds {
		f.Add(byte(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, which byte, body []byte) {
		dst := bodyTypes[int(which)%len(bodyTypes)]()
		c := fuzzContext(http.MethodPost, "", body)
		err := decode(c, dst)
		if err != nil {
			var bad *badRequest
			if !errors.As(err, &bad) {
				t.Fatalf("decode %T %q: error %T %v is not a 400", dst, body, err, err)
			}
			return
		}
		var fields map[string]json.RawMessage
		if jerr := json.Unmarshal(body, &fields); jerr != nil || fields == nil {
			t.Fatalf("decode accepted %q into %T, which is not one JSON object (%v)", body, dst, jerr)
		}
		typ := reflect.TypeOf(dst).Elem()
		for name, raw := range fields {
			sf, ok := fieldByJSONName(typ, name)
			if !ok {
				t.Fatalf("decode accepted unknown field %q for %T", name, dst)
			}
			if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) && !strings.HasPrefix(sf.Type.Name(), "Optional[") {
				t.Fatalf("decode accepted null for %s of %T", name, dst)
			}
		}
		lenient := reflect.New(typ).Interface()
		if err := json.Unmarshal(body, lenient); err != nil {
			t.Fatalf("strict decode accepted %q the standard decoder refuses: %v", body, err)
		}
		if !reflect.DeepEqual(dst, lenient) {
			t.Fatalf("decode %q: strict %+v, lenient %+v", body, dst, lenient)
		}
	})
}

// fieldByJSONName finds the field that encoding/json would fill for name
// (exact tag, or the case-insensitive match it falls back to).
func fieldByJSONName(t reflect.Type, name string) (reflect.StructField, bool) {
	var fold *reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == name {
			return f, true
		}
		if strings.EqualFold(tag, name) && fold == nil {
			fold = &f
		}
	}
	if fold != nil {
		return *fold, true
	}
	return reflect.StructField{}, false
}

// FuzzTicketFilter feeds arbitrary query strings to the ticket list's
// parser, as a customer and as an agent. Properties: every refusal is a
// 422 naming fields or a 400; an accepted filter is within the contract
// (limit 1-100, a known sort, known enum values), a customer's is scoped
// to them, and its cursor belongs to its sort order.
func FuzzTicketFilter(f *testing.F) {
	for _, q := range []string{
		"status=open,new&sort=-updated_at&limit=5&count=true",
		"assignee_id=me&created_after=2026-01-01T00:00:00Z&created_before=2027-01-01T00:00:00.5%2B01:00",
		"assignee_id=none&priority=high,low&q=printer",
		"customer_id=0190b0a4-0000-7000-8000-000000000000&category_id=0190B0A4-0000-7000-8000-000000000000",
		"cursor=%%%garbage", "limit=0", "limit=101", "limit=1e2", "status=", "status=,,", "sort=priority&cursor=" +
			models.Cursor{Sort: "priority", Time: time.Unix(1, 0).UTC(), Priority: 2, ID: "x"}.Encode(),
		"q=" + strings.Repeat("é", 201), "q=%00", "q=%ff", "count=maybe", "a=1", "status=open&status=new", ";", "x=%zz",
	} {
		f.Add(q, true)
		f.Add(q, false)
	}
	customer := models.User{ID: "0190b0a4-0000-7000-8000-00000000000c", Role: models.RoleCustomer, Active: true}
	agent := models.User{ID: "0190b0a4-0000-7000-8000-00000000000a", Role: models.RoleAgent, Active: true}
	f.Fuzz(func(t *testing.T, query string, asCustomer bool) {
		u, mine := agent, false
		if asCustomer {
			u, mine = customer, len(query)%2 == 0
		}
		c := fuzzContext(http.MethodGet, query, nil)
		flt, _, err := parseTicketFilter(c, u, mine)
		if err != nil {
			var (
				bad   *badRequest
				valid *models.ValidationError
			)
			switch {
			case errors.As(err, &bad):
			case errors.As(err, &valid):
				if len(valid.Fields) == 0 {
					t.Fatalf("validation error without fields for %q", query)
				}
			default:
				t.Fatalf("query %q: error %T %v is neither 400 nor 422", query, err, err)
			}
			return
		}
		if flt.Limit < 1 || flt.Limit > 100 {
			t.Fatalf("query %q: limit %d accepted", query, flt.Limit)
		}
		if !slices.Contains(models.TicketSorts, flt.Sort) {
			t.Fatalf("query %q: sort %q accepted", query, flt.Sort)
		}
		for _, s := range flt.Statuses {
			if !s.Valid() {
				t.Fatalf("query %q: status %q accepted", query, s)
			}
		}
		for _, p := range flt.Priorities {
			if !p.Valid() {
				t.Fatalf("query %q: priority %q accepted", query, p)
			}
		}
		if u.Role == models.RoleCustomer && flt.CustomerID != u.ID && flt.CustomerID != "-" {
			t.Fatalf("query %q: a customer's list is scoped to %q", query, flt.CustomerID)
		}
		if msg := unstorable(flt.Query); msg != "" {
			t.Fatalf("query %q: search text %q accepted, which %s", query, flt.Query, msg)
		}
		if flt.After != nil && flt.After.Sort != flt.Sort {
			t.Fatalf("query %q: cursor of sort %q used for %q", query, flt.After.Sort, flt.Sort)
		}
	})
}

// FuzzIfMatch checks the If-Match parser against its definition: a list
// of entity tags matches when one of them is "*" or, compared strongly,
// the ticket's ETag; the version the workflow is held to is the current
// one, or 0 for "*".
func FuzzIfMatch(f *testing.F) {
	for _, h := range []string{`"3"`, `W/"3"`, `*`, `"1", "3"`, `"03"`, `3`, `"3`, `,,`, ` "3" `, `"-1"`, `"9223372036854775807"`} {
		f.Add(h, int64(3))
	}
	f.Fuzz(func(t *testing.T, header string, current int64) {
		if current < 1 {
			current = 1 - current%1000
		}
		ok, version := matchETag(header, current)
		var star, exact bool
		for _, tag := range strings.Split(header, ",") {
			switch strings.TrimSpace(tag) {
			case "*":
				star = true
			case `"` + strconv.FormatInt(current, 10) + `"`:
				exact = true
			}
		}
		if ok != (star || exact) {
			t.Fatalf("matchETag(%q, %d) = %v; want %v", header, current, ok, star || exact)
		}
		if ok && version != 0 && version != current {
			t.Fatalf("matchETag(%q, %d) holds the workflow to version %d", header, current, version)
		}
		if ok && !star && version != current {
			t.Fatalf("matchETag(%q, %d) = version %d, want the current one", header, current, version)
		}
	})
}

// tokenUsers is the user lookup of the JWT target: the token parser only
// needs "does this id name an active user".
type tokenUsers map[string]models.User

func (m tokenUsers) GetUser(_ context.Context, id string) (models.User, error) {
	if u, ok := m[id]; ok {
		return u, nil
	}
	return models.User{}, models.ErrNotFound
}

// FuzzJWT checks the bearer-token parser two ways: arbitrary Authorization
// headers are refused as unauthenticated (a 401) unless they are a token
// this test signed; and tokens signed from fuzzed claims are accepted
// exactly when every claim the contract pins holds.
func FuzzJWT(f *testing.F) {
	secret := []byte("fuzz-secret-fuzz-secret-fuzz-secret!")
	active := models.User{ID: "0190b0a4-0000-7000-8000-0000000000aa", Role: models.RoleAgent, Active: true}
	inactive := models.User{ID: "0190b0a4-0000-7000-8000-0000000000bb", Role: models.RoleAgent}
	users := tokenUsers{active.ID: active, inactive.ID: inactive}
	a := newAuthenticator(secret, users)
	good, err := IssueToken(secret, active.ID, time.Hour, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Bearer "+good, active.ID, TokenIssuer, TokenAudience, int64(3600), byte(0))
	f.Add("bearer  "+good+" ", inactive.ID, TokenIssuer, TokenAudience, int64(-3600), byte(0))
	f.Add("Bearer a.b.c", active.ID, "other", TokenAudience, int64(60), byte(1))
	f.Add("Basic Zm9vOmJhcg==", "nobody", TokenIssuer, "other", int64(0), byte(2))
	f.Add("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", active.ID, TokenIssuer, TokenAudience, int64(60), byte(3))
	f.Fuzz(func(t *testing.T, header, sub, iss, aud string, expIn int64, alg byte) {
		ctx := context.Background()
		if _, err := a.authenticate(ctx, header); err != nil && !errors.Is(err, errUnauthenticated) {
			t.Fatalf("header %q: error %v is not a 401", header, err)
		}
		now := time.Now()
		expIn %= 100 * 365 * 24 * 3600
		claims := jwt.MapClaims{"sub": sub, "iss": iss, "aud": aud, "exp": now.Unix() + expIn}
		key, method := secret, jwt.SigningMethod(jwt.SigningMethodHS256)
		switch alg % 4 {
		case 1:
			method = jwt.SigningMethodHS512
		case 2:
			key = []byte("another-secret-another-secret-12345")
		case 3:
			delete(claims, "exp")
		}
		tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		u, err := a.authenticate(ctx, "Bearer "+tok)
		// Within a few seconds of exp the leeway and the clock decide.
		rest := alg%4 == 0 && iss == TokenIssuer && aud == TokenAudience && sub == active.ID
		switch {
		case err != nil && !errors.Is(err, errUnauthenticated):
			t.Fatalf("claims %v: error %v is not a 401", claims, err)
		case rest && expIn > 10 && err != nil:
			t.Fatalf("valid token (claims %v, %s) refused: %v", claims, method.Alg(), err)
		case (!rest || expIn < -10) && err == nil:
			t.Fatalf("token with claims %v, %s, key %d accepted", claims, method.Alg(), alg%4)
		case err == nil && u.ID != active.ID:
			t.Fatalf("token for %q authenticated %q", sub, u.ID)
		}
	})
}
