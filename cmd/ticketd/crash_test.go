package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
)

// The crash tests run `ticketd serve` and `ticketd worker` as processes of
// their own (this test binary, re-executed) on a real PostgreSQL and an
// in-process Temporal server, and kill them under load.

// childEnv, when set, makes the test binary run ticketd with the arguments
// it holds (space-separated) instead of the tests.
const childEnv = "TICKETD_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, strings.Fields(args), os.Getenv, os.Stdout, os.Stderr)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "ticketd:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashEnv is the database and Temporal server the processes share.
type crashEnv struct {
	db       *gorm.DB
	env      []string
	apiAddr  string
	logDir   string
	custTok  string
	agentTok string
}

func newCrashEnv(t *testing.T) *crashEnv {
	t.Helper()
	d, db := testenv.Postgres(t, "crash")
	ts := testenv.Temporal(t)
	e := &crashEnv{db: db, apiAddr: freeAddr(t), logDir: t.TempDir()}
	e.env = append(os.Environ(),
		"DATABASE_URL="+d.DSN,
		"TEMPORAL_ADDRESS="+ts.GetFrontendHostPort(),
		"TEMPORAL_NAMESPACE="+ts.GetDefaultNamespace(),
		"TICKETD_JWT_SECRET="+string(testenv.Secret),
		"TICKETD_DATA_DIR="+t.TempDir(),
		"HTTP_ADDR="+e.apiAddr,
		"METRICS_ADDR=127.0.0.1:0",
		"TICKETD_RATE_LIMIT=0",
		"LOG_LEVEL=warn",
	)
	store := models.NewStore(db)
	for _, role := range []models.Role{models.RoleCustomer, models.RoleAgent} {
		now := time.Now().UTC().Truncate(time.Microsecond)
		u := models.User{ID: uuid.NewString(),
			Email: string(role) + "@crash.example", Name: "Crash " + string(role), Role: role, Active: true, CreatedAt: now, UpdatedAt: now}
		if err := store.CreateUser(t.Context(), &u); err != nil {
			t.Fatal(err)
		}
		if role == models.RoleCustomer {
			e.custTok = testenv.Token(t, u.ID)
		} else {
			e.agentTok = testenv.Token(t, u.ID)
		}
	}
	return e
}

// proc is one ticketd process.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// start runs `ticketd <args>` as a process.
func (e *crashEnv) start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	log, err := os.OpenFile(filepath.Join(e.logDir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(e.env, childEnv+"="+strings.Join(args, " "))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		_ = log.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// term sends SIGTERM and waits for the process to drain and exit.
func (p *proc) term(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if code := p.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("%s exited with %d after SIGTERM", p.name, code)
		}
	case <-time.After(60 * time.Second):
		t.Errorf("%s did not exit within 60s of SIGTERM", p.name)
	}
}

// startAPI starts `ticketd serve` and waits until it is ready.
func (e *crashEnv) startAPI(t *testing.T) *proc {
	t.Helper()
	p := e.start(t, "serve", "serve")
	e.waitReady(t, p)
	return p
}

func (e *crashEnv) waitReady(t *testing.T, p *proc) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + e.apiAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready; see %s", p.name, e.logDir)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("%s not ready after 60s", p.name)
}

// call sends one request; status 0 means no response (the process died or
// was not listening).
func (e *crashEnv) call(method, path, token string, body any) (int, map[string]any) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, "http://"+e.apiAddr+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	c := &http.Client{Timeout: 40 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// sent is one change a client asked for, with what it was answered.
type sent struct {
	ticket string
	kind   string // "reply" or "status"
	mark   string // the reply's body or the status change's reason: unique
	code   int
}

// load runs 16 clients changing tickets until stop is closed; each change
// carries a unique mark so that the database can tell which were stored.
func (e *crashEnv) load(tickets []string, stop <-chan struct{}) []sent {
	var (
		mu  sync.Mutex
		out []sent
		wg  sync.WaitGroup
	)
	for c := range 16 {
		wg.Go(func() {
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				id := tickets[(c+seq)%len(tickets)]
				s := sent{ticket: id, mark: fmt.Sprintf("c%d-%d", c, seq)}
				if seq%3 == 2 {
					to := "open"
					if seq%2 == 0 {
						to = "in_progress"
					}
					s.kind = "status"
					s.code, _ = e.call("POST", "/api/v1/tickets/"+id+"/status", e.agentTok, map[string]any{"status": to, "reason": s.mark})
				} else {
					s.kind = "reply"
					s.code, _ = e.call("POST", "/api/v1/tickets/"+id+"/replies", e.agentTok, map[string]any{"body": s.mark})
				}
				mu.Lock()
				out = append(out, s)
				mu.Unlock()
				if s.code == 0 {
					time.Sleep(50 * time.Millisecond) // the API is down: do not spin
				}
			}
		})
	}
	wg.Wait()
	return out
}

// tally is what became of the changes sent.
type tally struct {
	acknowledged, cutOff, refused, lost, duplicated int
}

// check verifies that every acknowledged change is stored exactly once,
// none twice, every timeline is gapless and the next change raises each
// ticket's version by one.
func (e *crashEnv) check(t *testing.T, tickets []string, changes []sent) tally {
	t.Helper()
	var replies []models.Reply
	if err := e.db.Where("ticket_id IN ?", tickets).Find(&replies).Error; err != nil {
		t.Fatal(err)
	}
	var events []models.Event
	if err := e.db.Where("ticket_id IN ?", tickets).Order("ticket_id, seq").Find(&events).Error; err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, r := range replies {
		stored["reply "+r.Body]++
	}
	seqs := map[string][]int64{}
	for _, ev := range events {
		seqs[ev.TicketID] = append(seqs[ev.TicketID], ev.Seq)
		if ev.Type == models.EventStatusChanged {
			if reason, ok := ev.Data["reason"].(string); ok {
				stored["status "+reason]++
			}
		}
	}
	var n tally
	for _, c := range changes {
		count := stored[c.kind+" "+c.mark]
		switch {
		case c.code == 0 || c.code == http.StatusServiceUnavailable:
			n.cutOff++
		case c.code >= 500:
			t.Errorf("%s %s answered %d: only 503 may be a 5xx", c.kind, c.mark, c.code)
		case c.code >= 200 && c.code < 300:
			n.acknowledged++
			if count == 0 {
				n.lost++
				t.Errorf("acknowledged %s %s is not stored", c.kind, c.mark)
			}
		default:
			n.refused++ // 409: another client moved the ticket first
			if count > 0 {
				t.Errorf("refused (%d) %s %s is stored", c.code, c.kind, c.mark)
			}
		}
		if c.code == http.StatusServiceUnavailable && count > 0 {
			t.Errorf("%s %s answered 503 but is stored", c.kind, c.mark)
		}
		if count > 1 {
			n.duplicated++
			t.Errorf("%s %s is stored %d times", c.kind, c.mark, count)
		}
	}
	for id, s := range seqs {
		for i, seq := range s {
			if seq != int64(i+1) {
				t.Errorf("timeline of %s has a gap: %v", id, s)
				break
			}
		}
	}
	for _, id := range tickets {
		var tk models.Ticket
		if err := e.db.Take(&tk, "id = ?", id).Error; err != nil {
			t.Fatal(err)
		}
		code, m := e.call("POST", "/api/v1/tickets/"+id+"/replies", e.agentTok, map[string]any{"body": "after " + id})
		if code != http.StatusCreated {
			t.Errorf("reply to %s after recovery: %d %v", id, code, m)
			continue
		}
		var after models.Ticket
		if err := e.db.Take(&after, "id = ?", id).Error; err != nil {
			t.Fatal(err)
		}
		if after.Version != tk.Version+1 {
			t.Errorf("the next change took %s from version %d to %d, want %d", id, tk.Version, after.Version, tk.Version+1)
		}
	}
	t.Logf("changes sent %d: acknowledged %d, cut off %d (no response or 503), refused %d (409), lost %d, duplicated %d",
		len(changes), n.acknowledged, n.cutOff, n.refused, n.lost, n.duplicated)
	return n
}

func (e *crashEnv) newTickets(t *testing.T, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		code, m := e.call("POST", "/api/v1/tickets", e.custTok, map[string]any{"subject": fmt.Sprintf("crash %d", i), "description": "d"})
		if code != http.StatusCreated {
			t.Fatalf("create ticket: %d %v", code, m)
		}
		ids = append(ids, m["id"].(string))
	}
	return ids
}

func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests start processes; -short skips them")
	}
	for _, victim := range []string{"worker", "api"} {
		t.Run("kill -9 the "+victim, func(t *testing.T) {
			e := newCrashEnv(t)
			worker := e.start(t, "worker", "worker")
			api := e.startAPI(t)
			tickets := e.newTickets(t, 10)

			stop := make(chan struct{})
			var changes []sent
			done := make(chan struct{})
			go func() { changes = e.load(tickets, stop); close(done) }()
			time.Sleep(3 * time.Second)
			if victim == "worker" {
				worker.kill()
				time.Sleep(time.Second)
				e.start(t, "worker", "worker")
			} else {
				api.kill()
				time.Sleep(time.Second)
				e.startAPI(t)
			}
			time.Sleep(4 * time.Second)
			close(stop)
			<-done
			n := e.check(t, tickets, changes)
			if n.acknowledged == 0 {
				t.Fatal("no change was acknowledged: the test measured nothing")
			}
		})
	}
}

func TestSIGTERMDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("crash tests start processes; -short skips them")
	}
	for _, victim := range []string{"worker", "api"} {
		t.Run(victim, func(t *testing.T) {
			e := newCrashEnv(t)
			worker := e.start(t, "worker", "worker")
			api := e.startAPI(t)
			tickets := e.newTickets(t, 10)
			stop := make(chan struct{})
			var changes []sent
			done := make(chan struct{})
			go func() { changes = e.load(tickets, stop); close(done) }()
			time.Sleep(2 * time.Second)
			if victim == "worker" {
				// A rolling restart: the new worker is up before the old
				// one drains.
				e.start(t, "worker", "worker")
				worker.term(t)
				time.Sleep(2 * time.Second)
				close(stop)
				<-done
			} else {
				// The clients stop sending when the API starts draining,
				// as a load balancer would; what was in flight completes.
				go func() { time.Sleep(50 * time.Millisecond); close(stop) }()
				api.term(t)
				<-done
			}
			for _, c := range changes {
				if c.code == 0 && victim == "api" {
					continue // sent after the listener closed: never reached it
				}
				if c.code == 0 || c.code >= 500 {
					t.Errorf("%s %s answered %d while the %s drained", c.kind, c.mark, c.code, victim)
				}
			}
			if victim == "api" {
				e.startAPI(t)
			}
			e.check(t, tickets, changes)
		})
	}
}
