package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ticketd/ticketd/models"
)

// LoginTTL is how long a token from POST /auth/login is valid.
const LoginTTL = 12 * time.Hour

// Login throttling: failures per email and per client address within
// loginWindow; past the limit, attempts are refused until the window ends.
const (
	loginWindow        = 15 * time.Minute
	loginFailsPerEmail = 5
	loginFailsPerAddr  = 20
	// maxThrottleKeys bounds the memory of each failure table.
	maxThrottleKeys = 100_000
)

// errLoginFailed is the one answer to every failed sign-in.
var errLoginFailed = errors.New("login failed")

// failures counts recent failures per key in fixed windows. Memory is
// bounded: expired windows are swept, and when the table is still full an
// arbitrary entry makes room (an attacker spraying keys from one address
// still meets the per-address limit).
type failures struct {
	limit  int
	window time.Duration
	max    int
	mu     sync.Mutex
	m      map[string]*failWindow
}

type failWindow struct {
	start time.Time
	n     int
}

func newFailures(limit int, window time.Duration, max int) *failures {
	return &failures{limit: limit, window: window, max: max, m: map[string]*failWindow{}}
}

// blocked reports whether key is over its limit now, and for how many
// seconds it stays so.
func (f *failures) blocked(key string, now time.Time) (bool, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.m[key]
	if !ok || now.Sub(w.start) >= f.window {
		return false, 0
	}
	if w.n < f.limit {
		return false, 0
	}
	return true, max(1, int(math.Ceil(w.start.Add(f.window).Sub(now).Seconds())))
}

// fail records a failure of key.
func (f *failures) fail(key string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w, ok := f.m[key]
	if ok && now.Sub(w.start) < f.window {
		w.n++
		return
	}
	if !ok && len(f.m) >= f.max {
		for k, w := range f.m {
			if now.Sub(w.start) >= f.window {
				delete(f.m, k)
			}
		}
		for k := range f.m {
			if len(f.m) < f.max {
				break
			}
			delete(f.m, k)
		}
	}
	f.m[key] = &failWindow{start: now, n: 1}
}

// clear forgets key's failures.
func (f *failures) clear(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, key)
}

// passwords hashes and verifies passwords with a bounded number of argon2id
// computations at once (each takes its memory cost), and a dummy hash to
// verify against when there is no real one, so that every failed sign-in
// costs the same time.
type passwords struct {
	params models.PasswordParams
	slots  chan struct{}
	once   sync.Once
	dummy  string
}

func newPasswords(p models.PasswordParams, concurrent int) *passwords {
	return &passwords{params: p, slots: make(chan struct{}, concurrent)}
}

func (p *passwords) acquire(ctx context.Context) error {
	select {
	case p.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *passwords) release() { <-p.slots }

// verify reports whether pw matches hash; an empty hash verifies against
// the dummy and never matches.
func (p *passwords) verify(ctx context.Context, pw, hash string) (bool, error) {
	if err := p.acquire(ctx); err != nil {
		return false, err
	}
	defer p.release()
	if hash == "" {
		p.once.Do(func() { p.dummy, _ = models.HashPassword("no password here", p.params) })
		_, _ = models.VerifyPassword(pw, p.dummy)
		return false, nil
	}
	return models.VerifyPassword(pw, hash)
}

func (p *passwords) hash(ctx context.Context, pw string) (string, error) {
	if err := p.acquire(ctx); err != nil {
		return "", err
	}
	defer p.release()
	return models.HashPassword(pw, p.params)
}

type loginBody struct {
	Email    *string `json:"email"`
	Password *string `json:"password"`
}

type loginResult struct {
	Token     string      `json:"token"`
	ExpiresAt time.Time   `json:"expires_at"`
	User      models.User `json:"user"`
}

func (s *Server) login(c *gin.Context) {
	var b loginBody
	if err := decode(c, &b); err != nil {
		s.fail(c, err)
		return
	}
	v := &models.ValidationError{}
	email := strings.ToLower(strings.TrimSpace(checkText(v, "email", b.Email, 254, true)))
	pw := ""
	switch {
	case b.Password == nil:
		v.Add("password", "is required")
	case *b.Password == "":
		v.Add("password", "must not be empty")
	case len([]rune(*b.Password)) > models.MaxPasswordLen:
		v.Add("password", "must be at most %d characters", models.MaxPasswordLen)
	default:
		pw = *b.Password
	}
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	now := time.Now()
	emailKey, addrKey := email, c.ClientIP()
	if no, wait := s.loginFails.blocked(emailKey, now); no {
		s.fail(c, &rateLimited{retryAfter: wait})
		return
	}
	if no, wait := s.addrFails.blocked(addrKey, now); no {
		s.fail(c, &rateLimited{retryAfter: wait})
		return
	}
	ctx := c.Request.Context()
	u, hash, err := s.store.UserForLogin(ctx, email)
	if err != nil && !errors.Is(err, models.ErrNotFound) {
		s.fail(c, err)
		return
	}
	if err != nil {
		hash = "" // unknown email: verify against the dummy all the same
	}
	ok, err := s.passwords.verify(ctx, pw, hash)
	if errors.Is(err, models.ErrBadPasswordHash) {
		s.log.WarnContext(ctx, "stored password hash is malformed", "user_id", u.ID)
		ok, err = false, nil
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if !ok || !u.Active {
		s.loginFails.fail(emailKey, now)
		s.addrFails.fail(addrKey, now)
		s.fail(c, errLoginFailed)
		return
	}
	s.loginFails.clear(emailKey)
	tok, err := IssueToken(s.cfg.JWTSecret, u.ID, LoginTTL, now)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	writeJSON(c, http.StatusOK, loginResult{Token: tok, ExpiresAt: now.Add(LoginTTL).UTC().Truncate(time.Second), User: u})
}

type passwordBody struct {
	CurrentPassword *string `json:"current_password"`
	NewPassword     *string `json:"new_password"`
}

func (s *Server) changePassword(c *gin.Context) {
	u := caller(c)
	var b passwordBody
	if err := decode(c, &b); err != nil {
		s.fail(c, err)
		return
	}
	now := time.Now()
	key := "user:" + u.ID
	if no, wait := s.loginFails.blocked(key, now); no {
		s.fail(c, &rateLimited{retryAfter: wait})
		return
	}
	v := &models.ValidationError{}
	if b.CurrentPassword == nil || *b.CurrentPassword == "" {
		v.Add("current_password", "is required")
	}
	if b.NewPassword == nil {
		v.Add("new_password", "is required")
	} else if msg := models.CheckPasswordLength(*b.NewPassword); msg != "" {
		v.Add("new_password", "%s", msg)
	}
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	hash, err := s.store.PasswordHash(ctx, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	ok, err := s.passwords.verify(ctx, *b.CurrentPassword, hash)
	if err != nil && !errors.Is(err, models.ErrBadPasswordHash) {
		s.fail(c, err)
		return
	}
	switch {
	case hash == "":
		v.Add("current_password", "you have no password yet; an operator sets the first one with ticketd user passwd")
	case !ok:
		s.loginFails.fail(key, now)
		v.Add("current_password", "is not your current password")
	case *b.NewPassword == *b.CurrentPassword:
		v.Add("new_password", "must differ from the current password")
	}
	if err := v.Err(); err != nil {
		s.fail(c, err)
		return
	}
	s.loginFails.clear(key)
	newHash, err := s.passwords.hash(ctx, *b.NewPassword)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.store.SetPasswordHash(ctx, u.ID, newHash); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
