package api_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"

	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/workflows"
)

// TestRecordHistories records the event histories of real ticket workflows
// into workflows/testdata, where the replay test proves every later version
// of the workflow code still replays them. It runs only when asked:
//
//	TICKETD_RECORD_HISTORIES=v2 go test ./api -run TestRecordHistories
//
// The value names the files (v2_full_life.json, …): use the next version
// name whenever the workflow gains behaviour.
// Record new histories when the workflow gains behaviour; never delete old
// ones while workflows of that shape may still be running.
func TestRecordHistories(t *testing.T) {
	prefix := os.Getenv("TICKETD_RECORD_HISTORIES")
	if prefix == "" {
		t.Skip("set TICKETD_RECORD_HISTORIES=<version> to record workflow histories")
	}
	_, custTok := stack.NewUser(t, models.RoleCustomer)
	agent, agentTok := stack.NewUser(t, models.RoleAgent)
	_, adminTok := stack.NewUser(t, models.RoleAdmin)
	must := func(r interface {
		Map(testing.TB) map[string]any
	}, status, want int) {
		t.Helper()
		if status != want {
			t.Fatalf("status %d, want %d", status, want)
		}
	}
	create := func() string {
		r := stack.Do(t, "POST", "/api/v1/tickets", custTok, map[string]any{"subject": "Recorded", "description": "for replay"})
		must(r, r.Status, http.StatusCreated)
		return r.Map(t)["id"].(string)
	}

	// A full life: every kind of update, ending closed.
	full := create()
	steps := []struct {
		method, path, tok string
		body              any
	}{
		{"PATCH", "", agentTok, map[string]any{"priority": "urgent", "subject": "Recorded (edited)"}},
		{"POST", "/replies", agentTok, map[string]any{"body": "internal", "internal": true}},
		{"POST", "/assign", agentTok, map[string]any{"assignee_id": agent.ID}},
		{"POST", "/replies", agentTok, map[string]any{"body": "public"}},
		{"POST", "/status", agentTok, map[string]any{"status": "pending", "reason": "need logs"}},
		{"POST", "/replies", custTok, map[string]any{"body": "logs attached"}},
		{"POST", "/time-entries", agentTok, map[string]any{"minutes": 30, "note": "debugging"}},
		{"POST", "/status", custTok, map[string]any{"status": "resolved"}},
		{"POST", "/status", custTok, map[string]any{"status": "open"}},
		{"POST", "/assign", agentTok, map[string]any{"assignee_id": nil}},
		{"POST", "/status", agentTok, map[string]any{"status": "closed"}},
	}
	for _, s := range steps {
		r := stack.Do(t, s.method, "/api/v1/tickets/"+full+s.path, s.tok, s.body)
		if r.Status >= 300 {
			t.Fatalf("%s %s: %d %s", s.method, s.path, r.Status, r.Body)
		}
	}
	// A deleted ticket.
	deleted := create()
	if r := stack.Do(t, "DELETE", "/api/v1/tickets/"+deleted, adminTok, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.Status)
	}
	// A ticket still open, with a refused update in its history.
	open := create()
	stack.Do(t, "POST", "/api/v1/tickets/"+open+"/status", agentTok, map[string]any{"status": "in_progress"})

	for _, h := range []struct{ name, id string }{{"full_life", full}, {"deleted", deleted}, {"open", open}} {
		writeHistory(t, stack.Temporal, workflows.WorkflowID(h.id), filepath.Join("..", "workflows", "testdata", prefix+"_"+h.name+".json"))
	}
}

func writeHistory(t *testing.T, c client.Client, workflowID, path string) {
	t.Helper()
	var events []*historypb.HistoryEvent
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(&historypb.History{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d events of %s in %s", len(events), workflowID, path)
}
