package api_test

import (
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
	"gorm.io/gorm"

	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/workflows"
)

// failAfterCommit makes the workflow task that ran a CommitChange local
// activity fail once the activity has returned, while armed: the change is
// committed in the database but the task that committed it is lost, so its
// update is run again from the last completed task.
type failAfterCommit struct {
	interceptor.WorkerInterceptorBase
	armed    atomic.Int32 // tasks still to fail
	injected atomic.Int32 // tasks failed
}

func (f *failAfterCommit) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &failAfterCommitInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, f: f}
}

type failAfterCommitInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	f *failAfterCommit
}

func (i *failAfterCommitInbound) Init(out interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&failAfterCommitOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: out}, f: i.f})
}

type failAfterCommitOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	f *failAfterCommit
}

func (o *failAfterCommitOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	fut := o.Next.ExecuteLocalActivity(ctx, activityType, args...)
	if activityType != workflows.ActivityCommitChange || workflow.IsReplaying(ctx) {
		return fut
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		if fut.Get(ctx, nil) != nil {
			return
		}
		if o.f.armed.Add(-1) >= 0 {
			o.f.injected.Add(1)
			panic("injected: the workflow task fails after its change was committed")
		}
	})
	return fut
}

// TestTaskFailedAfterCommitWritesOnce: a workflow task that fails after its
// local activity committed the change is run again; the re-run finds the
// commit by the update's ID instead of writing the change twice, and the
// caller gets the change once.
func TestTaskFailedAfterCommitWritesOnce(t *testing.T) {
	inject := &failAfterCommit{}
	st := newCrashStack(t, testenv.StackOptions{Interceptors: []interceptor.WorkerInterceptor{inject}})
	db := st.DB
	cust, custTok := st.NewUser(t, models.RoleCustomer)
	_, agentTok := st.NewUser(t, models.RoleAgent)

	r := st.Do(t, "POST", "/api/v1/tickets", custTok, map[string]any{"subject": "Crashy", "description": "d"})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
	id := r.Map(t)["id"].(string)
	before := readFaultState(t, db, cust.ID, id)

	t.Run("one change", func(t *testing.T) {
		inject.armed.Store(1)
		r := st.Do(t, "POST", "/api/v1/tickets/"+id+"/replies", agentTok, map[string]any{"body": "once"})
		wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
		if inject.injected.Load() != 1 {
			t.Fatalf("injected %d task failures, want 1", inject.injected.Load())
		}
		got := readFaultState(t, db, cust.ID, id)
		want := before
		want.Replies++
		want.Events++
		want.Version++
		if got != want {
			t.Fatalf("after a task failed past its commit:\n got  %+v\n want %+v", got, want)
		}
		before = got
	})

	t.Run("concurrent changes", func(t *testing.T) {
		// Several updates in flight while tasks fail after their commits:
		// the re-runs may see the updates in another order, and find the
		// stored ticket ahead of their copy.
		inject.injected.Store(0)
		inject.armed.Store(3)
		const n = 8
		var wg sync.WaitGroup
		codes := make([]int, n)
		for i := range n {
			wg.Go(func() {
				r := st.Do(t, "POST", "/api/v1/tickets/"+id+"/replies", agentTok, map[string]any{"body": "concurrent " + string(rune('a'+i))})
				codes[i] = r.Status
			})
		}
		wg.Wait()
		acked := 0
		for i, c := range codes {
			switch c {
			case http.StatusCreated:
				acked++
			case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			default:
				t.Errorf("reply %d answered %d", i, c)
			}
		}
		if inject.injected.Load() == 0 {
			t.Fatal("no workflow task failed")
		}
		got := readFaultState(t, db, cust.ID, id)
		var rows []models.Reply
		if err := db.Where("ticket_id = ?", id).Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, r := range rows {
			seen[r.Body]++
		}
		for b, c := range seen {
			if c > 1 {
				t.Errorf("reply %q stored %d times", b, c)
			}
		}
		if int(got.Replies-before.Replies) < acked {
			t.Errorf("%d replies acknowledged but %d stored", acked, got.Replies-before.Replies)
		}
		if got.Events != got.Version {
			t.Errorf("events %d and version %d disagree: a change was lost or doubled", got.Events, got.Version)
		}
		requireGapless(t, db, id)

		// The workflow and the database agree: the next change is one
		// version on.
		inject.armed.Store(0)
		r := st.Do(t, "POST", "/api/v1/tickets/"+id+"/status", agentTok, map[string]any{"status": "open"})
		wantStatus(t, body(r.Body), r.Status, http.StatusOK)
		if v := int64(r.Map(t)["version"].(float64)); v != got.Version+1 {
			t.Errorf("next change made version %d, want %d", v, got.Version+1)
		}
	})
}

// requireGapless checks a ticket's timeline runs 1..n without a gap.
func requireGapless(t *testing.T, db *gorm.DB, id string) {
	t.Helper()
	var seqs []int64
	if err := db.Model(&models.Event{}).Where("ticket_id = ?", id).Order("seq").Pluck("seq", &seqs).Error; err != nil {
		t.Fatal(err)
	}
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("timeline of %s is not gapless: %v", id, seqs)
		}
	}
}

// newCrashStack is a stack on a database and a Temporal server of its own.
func newCrashStack(t *testing.T, opts testenv.StackOptions) *testenv.Stack {
	t.Helper()
	_, db := testenv.Postgres(t, "crash")
	ts := testenv.Temporal(t)
	st, err := testenv.NewStack(db, ts, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// TestRefusedUpdateThatCommittedAnswersTheCommit: an update whose task
// committed it and was then lost can be run again after another update
// has made the workflow adopt the stored ticket, which already holds the
// update's change. The workflow then refuses it (in_progress to
// in_progress); the caller must get the commit, not the refusal.
func TestRefusedUpdateThatCommittedAnswersTheCommit(t *testing.T) {
	st := newCrashStack(t, testenv.StackOptions{})
	agent, agentTok := st.NewUser(t, models.RoleAgent)
	_, custTok := st.NewUser(t, models.RoleCustomer)
	r := st.Do(t, "POST", "/api/v1/tickets", custTok, map[string]any{"subject": "Lost task", "description": "d"})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)
	id := r.Map(t)["id"].(string)
	ctx := t.Context()

	// The lost task's commit: update "lost" moved the ticket to in_progress.
	tk, err := st.Store.GetTicket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var lastSeq int64
	if err := st.DB.Model(&models.Event{}).Where("ticket_id = ?", id).Select("max(seq)").Scan(&lastSeq).Error; err != nil {
		t.Fatal(err)
	}
	next := tk
	next.SLA = tk.SLA.Clone()
	next.Version++
	next.UpdatedAt = time.Now().UTC().Truncate(time.Microsecond)
	next.UpdatedBy = agent.ID
	next.Status = models.StatusInProgress
	ev := models.Event{ID: uuid.NewString(), TicketID: id, Seq: lastSeq + 1, Type: models.EventStatusChanged, ActorID: agent.ID,
		Data: models.EventData{"from": tk.Status, "to": models.StatusInProgress, "reason": "lost"}, CreatedAt: next.UpdatedAt}
	if _, err := st.Store.Commit(ctx, models.Change{Ticket: next, Events: []models.Event{ev}, UpdateID: "lost", Prior: &tk}); err != nil {
		t.Fatal(err)
	}

	// Another update finds the stored ticket ahead and adopts it.
	r = st.Do(t, "POST", "/api/v1/tickets/"+id+"/replies", agentTok, map[string]any{"body": "meanwhile"})
	wantStatus(t, body(r.Body), r.Status, http.StatusCreated)

	// The lost update, run again, is refused by the workflow, and answered
	// with its commit.
	c := workflows.NewClient(st.Temporal, st.Store)
	res, err := c.UpdateWithID(ctx, id, "lost", workflows.UpdateChangeStatus, workflows.StatusRequest{
		Actor: workflows.Actor{ID: agent.ID, Role: models.RoleAgent}, Status: models.StatusInProgress, Reason: "lost"})
	if err != nil {
		t.Fatalf("the committed update was answered %v", err)
	}
	if res.Ticket.Status != models.StatusInProgress || res.Ticket.Version != next.Version+1 {
		t.Errorf("answered status %s version %d, want in_progress at version %d", res.Ticket.Status, res.Ticket.Version, next.Version+1)
	}
	var changes int64
	if err := st.DB.Model(&models.Event{}).Where("ticket_id = ? AND type = ?", id, models.EventStatusChanged).Count(&changes).Error; err != nil {
		t.Fatal(err)
	}
	if changes != 1 {
		t.Errorf("%d status changes stored, want 1", changes)
	}

	// A refusal of an update that never committed stays a refusal, and
	// fences the update.
	_, err = c.UpdateWithID(ctx, id, "refused", workflows.UpdateChangeStatus, workflows.StatusRequest{
		Actor: workflows.Actor{ID: agent.ID, Role: models.RoleAgent}, Status: models.StatusInProgress})
	var trans *models.TransitionError
	if !errors.As(err, &trans) {
		t.Errorf("in_progress to in_progress answered %v, want a transition error", err)
	}
}
