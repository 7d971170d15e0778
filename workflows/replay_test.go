package workflows_test

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ticketd/ticketd/workflows"
)

// TestReplayRecordedHistories replays the histories of real ticket
// workflows recorded by earlier versions of this code (see
// api/histories_test.go). A failure means a change broke determinism for
// running workflows: put it behind workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded histories in testdata/")
	}
	v1 := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if strings.HasPrefix(filepath.Base(f), "v1_") {
				// Recorded before the SLA engine: no version marker, so the
				// replay takes GetVersion's DefaultVersion path (regular
				// activities, no clocks) and must match it event for event.
				v1++
				types := eventTypes(t, f)
				require.NotEmpty(t, types)
				assert.NotContains(t, types, "EVENT_TYPE_MARKER_RECORDED", "a v1 history with a marker")
				assert.Contains(t, types, "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED", "a v1 history ran regular activities")
			}
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(workflows.TicketLifecycle, workflow.RegisterOptions{Name: workflows.LifecycleWorkflow})
			logger := log.NewStructuredLogger(slog.New(slog.DiscardHandler))
			if err := r.ReplayWorkflowHistoryFromJSONFile(logger, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
	if v1 == 0 {
		t.Error("no v1 history (recorded before the SLA engine) in testdata/")
	}
}

// eventTypes lists the event types of a history exported as JSON.
func eventTypes(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	var h struct {
		Events []struct {
			EventType string `json:"eventType"`
		} `json:"events"`
	}
	require.NoError(t, json.Unmarshal(b, &h))
	types := make([]string, len(h.Events))
	for i, e := range h.Events {
		types[i] = e.EventType
	}
	return types
}
