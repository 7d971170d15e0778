package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/ticketd/ticketd/api"
	"github.com/ticketd/ticketd/models"
)

var addrSeq atomic.Int32

// clientAddr is a fresh client address (sent as X-Forwarded-For, which the
// test API trusts from loopback), so that tests do not share the sign-in
// throttle of one address.
func clientAddr() string {
	n := addrSeq.Add(1)
	return fmt.Sprintf("198.51.%d.%d", 100+n/250, 1+n%250)
}

// setPassword gives a user a password, as `ticketd user passwd` does.
func setPassword(t testing.TB, userID, pw string) {
	t.Helper()
	hash, err := models.HashPassword(pw, models.DefaultPasswordParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := stack.Store.SetPasswordHash(context.Background(), userID, hash); err != nil {
		t.Fatal(err)
	}
}

func login(t testing.TB, addr, email, pw string) (int, map[string]any, http.Header) {
	t.Helper()
	r := stack.Do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": pw}, "X-Forwarded-For", addr)
	if strings.Contains(string(r.Body), pw) {
		t.Errorf("the answer to a sign-in shows the password: %s", r.Body)
	}
	m := map[string]any{}
	if len(r.Body) > 0 {
		r.Decode(t, &m)
	}
	return r.Status, m, r.Header
}

func TestLogin(t *testing.T) {
	const pw = "correct horse battery"
	u, _ := stack.NewUser(t, models.RoleAgent)
	setPassword(t, u.ID, pw)

	t.Run("the right password gives a 12-hour token for the user", func(t *testing.T) {
		before := time.Now()
		status, body, h := login(t, clientAddr(), strings.ToUpper(u.Email), pw)
		if status != http.StatusOK {
			t.Fatalf("status %d: %v", status, body)
		}
		if h.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", h.Get("Cache-Control"))
		}
		tok, _ := body["token"].(string)
		me := mustDo(t, http.StatusOK, "GET", "/api/v1/users/me", tok, nil).Map(t)
		if me["id"] != u.ID {
			t.Errorf("token is for %v, want %s", me["id"], u.ID)
		}
		var claims jwt.RegisteredClaims
		if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil {
			t.Fatal(err)
		}
		exp := claims.ExpiresAt.Time
		if d := exp.Sub(before); d < 12*time.Hour-time.Minute || d > 12*time.Hour+time.Minute {
			t.Errorf("token expires after %s, want 12h", d)
		}
		if got, _ := time.Parse(time.RFC3339, body["expires_at"].(string)); !got.Equal(exp) {
			t.Errorf("expires_at %v, token exp %v", body["expires_at"], exp)
		}
		if body["user"].(map[string]any)["email"] != u.Email {
			t.Errorf("user %v", body["user"])
		}
	})

	inactive := inactiveUser(t, models.RoleCustomer)
	setPassword(t, inactive.ID, pw)
	nopw, _ := stack.NewUser(t, models.RoleCustomer)
	refusals := []struct{ name, email, pw string }{
		{"wrong password", u.Email, pw + "!"},
		{"unknown email", "nobody-" + uuid.NewString() + "@example.com", pw},
		{"inactive user", inactive.Email, pw},
		{"user without a password", nopw.Email, pw},
		{"empty-ish password", u.Email, "x"},
	}
	var first map[string]any
	for _, c := range refusals {
		t.Run(c.name+" is the one 401", func(t *testing.T) {
			status, body, _ := login(t, clientAddr(), c.email, c.pw)
			if status != http.StatusUnauthorized {
				t.Fatalf("status %d: %v", status, body)
			}
			if first == nil {
				first = body
			} else if fmt.Sprint(body) != fmt.Sprint(first) {
				t.Errorf("401 differs by reason:\n%v\n%v", body, first)
			}
		})
	}

	t.Run("an unknown email costs a hash like a wrong password", func(t *testing.T) {
		// Not a tight timing assertion: without the dummy hash an unknown
		// email answers in a fraction of a millisecond, a hash takes tens.
		w, _ := stack.NewUser(t, models.RoleCustomer)
		setPassword(t, w.ID, pw)
		measure := func(email string) time.Duration {
			var ds []time.Duration
			for range 4 { // under the per-email limit
				start := time.Now()
				login(t, clientAddr(), email, "wrong password here")
				ds = append(ds, time.Since(start))
			}
			slices.Sort(ds)
			return ds[len(ds)/2]
		}
		wrong := measure(w.Email)
		unknown := measure("nobody-" + uuid.NewString() + "@example.com")
		t.Logf("median sign-in failure: wrong password %s, unknown email %s", wrong, unknown)
		if unknown < wrong/4 {
			t.Errorf("an unknown email answers in %s, a wrong password in %s: the difference tells accounts apart", unknown, wrong)
		}
	})

	t.Run("bad requests", func(t *testing.T) {
		for _, c := range []struct {
			name string
			body any
			want int
		}{
			{"no password", map[string]any{"email": u.Email}, 422},
			{"no email", map[string]any{"password": pw}, 422},
			{"unknown field", map[string]any{"email": u.Email, "password": pw, "remember": true}, 400},
			{"password too long", map[string]any{"email": u.Email, "password": strings.Repeat("p", 1001)}, 422},
			{"not JSON", "{", 400},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := stack.Do(t, "POST", "/api/v1/auth/login", "", c.body, "X-Forwarded-For", clientAddr())
				assertProblem(t, r, c.want, pw)
			})
		}
	})

	t.Run("failures for one email are throttled, even with the right password next", func(t *testing.T) {
		v, _ := stack.NewUser(t, models.RoleCustomer)
		setPassword(t, v.ID, pw)
		for i := range 5 {
			if status, body, _ := login(t, clientAddr(), v.Email, "wrong password "+strconv.Itoa(i)); status != 401 {
				t.Fatalf("failure %d: %d %v", i+1, status, body)
			}
		}
		r := stack.Do(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": v.Email, "password": pw}, "X-Forwarded-For", clientAddr())
		assertProblem(t, r, http.StatusTooManyRequests, pw)
		if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 || n > 15*60 {
			t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
		}
		// Other accounts are not affected.
		if status, _, _ := login(t, clientAddr(), u.Email, pw); status != 200 {
			t.Errorf("another account's sign-in: %d", status)
		}
	})

	t.Run("failures from one address are throttled across emails", func(t *testing.T) {
		addr := clientAddr()
		for i := range 20 {
			if status, _, _ := login(t, addr, fmt.Sprintf("spray-%d-%s@example.com", i, uuid.NewString()), "guess guess guess"); status != 401 {
				t.Fatalf("failure %d: %d", i+1, status)
			}
		}
		status, _, h := login(t, addr, u.Email, pw)
		if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
			t.Errorf("21st attempt from one address: %d, Retry-After %q", status, h.Get("Retry-After"))
		}
		if status, _, _ := login(t, clientAddr(), u.Email, pw); status != 200 {
			t.Errorf("the same account from another address: %d", status)
		}
	})
}

func TestChangePassword(t *testing.T) {
	const pw = "first password 1"
	u, tok := stack.NewUser(t, models.RoleCustomer)
	path := "/api/v1/users/me/password"

	t.Run("without a password yet", func(t *testing.T) {
		r := stack.Do(t, "PUT", path, tok, map[string]any{"current_password": "anything at all", "new_password": "a new password"})
		p := assertProblem(t, r, 422)
		if !slices.Equal(errorFields(p), []string{"current_password"}) {
			t.Errorf("fields %v", errorFields(p))
		}
	})
	setPassword(t, u.ID, pw)
	for _, c := range []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"wrong current password", map[string]any{"current_password": "not it at all", "new_password": "second password"}, []string{"current_password"}},
		{"new password too short", map[string]any{"current_password": pw, "new_password": "short"}, []string{"new_password"}},
		{"same password", map[string]any{"current_password": pw, "new_password": pw}, []string{"new_password"}},
		{"nothing", map[string]any{}, []string{"current_password", "new_password"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := stack.Do(t, "PUT", path, tok, c.body)
			p := assertProblem(t, r, 422, pw, "second password")
			if got := errorFields(p); !slices.Equal(got, c.fields) {
				t.Errorf("fields %v, want %v", got, c.fields)
			}
		})
	}
	t.Run("changed", func(t *testing.T) {
		mustDo(t, http.StatusNoContent, "PUT", path, tok, map[string]any{"current_password": pw, "new_password": "second password"})
		if status, _, _ := login(t, clientAddr(), u.Email, pw); status != 401 {
			t.Errorf("old password: %d", status)
		}
		if status, _, _ := login(t, clientAddr(), u.Email, "second password"); status != 200 {
			t.Errorf("new password: %d", status)
		}
		var hash string
		if err := stack.DB.Table("users").Select("password_hash").Where("id = ?", u.ID).Take(&hash).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(hash, "second password") {
			t.Errorf("stored hash %q", hash)
		}
	})
	t.Run("tokens are still required", func(t *testing.T) {
		assertProblem(t, stack.Do(t, "PUT", path, "", map[string]any{"current_password": pw, "new_password": "third password"}), 401)
	})
}

// TestLoginHashCost reports what one sign-in costs with the default
// argon2id parameters.
func TestLoginHashCost(t *testing.T) {
	hash, err := models.HashPassword("some password", models.DefaultPasswordParams)
	if err != nil {
		t.Fatal(err)
	}
	var ds []time.Duration
	for range 5 {
		start := time.Now()
		ok, err := models.VerifyPassword("some password", hash)
		ds = append(ds, time.Since(start))
		if err != nil || !ok {
			t.Fatalf("verify: %v %v", ok, err)
		}
	}
	slices.Sort(ds)
	t.Logf("argon2id %+v: median verify %s (min %s, max %s)", models.DefaultPasswordParams, ds[2], ds[0], ds[4])
	_ = api.LoginTTL
}
