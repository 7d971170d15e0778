package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	temporal "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ticketd/ticketd/workflows"
)

// The engine's floor: a workflow that does nothing but answer an update, on
// the same Temporal server as ticketd, served by a worker in this process
// with the same options as ticketd's. A ticket change costs at least one
// such update; the ratio of the two says what ticketd adds.
const (
	floorTaskQueue = "loadgen-floor"
	floorWorkflow  = "LoadgenFloor"
	floorUpdate    = "noop"
)

// floorWorkflowFunc answers every update at once and ends after an hour at
// the latest (the bench ends long before).
func floorWorkflowFunc(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandler(ctx, floorUpdate, func(_ workflow.Context, in string) (string, error) {
		return in, nil
	}); err != nil {
		return err
	}
	_, err := workflow.AwaitWithTimeout(ctx, time.Hour, func() bool { return false })
	return err
}

// pairResult is one comparison: ticketd's operation against the floor's,
// measured in alternating batches so that both share the machine's noise.
type pairResult struct {
	Name      string  `json:"name"`
	Clients   int     `json:"clients"`
	Ticketd   result  `json:"ticketd"`
	Floor     result  `json:"floor"`
	P50Ratio  float64 `json:"p50_ratio"`
	P99Ratio  float64 `json:"p99_ratio"`
	RateRatio float64 `json:"throughput_ratio"`
}

// floorReport is what the floor comparison found.
type floorReport struct {
	Pairs           []pairResult `json:"pairs"`
	EventsPerCreate int          `json:"history_events_per_create"`
	EventsPerChange int          `json:"history_events_per_status_change"`
	EventsPerReply  int          `json:"history_events_per_reply"`
	FloorPerUpdate  int          `json:"history_events_per_noop_update"`
	TicketdRSSMB    float64      `json:"ticketd_rss_mb,omitempty"`
}

// floorBench runs the comparisons against the Temporal server at
// cfg.temporalAddr.
func floorBench(ctx context.Context, cfg config, c *client, progress io.Writer) (floorReport, error) {
	tc, err := temporal.Dial(temporal.Options{HostPort: cfg.temporalAddr, Namespace: cfg.namespace,
		Logger: quietLogger{}, ConnectionOptions: temporal.ConnectionOptions{GrpcCompression: cfg.compression}})
	if err != nil {
		return floorReport{}, fmt.Errorf("dial temporal at %s: %w", cfg.temporalAddr, err)
	}
	defer tc.Close()
	w := worker.New(tc, floorTaskQueue, workflows.WorkerOptions(5*time.Second))
	w.RegisterWorkflowWithOptions(floorWorkflowFunc, workflow.RegisterOptions{Name: floorWorkflow})
	if err := w.Start(); err != nil {
		return floorReport{}, fmt.Errorf("start floor worker: %w", err)
	}
	defer w.Stop()

	var rep floorReport
	bar := newProgressBar(progress, 2*len(cfg.floorClients)*cfg.floorRounds*2)
	defer bar.done()
	for _, n := range cfg.floorClients {
		// Status changes against updates of long-running workflows: one
		// ticket and one floor workflow per client, like one agent per
		// ticket.
		tickets := make([]*ticket, n)
		floors := make([]string, n)
		for i := range n {
			id, err := c.createTicket(ctx, fmt.Sprintf("floor %d-%d", n, i))
			if err != nil {
				return rep, err
			}
			tickets[i] = &ticket{id: id, status: "new"}
			floors[i] = "loadgen-floor-" + uuid.NewString()
			if _, err := tc.ExecuteWorkflow(ctx, temporal.StartWorkflowOptions{ID: floors[i], TaskQueue: floorTaskQueue,
				WorkflowExecutionTimeout: 2 * time.Hour}, floorWorkflow); err != nil {
				return rep, fmt.Errorf("start floor workflow: %w", err)
			}
		}
		status := func(ctx context.Context, w, _ int) outcome {
			t := tickets[w]
			var got struct {
				Status string `json:"status"`
			}
			o := c.do(ctx, http.MethodPost, "/api/v1/tickets/"+t.id+"/status", cfg.agentToken,
				map[string]string{"status": nextStatus(t.status)}, &got)
			if o.ok() {
				t.status = got.Status
			}
			return o
		}
		noop := func(ctx context.Context, w, _ int) outcome {
			h, err := tc.UpdateWorkflow(ctx, temporal.UpdateWorkflowOptions{WorkflowID: floors[w], UpdateName: floorUpdate,
				Args: []any{"x"}, WaitForStage: temporal.WorkflowUpdateStageCompleted})
			if err == nil {
				var out string
				err = h.Get(ctx, &out)
			}
			return temporalOutcome(err)
		}
		rep.Pairs = append(rep.Pairs, alternate(ctx, cfg, bar, "status change vs update", n, status, noop))

		// Creates against Update-with-Start of a fresh workflow.
		create := func(ctx context.Context, w, seq int) outcome {
			_, err := c.createTicket(ctx, fmt.Sprintf("floor create %d-%d", w, seq))
			if err != nil {
				return outcome{errKey: "create", example: err.Error()}
			}
			return outcome{status: http.StatusCreated}
		}
		uws := func(ctx context.Context, _, _ int) outcome {
			start := tc.NewWithStartWorkflowOperation(temporal.StartWorkflowOptions{
				ID: "loadgen-floor-" + uuid.NewString(), TaskQueue: floorTaskQueue, WorkflowExecutionTimeout: 2 * time.Hour,
				WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			}, floorWorkflow)
			h, err := tc.UpdateWithStartWorkflow(ctx, temporal.UpdateWithStartWorkflowOptions{StartWorkflowOperation: start,
				UpdateOptions: temporal.UpdateWorkflowOptions{UpdateName: floorUpdate, Args: []any{"x"},
					WaitForStage: temporal.WorkflowUpdateStageCompleted}})
			if err == nil {
				var out string
				err = h.Get(ctx, &out)
			}
			return temporalOutcome(err)
		}
		rep.Pairs = append(rep.Pairs, alternate(ctx, cfg, bar, "create vs update-with-start", n, create, uws))
	}
	if err := rep.countEvents(ctx, tc, c, cfg); err != nil {
		return rep, err
	}
	if cfg.ticketdPID > 0 {
		rep.TicketdRSSMB = rssMB(cfg.ticketdPID)
	}
	return rep, nil
}

// minFloorSamples is the fewest requests each side of a comparison makes:
// the p99 of fewer than 100 is only their maximum, one stray pause, and with
// one client 6 rounds of 10 make 60.
const minFloorSamples = 200

// alternate measures a against b with n clients: cfg.floorRounds rounds,
// each a batch of a then a batch of b of cfg.floorBatch requests per client,
// or more, to reach minFloorSamples on each side.
func alternate(ctx context.Context, cfg config, bar *progressBar, name string, n int, a, b func(ctx context.Context, w, seq int) outcome) pairResult {
	batch := cfg
	perRound := (minFloorSamples + cfg.floorRounds - 1) / cfg.floorRounds
	batch.requests, batch.duration = max(cfg.floorBatch*n, perRound), 0
	var ra, rb []result
	for range cfg.floorRounds {
		if ctx.Err() != nil {
			break
		}
		ra = append(ra, runPhase(ctx, batch, "ticketd", n, a))
		bar.step(name, n)
		rb = append(rb, runPhase(ctx, batch, "floor", n, b))
		bar.step(name, n)
	}
	p := pairResult{Name: name, Clients: n, Ticketd: merge(ra), Floor: merge(rb)}
	p.P50Ratio = ratio(p.Ticketd.P50ms, p.Floor.P50ms)
	p.P99Ratio = ratio(p.Ticketd.P99ms, p.Floor.P99ms)
	p.RateRatio = ratio(p.Ticketd.Throughput, p.Floor.Throughput)
	return p
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(a/b*100) / 100
}

// merge sums batches into one result: percentiles over every sample,
// throughput over the time spent in them.
func merge(rs []result) result {
	var out result
	var lat []time.Duration
	for _, r := range rs {
		out.Phase, out.Clients = r.Phase, r.Clients
		out.Count += r.Count
		out.OK += r.OK
		out.Errors += r.Errors
		out.Seconds += r.Seconds
		lat = append(lat, r.latencies...)
		for k, v := range r.ErrorsByStatus {
			if out.ErrorsByStatus == nil {
				out.ErrorsByStatus, out.ErrorExamples = map[string]int{}, map[string]string{}
			}
			out.ErrorsByStatus[k] += v
			out.ErrorExamples[k] = r.ErrorExamples[k]
		}
	}
	slices.Sort(lat)
	out.P50ms, out.P90ms, out.P99ms = ms(percentile(lat, 50)), ms(percentile(lat, 90)), ms(percentile(lat, 99))
	if len(lat) > 0 {
		out.MaxMs = ms(lat[len(lat)-1])
	}
	if out.Seconds > 0 {
		out.Throughput = math.Round(float64(out.OK)/out.Seconds*10) / 10
	}
	out.Seconds = math.Round(out.Seconds*1000) / 1000
	return out
}

// countEvents measures history events: a fresh ticket's create, then one
// status change and one reply; and one update of a floor workflow.
func (rep *floorReport) countEvents(ctx context.Context, tc temporal.Client, c *client, cfg config) error {
	id, err := c.createTicket(ctx, "history events")
	if err != nil {
		return err
	}
	wid := workflows.WorkflowID(id)
	if rep.EventsPerCreate, err = historyLength(ctx, tc, wid); err != nil {
		return err
	}
	before := rep.EventsPerCreate
	for _, step := range []struct {
		path string
		body map[string]string
		into *int
	}{
		{"/status", map[string]string{"status": "open"}, &rep.EventsPerChange},
		{"/replies", map[string]string{"body": "counting events"}, &rep.EventsPerReply},
	} {
		if o := c.do(ctx, http.MethodPost, "/api/v1/tickets/"+id+step.path, cfg.agentToken, step.body, nil); !o.ok() {
			return fmt.Errorf("POST %s: %s %s", step.path, o.errKey, o.example)
		}
		after, err := historyLength(ctx, tc, wid)
		if err != nil {
			return err
		}
		*step.into, before = after-before, after
	}
	fid := "loadgen-floor-" + uuid.NewString()
	if _, err := tc.ExecuteWorkflow(ctx, temporal.StartWorkflowOptions{ID: fid, TaskQueue: floorTaskQueue,
		WorkflowExecutionTimeout: 2 * time.Hour}, floorWorkflow); err != nil {
		return err
	}
	// Let the first workflow task finish so that the update's own count
	// starts from a quiet history.
	time.Sleep(500 * time.Millisecond)
	if before, err = historyLength(ctx, tc, fid); err != nil {
		return err
	}
	h, err := tc.UpdateWorkflow(ctx, temporal.UpdateWorkflowOptions{WorkflowID: fid, UpdateName: floorUpdate,
		Args: []any{"x"}, WaitForStage: temporal.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if err != nil {
		return fmt.Errorf("floor update: %w", err)
	}
	after, err := historyLength(ctx, tc, fid)
	rep.FloorPerUpdate = after - before
	return err
}

// historyLength counts a workflow's history events so far (its current
// run).
func historyLength(ctx context.Context, tc temporal.Client, workflowID string) (int, error) {
	it := tc.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		if _, err := it.Next(); err != nil {
			return 0, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		n++
	}
	return n, nil
}

// createTicket files a ticket as the customer and returns its id.
func (c *client) createTicket(ctx context.Context, subject string) (string, error) {
	var t struct {
		ID string `json:"id"`
	}
	o := c.do(ctx, http.MethodPost, "/api/v1/tickets", c.cfg.customerToken, map[string]string{
		"subject": subject, "description": "Created by cmd/loadgen to measure ticketd.", "priority": "normal",
	}, &t)
	if !o.ok() {
		return "", fmt.Errorf("create ticket: %s %s", o.errKey, o.example)
	}
	return t.ID, nil
}

// temporalOutcome classifies a Temporal call's error like an HTTP outcome.
func temporalOutcome(err error) outcome {
	switch {
	case err == nil:
		return outcome{status: http.StatusOK}
	case errors.Is(err, context.DeadlineExceeded):
		return outcome{errKey: "timeout", example: err.Error()}
	default:
		return outcome{errKey: "temporal", example: err.Error()}
	}
}

// rssMB reads a process's resident set size.
func rssMB(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return math.Round(kb/1024*10) / 10
		}
	}
	return 0
}

// printFloor prints the comparison table.
func printFloor(w io.Writer, rep floorReport) {
	fmt.Fprintf(w, "\nthe engine's floor: ticketd against a no-op workflow update on the same server, alternating batches\n")
	const f = "%-28s %7s %17s %17s %17s %17s %13s\n"
	fmt.Fprintf(w, f, "comparison", "clients", "ticketd p50/p99", "floor p50/p99", "ticketd/floor", "req/s t/f", "rate ratio")
	for _, p := range rep.Pairs {
		fmt.Fprintf(w, f, p.Name, strconv.Itoa(p.Clients),
			fmt.Sprintf("%.1f/%.1f ms", p.Ticketd.P50ms, p.Ticketd.P99ms),
			fmt.Sprintf("%.1f/%.1f ms", p.Floor.P50ms, p.Floor.P99ms),
			fmt.Sprintf("%.2fx/%.2fx", p.P50Ratio, p.P99Ratio),
			fmt.Sprintf("%.1f/%.1f", p.Ticketd.Throughput, p.Floor.Throughput),
			fmt.Sprintf("%.0f%%", p.RateRatio*100))
		if p.Ticketd.Errors+p.Floor.Errors > 0 {
			fmt.Fprintf(w, "  errors: ticketd %s; floor %s\n", byStatus(p.Ticketd.ErrorsByStatus), byStatus(p.Floor.ErrorsByStatus))
		}
	}
	fmt.Fprintf(w, "history events: create %d, status change %d, reply %d; a no-op update %d\n",
		rep.EventsPerCreate, rep.EventsPerChange, rep.EventsPerReply, rep.FloorPerUpdate)
	if rep.TicketdRSSMB > 0 {
		fmt.Fprintf(w, "ticketd RSS after the benchmark: %.0f MB\n", rep.TicketdRSSMB)
	}
}

// progressBar draws one line on a terminal (or a log) as batches finish.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	n     int
}

func newProgressBar(w io.Writer, total int) *progressBar {
	return &progressBar{w: w, total: max(total, 1)}
}

func (b *progressBar) step(label string, clients int) {
	if b.w == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	const width = 30
	filled := b.n * width / b.total
	fmt.Fprintf(b.w, "\r[%s%s] %3d%% %-28s %2d clients", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		b.n*100/b.total, label, clients)
}

func (b *progressBar) done() {
	if b.w != nil {
		fmt.Fprintln(b.w)
	}
}

// quietLogger keeps the SDK's worker chatter out of the report.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}
