package devserver_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ticketd/ticketd/devserver"
)

const (
	testNamespace    = "devserver-test"
	testTaskQueue    = "devserver-test"
	testWorkflowType = "DevserverTestTicket"
	testUpdateName   = "set-status"
	testWorkflowID   = "ticket-devserver-test"
)

var testSearchAttributes = map[string]enums.IndexedValueType{
	"TicketStatus":    enums.INDEXED_VALUE_TYPE_KEYWORD,
	"TicketPriority":  enums.INDEXED_VALUE_TYPE_KEYWORD,
	"TicketNumber":    enums.INDEXED_VALUE_TYPE_INT,
	"TicketCreatedAt": enums.INDEXED_VALUE_TYPE_DATETIME,
}

var ticketStatus = temporal.NewSearchAttributeKeyKeyword("TicketStatus")

// ticketWorkflow stands in for ticketd's lifecycle: it lives until an update
// closes it, so it is still running when the server restarts.
func ticketWorkflow(ctx workflow.Context) error {
	status := "new"
	err := workflow.SetUpdateHandler(ctx, testUpdateName, func(ctx workflow.Context, next string) (string, error) {
		status = next
		return status, nil
	})
	if err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return status == "closed" })
}

// TestServerKeepsStateAcrossRestart starts a server on a fresh data dir, runs
// an Update-with-Start against it, restarts it on the same dir and finds the
// namespace, search attributes, workflow and history again.
func TestServerKeepsStateAcrossRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server and client logs:\n%s", logs)
		}
	})
	cfg := devserver.Config{
		DataDir:          t.TempDir(),
		FrontendAddr:     "127.0.0.1:0",
		UIAddr:           "127.0.0.1:0",
		Namespace:        testNamespace,
		SearchAttributes: testSearchAttributes,
		Logger:           slog.New(slog.NewTextHandler(logs, nil)),
	}

	first := startServer(ctx, t, cfg)
	c, closeClient := dial(t, first, logs)
	t.Run("namespace registered", func(t *testing.T) {
		checkNamespace(ctx, t, c)
	})
	t.Run("search attributes registered", func(t *testing.T) {
		checkSearchAttributes(ctx, t, c)
	})
	t.Run("web ui served", func(t *testing.T) {
		checkWebUI(ctx, t, first.UIURL())
	})
	t.Run("addresses in use", func(t *testing.T) {
		checkAddressesInUse(ctx, t, first)
	})

	var runID string
	t.Run("update with start", func(t *testing.T) {
		w := worker.New(c, testTaskQueue, worker.Options{})
		w.RegisterWorkflowWithOptions(ticketWorkflow, workflow.RegisterOptions{Name: testWorkflowType})
		if err := w.Start(); err != nil {
			t.Fatalf("start worker: %v", err)
		}
		defer w.Stop()

		start := c.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
			ID:                       testWorkflowID,
			TaskQueue:                testTaskQueue,
			WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			TypedSearchAttributes:    temporal.NewSearchAttributes(ticketStatus.ValueSet("new")),
		}, testWorkflowType)
		update, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: start,
			UpdateOptions: client.UpdateWorkflowOptions{
				UpdateName:   testUpdateName,
				Args:         []any{"open"},
				WaitForStage: client.WorkflowUpdateStageCompleted,
			},
		})
		if err != nil {
			t.Fatalf("update with start: %v", err)
		}
		var got string
		if err := update.Get(ctx, &got); err != nil {
			t.Fatalf("update result: %v", err)
		}
		if got != "open" {
			t.Errorf("update returned %q, want %q", got, "open")
		}
		run, err := start.Get(ctx)
		if err != nil {
			t.Fatalf("started run: %v", err)
		}
		runID = run.GetRunID()
	})
	if t.Failed() {
		t.FailNow()
	}
	t.Run("visibility in its own file", func(t *testing.T) {
		checkListed(ctx, t, c, runID)
		for f, want := range map[string]int{devserver.DBFile: 0, devserver.VisibilityDBFile: 1} {
			if got := visibilityRows(ctx, t, filepath.Join(cfg.DataDir, f)); got != want {
				t.Errorf("%s holds %d visibility records of the workflow, want %d", f, got, want)
			}
		}
	})
	t.Run("visibility indexes only where a query needs one", func(t *testing.T) {
		checkVisibilityIndexes(ctx, t, c, filepath.Join(cfg.DataDir, devserver.VisibilityDBFile))
	})

	closeClient()
	if err := first.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := first.Stop(); err != nil {
		t.Errorf("second stop: %v", err)
	}

	// Restart on the very ports just released, as `ticketd dev` does with 7233.
	cfg.FrontendAddr = first.FrontendHostPort()
	cfg.UIAddr = strings.TrimPrefix(first.UIURL(), "http://")
	second := startServer(ctx, t, cfg)
	c, _ = dial(t, second, logs)
	t.Run("search attributes kept", func(t *testing.T) {
		checkSearchAttributes(ctx, t, c)
	})
	t.Run("workflow kept", func(t *testing.T) {
		desc, err := c.DescribeWorkflowExecution(ctx, testWorkflowID, "")
		if err != nil {
			t.Fatalf("describe workflow after restart: %v", err)
		}
		info := desc.GetWorkflowExecutionInfo()
		if got := info.GetExecution().GetRunId(); got != runID {
			t.Errorf("run ID = %q, want %q", got, runID)
		}
		if got := info.GetType().GetName(); got != testWorkflowType {
			t.Errorf("workflow type = %q, want %q", got, testWorkflowType)
		}
		if got := info.GetStatus(); got != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			t.Errorf("status = %v, want running", got)
		}
		var status string
		payload := info.GetSearchAttributes().GetIndexedFields()["TicketStatus"]
		if err := converter.GetDefaultDataConverter().FromPayload(payload, &status); err != nil || status != "new" {
			t.Errorf("search attribute TicketStatus = %q (%v), want %q", status, err, "new")
		}
	})
	t.Run("visibility kept", func(t *testing.T) {
		checkListed(ctx, t, c, runID)
		checkVisibilityIndexes(ctx, t, c, filepath.Join(cfg.DataDir, devserver.VisibilityDBFile))
	})
	t.Run("history kept", func(t *testing.T) {
		var updates int
		iter := c.GetWorkflowHistory(ctx, testWorkflowID, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for iter.HasNext() {
			event, err := iter.Next()
			if err != nil {
				t.Fatalf("read history after restart: %v", err)
			}
			if event.GetEventType() == enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED {
				updates++
			}
		}
		if updates != 1 {
			t.Errorf("history has %d completed updates, want 1", updates)
		}
	})
}

// checkListed waits until a visibility query by search attribute, what
// Temporal UI runs, finds the test workflow's run.
func checkListed(ctx context.Context, t *testing.T, c client.Client, runID string) {
	t.Helper()
	query := fmt.Sprintf("WorkflowId = '%s' AND TicketStatus = 'new'", testWorkflowID)
	var last string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			last = err.Error()
			continue
		}
		for _, e := range resp.GetExecutions() {
			if e.GetExecution().GetRunId() == runID {
				return
			}
		}
		last = fmt.Sprintf("%d executions, none is run %s", len(resp.GetExecutions()), runID)
	}
	t.Fatalf("list %q: %s", query, last)
}

// checkVisibilityIndexes checks that the visibility file at path indexes
// every column a search attribute of the test namespace is stored in, and no
// other column pre-allocated for custom attributes.
func checkVisibilityIndexes(ctx context.Context, t *testing.T, c client.Client, path string) {
	t.Helper()
	desc, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: testNamespace})
	if err != nil {
		t.Fatalf("describe namespace: %v", err)
	}
	aliases := desc.GetConfig().GetCustomSearchAttributeAliases() // column -> attribute
	if len(aliases) != len(testSearchAttributes) {
		t.Fatalf("namespace maps %d attributes to columns (%v), want %d", len(aliases), aliases, len(testSearchAttributes))
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT c.name FROM sqlite_master AS i, pragma_index_info(i.name) AS c
		WHERE i.type = 'index' AND i.tbl_name = 'executions_visibility' AND c.seqno = 1 AND c.name IS NOT NULL`)
	if err != nil {
		t.Fatalf("list indexes: %v", err)
	}
	defer rows.Close()
	indexed := map[string]bool{}
	for rows.Next() {
		var column string
		if err := rows.Scan(&column); err != nil {
			t.Fatalf("list indexes: %v", err)
		}
		indexed[column] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("list indexes: %v", err)
	}
	for column, attr := range aliases {
		if !indexed[column] {
			t.Errorf("column %s (attribute %s) has no index", column, attr)
		}
	}
	for _, kind := range []string{"Bool", "Datetime", "Double", "Int", "Keyword"} {
		for n := 1; n <= 10; n++ {
			column := fmt.Sprintf("%s%02d", kind, n)
			if _, mapped := aliases[column]; indexed[column] && !mapped {
				t.Errorf("column %s holds no attribute but has an index", column)
			}
		}
	}
	for _, system := range []string{"status", "workflow_type_name", "workflow_id", "TemporalNamespaceDivision"} {
		if !indexed[system] {
			t.Errorf("system column %s lost its index", system)
		}
	}
	// Columns no query of Temporal UI's lists or ticketd's searches filters
	// by, system and Temporal-reserved ones alike.
	for _, unused := range []string{"history_length", "parent_workflow_id", "task_queue", "TemporalScheduledById", "TemporalKeyword01", "TemporalInt01"} {
		if indexed[unused] {
			t.Errorf("column %s keeps an index nothing needs", unused)
		}
	}
	var expression int // default_idx: Temporal UI's default order
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master AS i, pragma_index_info(i.name) AS c
		WHERE i.type = 'index' AND i.tbl_name = 'executions_visibility' AND c.seqno = 1 AND c.name IS NULL`).Scan(&expression); err != nil {
		t.Fatalf("count indexes on an expression: %v", err)
	}
	if expression != 1 {
		t.Errorf("%d indexes start with an expression after namespace_id, want 1 (default_idx)", expression)
	}
}

// visibilityRows counts the test workflow's visibility records in the SQLite
// file at path (read-only, beside the running server: WAL allows it).
func visibilityRows(ctx context.Context, t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM executions_visibility WHERE workflow_id = ?", testWorkflowID).Scan(&n); err != nil {
		t.Fatalf("count visibility records in %s: %v", path, err)
	}
	return n
}

func TestStartRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  devserver.Config
	}{
		{"no data dir", devserver.Config{FrontendAddr: "127.0.0.1:0"}},
		{"frontend on all interfaces", devserver.Config{DataDir: t.TempDir(), FrontendAddr: "0.0.0.0:0"}},
		{"frontend without port", devserver.Config{DataDir: t.TempDir(), FrontendAddr: "127.0.0.1"}},
		{"ui on a public name", devserver.Config{DataDir: t.TempDir(), FrontendAddr: "127.0.0.1:0", UIAddr: "example.com:8233"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := devserver.Start(t.Context(), tt.cfg)
			if err == nil {
				_ = s.Stop()
				t.Fatal("Start succeeded, want an error")
			}
		})
	}
}

// checkAddressesInUse starts a second server on running's addresses and
// expects a plain error (the Web UI server would exit the process if it
// could not listen).
func checkAddressesInUse(ctx context.Context, t *testing.T, running *devserver.Server) {
	t.Helper()
	tests := []struct {
		name string
		cfg  devserver.Config
	}{
		{"frontend", devserver.Config{FrontendAddr: running.FrontendHostPort()}},
		{"web ui", devserver.Config{FrontendAddr: "127.0.0.1:0", UIAddr: strings.TrimPrefix(running.UIURL(), "http://")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.DataDir = t.TempDir()
			s, err := devserver.Start(ctx, tt.cfg)
			if err == nil {
				_ = s.Stop()
				t.Fatal("Start succeeded, want an error")
			}
		})
	}
}

func startServer(ctx context.Context, t *testing.T, cfg devserver.Config) *devserver.Server {
	t.Helper()
	s, err := devserver.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return s
}

// dial returns a client of s and a function that closes it, which also runs
// when the test ends.
func dial(t *testing.T, s *devserver.Server, logs io.Writer) (client.Client, func()) {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  s.FrontendHostPort(),
		Namespace: testNamespace,
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		t.Fatalf("dial %s: %v", s.FrontendHostPort(), err)
	}
	closeClient := sync.OnceFunc(c.Close)
	t.Cleanup(closeClient)
	return c, closeClient
}

func checkNamespace(ctx context.Context, t *testing.T, c client.Client) {
	t.Helper()
	resp, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: testNamespace})
	if err != nil {
		t.Fatalf("describe namespace: %v", err)
	}
	if got, want := resp.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(), 7*24*time.Hour; got != want {
		t.Errorf("retention = %v, want %v", got, want)
	}
}

func checkSearchAttributes(ctx context.Context, t *testing.T, c client.Client) {
	t.Helper()
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: testNamespace})
	if err != nil {
		t.Fatalf("list search attributes: %v", err)
	}
	for name, want := range testSearchAttributes {
		if got, ok := resp.GetCustomAttributes()[name]; !ok || got != want {
			t.Errorf("search attribute %s: got %v (registered %t), want %v", name, got, ok, want)
		}
	}
}

func checkWebUI(ctx context.Context, t *testing.T, url string) {
	t.Helper()
	if url == "" {
		t.Fatal("UIURL is empty")
	}
	status, contentType, body := get(ctx, t, url+"/")
	if status != http.StatusOK || !strings.HasPrefix(contentType, "text/html") || !strings.Contains(strings.ToLower(body), "<html") {
		t.Errorf("GET / = %d %q, body starts %.80q; want 200 with HTML", status, contentType, body)
	}
	// The UI's API is a proxy to the frontend, so this proves it found it.
	status, _, body = get(ctx, t, url+"/api/v1/namespaces/"+testNamespace)
	if status != http.StatusOK || !strings.Contains(body, testNamespace) {
		t.Errorf("GET namespace through the UI = %d, body %.200q; want 200 naming %s", status, body, testNamespace)
	}
}

func get(ctx context.Context, t *testing.T, url string) (status int, contentType, body string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// lockedBuffer collects logs written from the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
