package api_test

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
)

// parallel runs fn(i) for i in [0, n) at once and waits for all.
func parallel(n int, fn func(i int)) {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start // line everyone up, so the requests really overlap
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

func ticketRows(t *testing.T, customerID string) int64 {
	t.Helper()
	var n int64
	if err := stack.DB.Unscoped().Model(&models.Ticket{}).Where("customer_id = ?", customerID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIdempotentCreate(t *testing.T) {
	req := map[string]any{"subject": "Idempotent", "description": "Create me once.", "priority": "low"}
	post := func(tok, key string, b any) *testenv.Response {
		return stack.Do(t, "POST", "/api/v1/tickets", tok, b, "Idempotency-Key", key)
	}

	t.Run("sequential", func(t *testing.T) {
		cust, tok := stack.NewUser(t, models.RoleCustomer)
		first := post(tok, "seq-key", req)
		wantStatus(t, body(first.Body), first.Status, http.StatusCreated)
		id := first.Map(t)["id"].(string)
		if first.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("the first create says Idempotent-Replayed: %q", first.Header.Get("Idempotent-Replayed"))
		}
		again := post(tok, "seq-key", req)
		wantStatus(t, body(again.Body), again.Status, http.StatusCreated)
		if got := again.Map(t)["id"]; got != id {
			t.Errorf("replay created ticket %v, want %s", got, id)
		}
		if again.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay without Idempotent-Replayed: true (headers %v)", again.Header)
		}
		if got := again.Header.Get("Location"); got != "/api/v1/tickets/"+id {
			t.Errorf("replay Location = %q", got)
		}
		if n := ticketRows(t, cust.ID); n != 1 {
			t.Errorf("%d ticket rows, want 1", n)
		}

		// The same key with another body is refused and creates nothing.
		other := map[string]any{"subject": "Idempotent", "description": "Something else.", "priority": "low"}
		r := post(tok, "seq-key", other)
		wantStatus(t, body(r.Body), r.Status, http.StatusUnprocessableEntity)
		if errs, _ := r.Map(t)["errors"].([]any); len(errs) == 0 || errs[0].(map[string]any)["field"] != "Idempotency-Key" {
			t.Errorf("422 does not name Idempotency-Key: %s", r.Body)
		}
		if n := ticketRows(t, cust.ID); n != 1 {
			t.Errorf("%d ticket rows after a refused reuse, want 1", n)
		}

		// Keys are per caller: another customer's same key is another ticket.
		cust2, tok2 := stack.NewUser(t, models.RoleCustomer)
		r = post(tok2, "seq-key", req)
		wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
		if got := r.Map(t); got["id"] == id || got["customer_id"] != cust2.ID {
			t.Errorf("another caller's same key returned %s (first ticket %s)", r.Body, id)
		}
		if r.Header.Get("Idempotent-Replayed") != "" {
			t.Error("another caller's first use of a key is marked as a replay")
		}
		if n := ticketRows(t, cust.ID); n != 1 {
			t.Errorf("first customer has %d ticket rows, want 1", n)
		}

		// An agent filing for the customer with the same key is yet another caller.
		_, agentTok := stack.NewUser(t, models.RoleAgent)
		r = post(agentTok, "seq-key", map[string]any{"subject": "s", "description": "d", "customer_id": cust.ID})
		wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
		if r.Map(t)["id"] == id {
			t.Error("an agent's key collided with the customer's")
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		cust, tok := stack.NewUser(t, models.RoleCustomer)
		const n = 8
		res := make([]*testenv.Response, n)
		parallel(n, func(i int) { res[i] = post(tok, "conc-key", req) })
		var id string
		fresh := 0
		for i, r := range res {
			if r.Status != http.StatusCreated {
				t.Errorf("request %d: %d %s", i, r.Status, r.Body)
				continue
			}
			got := r.Map(t)["id"].(string)
			if id == "" {
				id = got
			}
			if got != id {
				t.Errorf("request %d created %s, another %s", i, got, id)
			}
			if r.Header.Get("Idempotent-Replayed") != "true" {
				fresh++
			}
		}
		if fresh != 1 {
			t.Errorf("%d responses without Idempotent-Replayed: true, want exactly 1 (the one that created)", fresh)
		}
		if rows := ticketRows(t, cust.ID); rows != 1 {
			t.Errorf("%d ticket rows, want 1", rows)
		}
		var keys int64
		stack.DB.Model(&models.IdempotencyKey{}).Where("user_id = ?", cust.ID).Count(&keys)
		if keys != 1 {
			t.Errorf("%d idempotency key rows, want 1", keys)
		}
		// A late sequential retry still gets the same ticket.
		r := post(tok, "conc-key", req)
		if r.Status != http.StatusCreated || r.Map(t)["id"] != id || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("late retry: %d %v %s", r.Status, r.Header, r.Body)
		}
	})

	t.Run("concurrent reuse with another body", func(t *testing.T) {
		// Half the requests carry one body, half another, all with the same
		// key: whichever body wins, the other must be refused, never
		// answered with a ticket it did not ask for.
		cust, tok := stack.NewUser(t, models.RoleCustomer)
		bodies := []map[string]any{
			{"subject": "Body A", "description": "a"},
			{"subject": "Body B", "description": "b"},
		}
		const n = 8
		res := make([]*testenv.Response, n)
		parallel(n, func(i int) { res[i] = post(tok, "race-key", bodies[i%2]) })
		if rows := ticketRows(t, cust.ID); rows != 1 {
			t.Fatalf("%d ticket rows, want 1", rows)
		}
		var stored models.Ticket
		if err := stack.DB.Where("customer_id = ?", cust.ID).Take(&stored).Error; err != nil {
			t.Fatal(err)
		}
		var wrong []string
		for i, r := range res {
			won := bodies[i%2]["subject"] == stored.Subject
			switch {
			case won && r.Status == http.StatusCreated:
			case !won && r.Status == http.StatusUnprocessableEntity:
			case !won && r.Status == http.StatusCreated:
				wrong = append(wrong, fmt.Sprintf("request %d (%s) got 201 with the ticket of %q", i, bodies[i%2]["subject"], stored.Subject))
			default:
				t.Errorf("request %d (%s): %d %s", i, bodies[i%2]["subject"], r.Status, r.Body)
			}
		}
		if len(wrong) > 0 {
			t.Errorf("concurrent reuse of an Idempotency-Key with another body was answered 201 with the other body's ticket: %v", wrong)
		}
	})
}

// change is one kind of write the concurrency tests send.
type change int

const (
	agentReply change = iota
	internalNote
	timeEntry
	edit
	customerReply
	changeKinds
)

type sentReply struct {
	body     string
	internal bool
}

// ledger is what the API said it accepted for one ticket, to compare with
// what the database holds.
type ledger struct {
	mu       sync.Mutex
	accepted [changeKinds]int
	replies  map[string]sentReply // id → what was sent
	entries  map[string]int       // id → minutes
	edits    map[int64]string     // version answered → subject sent
	refused  []string
	clashes  []string // two acceptances that answered the same id or version
}

func newLedger() *ledger {
	return &ledger{replies: map[string]sentReply{}, entries: map[string]int{}, edits: map[int64]string{}}
}

// send makes one change and records the answer.
func (l *ledger) send(t *testing.T, ticketID, agentTok, custTok string, kind change, label string, minutes int) {
	base := "/api/v1/tickets/" + ticketID
	var (
		res  *testenv.Response
		sent sentReply
	)
	switch kind {
	case agentReply:
		sent = sentReply{body: "agent " + label}
		res = stack.Do(t, "POST", base+"/replies", agentTok, map[string]any{"body": sent.body})
	case internalNote:
		sent = sentReply{body: "note " + label, internal: true}
		res = stack.Do(t, "POST", base+"/replies", agentTok, map[string]any{"body": sent.body, "internal": true})
	case customerReply:
		sent = sentReply{body: "customer " + label}
		res = stack.Do(t, "POST", base+"/replies", custTok, map[string]any{"body": sent.body})
	case timeEntry:
		res = stack.Do(t, "POST", base+"/time-entries", agentTok, map[string]any{"minutes": minutes})
	case edit:
		res = stack.Do(t, "PATCH", base, agentTok, map[string]any{"subject": "subject " + label})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if res.Status/100 != 2 {
		if res.Status != http.StatusTooManyRequests && res.Status != http.StatusServiceUnavailable {
			t.Errorf("change %s refused with %d: %s", label, res.Status, res.Body)
		}
		l.refused = append(l.refused, fmt.Sprintf("%d %s", res.Status, res.Body))
		return
	}
	l.accepted[kind]++
	got := res.Map(t)
	switch kind {
	case timeEntry:
		id := got["id"].(string)
		if _, dup := l.entries[id]; dup {
			l.clashes = append(l.clashes, "time entry "+id)
		}
		l.entries[id] = minutes
	case edit:
		v := int64(got["version"].(float64))
		if _, dup := l.edits[v]; dup {
			l.clashes = append(l.clashes, fmt.Sprintf("version %d", v))
		}
		l.edits[v] = "subject " + label
	default:
		id := got["id"].(string)
		if _, dup := l.replies[id]; dup {
			l.clashes = append(l.clashes, "reply "+id)
		}
		l.replies[id] = sent
	}
}

func (l *ledger) total() int {
	n := 0
	for _, a := range l.accepted {
		n += a
	}
	return n
}

// verify compares the ledger with the database: every accepted change is
// stored as answered, nothing else is, and the timeline has no gaps. prior
// counts the accepted changes to the ticket (after its create) before the
// ledger started; automatic, the automatic status moves expected.
func (l *ledger) verify(t *testing.T, ticketID string, prior, automatic int) []string {
	t.Helper()
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(l.clashes) > 0 {
		add("two accepted changes were answered with the same id or version: %v", l.clashes)
	}
	var tk models.Ticket
	if err := stack.DB.Take(&tk, "id = ?", ticketID).Error; err != nil {
		t.Fatal(err)
	}
	if want := int64(1 + prior + l.total()); tk.Version != want {
		add("version = %d, want %d (create + %d earlier + %d accepted)", tk.Version, want, prior, l.total())
	}

	var replies []models.Reply
	if err := stack.DB.Where("ticket_id = ?", ticketID).Find(&replies).Error; err != nil {
		t.Fatal(err)
	}
	stored := map[string]models.Reply{}
	for _, r := range replies {
		stored[r.ID] = r
	}
	for id, sent := range l.replies {
		switch r, ok := stored[id]; {
		case !ok:
			add("accepted reply %s (%q) is not stored", id, sent.body)
		case r.Body != sent.body || r.Internal != sent.internal:
			add("accepted reply %s (%q) is stored as another reply (%q): its write was lost", id, sent.body, r.Body)
		}
	}
	if len(replies) != len(l.replies) {
		add("%d replies stored, %d accepted", len(replies), len(l.replies))
	}

	var entries []models.TimeEntry
	if err := stack.DB.Where("ticket_id = ?", ticketID).Find(&entries).Error; err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, e := range entries {
		sum += e.Minutes
		if m, ok := l.entries[e.ID]; ok && m != e.Minutes {
			add("time entry %s stored with %d minutes, accepted with %d", e.ID, e.Minutes, m)
		}
	}
	acceptedMinutes := 0
	for _, m := range l.entries {
		acceptedMinutes += m
	}
	if len(entries) != len(l.entries) || sum != acceptedMinutes {
		add("%d time entries (%d min) stored, %d (%d min) accepted", len(entries), sum, len(l.entries), acceptedMinutes)
	}
	if tk.TimeSpentMinutes != sum {
		add("time_spent_minutes = %d, the stored entries sum to %d", tk.TimeSpentMinutes, sum)
	}
	if len(l.edits) > 0 {
		last := slices.Max(slices.Collect(maps.Keys(l.edits)))
		if tk.Subject != l.edits[last] {
			add("subject = %q, want %q from the last accepted edit (version %d)", tk.Subject, l.edits[last], last)
		}
	}

	// The timeline: seqs 1..n, one event per change plus one per automatic move.
	events, err := stack.Store.ListEvents(t.Context(), ticketID, true)
	if err != nil {
		t.Fatal(err)
	}
	auto := 0
	for i, e := range events {
		if e.Seq != int64(i+1) {
			add("event %d has seq %d: the timeline has a gap or a duplicate", i, e.Seq)
			break
		}
		if e.Type == models.EventStatusChanged && e.Data["automatic"] == true {
			auto++
		}
	}
	if auto != automatic {
		add("%d automatic status moves, want %d", auto, automatic)
	}
	if want := int(tk.Version) + auto; len(events) != want {
		add("%d events, want %d (version %d + %d automatic moves)", len(events), want, tk.Version, auto)
	}
	return problems
}

// judge reports what the ledger and the database disagree on, and changes
// the API refused although PostgreSQL and Temporal were up, as bugs.
func (l *ledger) judge(t *testing.T, problems []string) {
	t.Helper()
	// Refusals are allowed (429 past the engine's in-flight limit, 503 past
	// the deadline): what the API answered must match what is stored.
	if n := len(l.refused); n > 0 {
		first := strings.TrimSpace(l.refused[0])
		if len(first) > 120 {
			first = first[:120] + "…"
		}
		t.Logf("%d of %d changes were refused (first: %s)", n, n+l.total(), first)
	}
	for _, p := range problems {
		t.Errorf("the database disagrees with what the API answered: %s", p)
	}
}

// TestConcurrentUpdatesLoseNothing sends many changes to one ticket at once:
// its workflow is the single writer, so every accepted change is stored, in
// one order, with no gaps in the timeline.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	cust, custTok := stack.NewUser(t, models.RoleCustomer)
	_, agentTok := stack.NewUser(t, models.RoleAgent)
	r := stack.Do(t, "POST", "/api/v1/tickets", custTok, map[string]any{"subject": "Busy ticket", "description": "Everyone at once."})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
	id := r.Map(t)["id"].(string)
	// Pending, so the first public customer reply reopens it: one
	// automatic move in the mix.
	r = stack.Do(t, "POST", "/api/v1/tickets/"+id+"/status", agentTok, map[string]any{"status": "pending"})
	wantStatus(t, body(r.Body), r.Status, http.StatusOK)

	const workers, each = 16, 5
	l := newLedger()
	parallel(workers, func(g int) {
		for i := range each {
			kind := change((g + i) % int(changeKinds))
			l.send(t, id, agentTok, custTok, kind, fmt.Sprintf("%d-%d", g, i), g*each+i+1)
		}
	})
	t.Logf("accepted %d changes %v, refused %d", l.total(), l.accepted, len(l.refused))
	automatic := 0
	if l.accepted[customerReply] > 0 {
		automatic = 1
	}
	problems := l.verify(t, id, 1, automatic)

	var tk models.Ticket
	if err := stack.DB.Take(&tk, "id = ?", id).Error; err != nil {
		t.Fatal(err)
	}
	if automatic == 1 && tk.Status != models.StatusOpen {
		problems = append(problems, fmt.Sprintf("status = %s, want open: a customer replied to the pending ticket", tk.Status))
	}
	if l.accepted[agentReply] > 0 && tk.FirstResponseAt == nil {
		problems = append(problems, "first_response_at not set after public agent replies")
	}
	// The API reads what the database holds.
	r = stack.Do(t, "GET", "/api/v1/tickets/"+id, agentTok, nil)
	wantStatus(t, body(r.Body), r.Status, http.StatusOK)
	if got := r.Map(t); got["version"] != float64(tk.Version) || r.Header.Get("ETag") != fmt.Sprintf(`"%d"`, tk.Version) || got["customer_id"] != cust.ID {
		problems = append(problems, fmt.Sprintf("API answers version %v, ETag %s; stored %d", got["version"], r.Header.Get("ETag"), tk.Version))
	}
	l.judge(t, problems)
}

// TestUpdateBurstBeyondInFlightLimit sends more concurrent changes to one
// ticket than Temporal admits in flight per workflow (10 by default), then
// one more change: whatever was answered must match what was stored.
func TestUpdateBurstBeyondInFlightLimit(t *testing.T) {
	_, custTok := stack.NewUser(t, models.RoleCustomer)
	_, agentTok := stack.NewUser(t, models.RoleAgent)
	r := stack.Do(t, "POST", "/api/v1/tickets", custTok, map[string]any{"subject": "Burst", "description": "d"})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
	id := r.Map(t)["id"].(string)

	const burst = 40
	l := newLedger()
	parallel(burst, func(i int) { l.send(t, id, agentTok, custTok, agentReply, fmt.Sprint("burst ", i), 0) })
	t.Logf("burst: accepted %d, refused %d", l.total(), len(l.refused))

	// Afterwards the ticket takes changes again, one at a time.
	deadline := time.Now().Add(40 * time.Second)
	for i := 0; ; i++ {
		before := l.total()
		l.send(t, id, agentTok, custTok, agentReply, fmt.Sprint("after ", i), 0)
		if l.total() > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ticket still refuses changes 40s after the burst: %s", l.refused[len(l.refused)-1])
		}
	}
	l.send(t, id, agentTok, custTok, agentReply, "last", 0)
	l.judge(t, l.verify(t, id, 0, 0))
}

// TestConcurrentConditionalEdits races edits that all hold the same ETag:
// exactly one wins, the others are told their version is stale.
func TestConcurrentConditionalEdits(t *testing.T) {
	_, custTok := stack.NewUser(t, models.RoleCustomer)
	_, agentTok := stack.NewUser(t, models.RoleAgent)
	r := stack.Do(t, "POST", "/api/v1/tickets", custTok, map[string]any{"subject": "If-Match race", "description": "d"})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
	id := r.Map(t)["id"].(string)
	etag := r.Header.Get("ETag")

	const n = 16
	res := make([]*testenv.Response, n)
	parallel(n, func(i int) {
		res[i] = stack.Do(t, "PATCH", "/api/v1/tickets/"+id, agentTok, map[string]any{"subject": fmt.Sprintf("edit %d", i)}, "If-Match", etag)
	})
	var won []int
	for i, r := range res {
		switch r.Status {
		case http.StatusOK:
			won = append(won, i)
		case http.StatusPreconditionFailed:
		default:
			t.Errorf("edit %d: %d %s", i, r.Status, r.Body)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d conditional edits on the same ETag succeeded (%v), want exactly 1", len(won), won)
	}
	r = stack.Do(t, "GET", "/api/v1/tickets/"+id, agentTok, nil)
	got := r.Map(t)
	if got["version"] != float64(2) || got["subject"] != fmt.Sprintf("edit %d", won[0]) {
		t.Errorf("after the race: version %v subject %v, want 2 and the winner's", got["version"], got["subject"])
	}
}

// TestConcurrentTransitions races the same status change: the first moves
// the ticket, the rest find it already there and are refused with 409.
func TestConcurrentTransitions(t *testing.T) {
	_, custTok := stack.NewUser(t, models.RoleCustomer)
	_, agentTok := stack.NewUser(t, models.RoleAgent)
	r := stack.Do(t, "POST", "/api/v1/tickets", custTok, map[string]any{"subject": "Resolve race", "description": "d"})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
	id := r.Map(t)["id"].(string)

	const n = 16
	res := make([]*testenv.Response, n)
	parallel(n, func(i int) {
		res[i] = stack.Do(t, "POST", "/api/v1/tickets/"+id+"/status", agentTok, map[string]any{"status": "closed"})
	})
	ok := 0
	for i, r := range res {
		switch r.Status {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
		default:
			t.Errorf("close %d: %d %s", i, r.Status, r.Body)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent closes succeeded, want exactly 1", ok)
	}
	var events int64
	stack.DB.Model(&models.Event{}).Where("ticket_id = ? AND type = ?", id, models.EventStatusChanged).Count(&events)
	if events != 1 {
		t.Errorf("%d status_changed events, want 1", events)
	}
}
