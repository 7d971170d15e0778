package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/models"
)

// syncBuffer is an io.Writer safe to read while the program writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// devProcess is one `ticketd dev` run inside the test process.
type devProcess struct {
	cancel   context.CancelFunc
	done     chan error
	out      *syncBuffer
	api      string
	tokens   map[string]string
	password string // the demo users' password
}

var (
	apiLine   = regexp.MustCompile(`API:\s+(http://\S+)/api/v1`)
	tokenLine = regexp.MustCompile(`export (\w+)_TOKEN=(\S+)`)
	pwLine    = regexp.MustCompile(`admin@example\.com\s+password: (\S+)`)
)

func startDev(t *testing.T, dataDir string) *devProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &devProcess{cancel: cancel, done: make(chan error, 1), out: &syncBuffer{}, tokens: map[string]string{}}
	env := map[string]string{"LOG_LEVEL": "error"}
	args := []string{"dev", "--data-dir", dataDir, "--http-addr", "127.0.0.1:0", "--temporal-addr", "127.0.0.1:0", "--ui-addr", ""}
	go func() { p.done <- run(ctx, args, func(k string) string { return env[k] }, p.out, io.Discard) }()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		out := p.out.String()
		if m := apiLine.FindStringSubmatch(out); m != nil && len(tokenLine.FindAllString(out, -1)) == 4 {
			p.api = m[1]
			for _, tm := range tokenLine.FindAllStringSubmatch(out, -1) {
				p.tokens[tm[1]] = tm[2]
			}
			if m := pwLine.FindStringSubmatch(out); m != nil {
				p.password = m[1]
			}
			return p
		}
		select {
		case err := <-p.done:
			t.Fatalf("ticketd dev exited early: %v\n%s", err, out)
		case <-time.After(100 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("ticketd dev did not print its welcome in time:\n%s", p.out.String())
	return nil
}

func (p *devProcess) stop(t *testing.T) {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("ticketd dev stopped with %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("ticketd dev did not stop within a minute")
	}
}

func (p *devProcess) call(t *testing.T, method, path, who string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.api+path, rd)
	req.Header.Set("Authorization", "Bearer "+p.tokens[who])
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestDevModeSurvivesRestart starts `ticketd dev` (embedded Temporal server
// on SQLite, SQLite app database), files and answers a ticket, restarts it on
// the same data dir, and finds the ticket, its reply and its live workflow
// still there.
func TestDevModeSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	p := startDev(t, dir)
	status, tk := p.call(t, "POST", "/api/v1/tickets", "CUSTOMER", map[string]any{"subject": "Dev mode", "description": "survives restarts"})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, tk)
	}
	id := tk["id"].(string)
	if status, r := p.call(t, "POST", "/api/v1/tickets/"+id+"/replies", "AGENT", map[string]any{"body": "hello"}); status != http.StatusCreated {
		t.Fatalf("reply: %d %v", status, r)
	}
	firstTokens, firstPassword := p.tokens, p.password
	p.stop(t)

	p = startDev(t, dir)
	defer p.stop(t)
	if len(p.tokens) != len(firstTokens) {
		t.Fatalf("demo users after restart: %v", p.tokens)
	}
	status, got := p.call(t, "GET", "/api/v1/tickets/"+id, "CUSTOMER", nil)
	if status != http.StatusOK || len(got["replies"].([]any)) != 1 || got["first_response_at"] == nil {
		t.Fatalf("after restart: %d %v", status, got)
	}
	// The ticket's workflow is still running and takes updates.
	status, moved := p.call(t, "POST", "/api/v1/tickets/"+id+"/status", "AGENT", map[string]any{"status": "in_progress"})
	if status != http.StatusOK || moved["status"] != "in_progress" || moved["version"] != float64(3) {
		t.Fatalf("status after restart: %d %v", status, moved)
	}
	// Tokens from the first run still work: the secret lives in the data dir.
	p.tokens = firstTokens
	if status, _ := p.call(t, "GET", "/api/v1/users/me", "ADMIN", nil); status != http.StatusOK {
		t.Fatalf("old token after restart: %d", status)
	}
	// The demo password printed on the first run is printed again and
	// signs in.
	if p.password == "" || p.password != firstPassword || len(p.password) < 10 {
		t.Fatalf("demo password %q, first run printed %q", p.password, firstPassword)
	}
	status, signedIn := p.call(t, "POST", "/api/v1/auth/login", "", map[string]any{"email": "admin@example.com", "password": p.password})
	if status != http.StatusOK || signedIn["token"] == nil {
		t.Fatalf("sign in with the demo password: %d %v", status, signedIn)
	}

	// The event streams work on SQLite too: the ticket's history from the
	// start, and a change as it happens.
	changes := p.stream(t, "/api/v1/stream", "CUSTOMER", "")
	history := p.stream(t, "/api/v1/tickets/"+id+"/stream", "CUSTOMER", "0")
	if line := history.waitFor(t, "id: 1"); line == "" {
		t.Fatal("no first event on the ticket stream")
	}
	if status, _ := p.call(t, "POST", "/api/v1/tickets/"+id+"/replies", "CUSTOMER", map[string]any{"body": "live?"}); status != http.StatusCreated {
		t.Fatalf("reply: %d", status)
	}
	if line := changes.waitFor(t, `"id":"`+id+`"`); line == "" {
		t.Fatal("the change stream did not announce the reply")
	}
}

// sseReader collects a stream's lines.
type sseReader struct {
	lines chan string
}

func (p *devProcess) stream(t *testing.T, path, who, lastID string) *sseReader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", p.api+path, nil)
	req.Header.Set("Authorization", "Bearer "+p.tokens[who])
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %v", path, err, resp)
	}
	r := &sseReader{lines: make(chan string, 256)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			r.lines <- sc.Text()
		}
		close(r.lines)
	}()
	return r
}

// waitFor returns the first line containing s, or "" after a while.
func (r *sseReader) waitFor(t *testing.T, s string) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-r.lines:
			if !ok {
				return ""
			}
			if strings.Contains(l, s) {
				return l
			}
		case <-deadline:
			return ""
		}
	}
}

// TestAdminCommands runs migrate, user add and token against an SQLite
// data dir.
func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"TICKETD_DATA_DIR": dir, "TICKETD_JWT_SECRET": strings.Repeat("s", 32), "LOG_LEVEL": "error"}
	getenv := func(k string) string { return env[k] }
	ctx := context.Background()
	do := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, getenv, &out, io.Discard)
		return out.String(), err
	}
	out, err := do("migrate", "status")
	if err != nil || !strings.Contains(out, "pending  0001_initial_schema") {
		t.Fatalf("status before: %v %q", err, out)
	}
	if out, err = do("migrate", "up"); err != nil || strings.Contains(out, "pending") {
		t.Fatalf("up: %v %q", err, out)
	}
	if out, err = do("migrate", "down", "--to", "0001_initial_schema"); err != nil || !strings.Contains(out, "pending  0002") {
		t.Fatalf("down --to: %v %q", err, out)
	}
	if out, err = do("migrate", "down"); err != nil || strings.Contains(out, "applied") {
		t.Fatalf("down: %v %q", err, out)
	}
	if _, err = do("migrate", "up"); err != nil {
		t.Fatal(err)
	}
	out, err = do("user", "add", "--email", "Zoe@Example.com", "--name", "Zoe", "--role", "agent")
	if err != nil {
		t.Fatal(err)
	}
	var u map[string]any
	if err := json.Unmarshal([]byte(out), &u); err != nil || u["email"] != "zoe@example.com" || u["role"] != "agent" {
		t.Fatalf("user add printed %q (%v)", out, err)
	}
	if _, err = do("user", "add", "--email", "zoe@example.com", "--name", "Zoe", "--role", "agent"); err == nil {
		t.Fatal("duplicate user add succeeded")
	}
	if _, err = do("user", "add", "--email", "x@example.com", "--name", "X", "--role", "boss"); err == nil {
		t.Fatal("bad role accepted")
	}
	out, err = do("token", "--email", "zoe@example.com", "--ttl", "1h")
	if err != nil || strings.Count(strings.TrimSpace(out), ".") != 2 {
		t.Fatalf("token: %v %q", err, out)
	}
	if _, err = do("token", "--email", "nobody@example.com"); err == nil {
		t.Fatal("token for unknown user succeeded")
	}
	if _, err = do("bogus"); err == nil {
		t.Fatal("unknown command succeeded")
	}

	// Passwords come from standard input only.
	withStdin := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := runIO(ctx, args, getenv, strings.NewReader(stdin), &out, io.Discard)
		return out.String(), err
	}
	verify := func(email, pw string) bool {
		t.Helper()
		db, err := models.Open("sqlite:"+filepath.Join(dir, "ticketd.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer closeDB(db)
		_, hash, err := models.NewStore(db).UserForLogin(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := models.VerifyPassword(pw, hash)
		return err == nil && ok
	}
	out, err = withStdin("first password\n", "user", "add", "--email", "pat@example.com", "--name", "Pat", "--role", "customer", "--password-stdin")
	if err != nil || strings.Contains(out, "first password") || strings.Contains(out, "argon2") {
		t.Fatalf("user add --password-stdin: %v %q", err, out)
	}
	if !verify("pat@example.com", "first password") {
		t.Error("the password given to user add does not verify")
	}
	if _, err = withStdin("second password\r\n", "user", "passwd", "--email", "pat@example.com", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	if !verify("pat@example.com", "second password") || verify("pat@example.com", "first password") {
		t.Error("user passwd did not replace the password")
	}
	for _, c := range []struct {
		name, stdin string
		args        []string
	}{
		{"too short", "short\n", []string{"user", "passwd", "--email", "pat@example.com", "--password-stdin"}},
		{"empty", "", []string{"user", "passwd", "--email", "pat@example.com", "--password-stdin"}},
		{"without --password-stdin", "long enough password\n", []string{"user", "passwd", "--email", "pat@example.com"}},
		{"unknown user", "long enough password\n", []string{"user", "passwd", "--email", "nobody@example.com", "--password-stdin"}},
		{"add with a short one", "short\n", []string{"user", "add", "--email", "q@example.com", "--name", "Q", "--password-stdin"}},
	} {
		if _, err := withStdin(c.stdin, c.args...); err == nil {
			t.Errorf("%s: succeeded", c.name)
		}
	}
	if !verify("pat@example.com", "second password") {
		t.Error("a refused passwd changed the password")
	}
}
