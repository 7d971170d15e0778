package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"github.com/ticketd/ticketd/internal/testenv"
	"github.com/ticketd/ticketd/models"
	"github.com/ticketd/ticketd/workflows"
)

// TestSupportLeadViews proves the saved views the README offers support
// leads in Temporal UI: on a real in-process Temporal server (its own, so no
// other test's tickets), each visibility query returns exactly the ticket
// workflows it should, each with its summary "#<number> <subject>".
func TestSupportLeadViews(t *testing.T) {
	if testing.Short() {
		t.Skip("real Temporal server: not in -short")
	}
	_, db := testenv.Postgres(t, "views")
	ts := testenv.Temporal(t)
	stack, err := testenv.NewStack(db, ts, testenv.StackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()

	_, admin := stack.NewUser(t, models.RoleAdmin)
	_, customer := stack.NewUser(t, models.RoleCustomer)
	alan, agent := stack.NewUser(t, models.RoleAgent)
	grace, _ := stack.NewUser(t, models.RoleAgent)

	do := func(method, path, token string, body any, want int) map[string]any {
		t.Helper()
		r := stack.Do(t, method, path, token, body)
		if r.Status != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, want, r.Body)
		}
		if len(r.Body) == 0 {
			return nil
		}
		return r.Map(t)
	}
	// Low priority answers within two seconds or breaches; the others have
	// their default targets of hours.
	do("PUT", "/api/v1/sla-policies/low", admin, map[string]any{"first_response_seconds": 2, "resolution_seconds": 3600}, http.StatusOK)

	type ticket struct{ id, summary string }
	create := func(subject, priority string) ticket {
		tk := do("POST", "/api/v1/tickets", customer, map[string]any{"subject": subject, "description": "views", "priority": priority}, http.StatusCreated)
		return ticket{id: tk["id"].(string), summary: fmt.Sprintf("#%d %s", int64(tk["number"].(float64)), subject)}
	}
	status := func(tk ticket, to string) {
		do("POST", "/api/v1/tickets/"+tk.id+"/status", agent, map[string]any{"status": to}, http.StatusOK)
	}
	assign := func(tk ticket, to models.User) {
		do("POST", "/api/v1/tickets/"+tk.id+"/assign", agent, map[string]any{"assignee_id": to.ID}, http.StatusOK)
	}
	reply := func(tk ticket) {
		do("POST", "/api/v1/tickets/"+tk.id+"/replies", agent, map[string]any{"body": "on it"}, http.StatusCreated)
	}

	openUrgent := create("Checkout is down", "urgent")
	status(openUrgent, "open")
	reply(openUrgent)
	assignedUrgent := create("Refunds fail", "urgent") // assigning opens it
	assign(assignedUrgent, alan)
	reply(assignedUrgent)
	newUrgent := create("Login loops", "urgent") // still new
	reply(newUrgent)
	openHigh := create("Slow search", "high")
	status(openHigh, "open")
	reply(openHigh)
	progressUrgent := create("Exports empty", "urgent")
	assign(progressUrgent, grace)
	status(progressUrgent, "in_progress")
	reply(progressUrgent)
	alansOther := create("Typo on invoice", "normal")
	assign(alansOther, alan)
	status(alansOther, "pending")
	reply(alansOther)
	breached := create("Nobody answers", "low") // no reply: breaches in 2s

	for _, c := range []struct {
		name, query string
		want        []ticket
	}{
		{"open urgent", `TicketStatus="open" AND TicketPriority="urgent"`, []ticket{openUrgent, assignedUrgent}},
		{"assigned to Alan", fmt.Sprintf(`TicketAssignee=%q`, alan.ID), []ticket{assignedUrgent, alansOther}},
		{"SLA breached", `SLAState="breached"`, []ticket{breached}},
		{"new", `TicketStatus="new"`, []ticket{newUrgent, breached}},
		{"unassigned", `TicketAssignee IS NULL AND ExecutionStatus="Running"`, []ticket{openUrgent, newUrgent, openHigh, breached}},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := map[string]string{}
			for _, tk := range c.want {
				want[workflows.WorkflowID(tk.id)] = tk.summary
			}
			var got map[string]string
			// Visibility trails the workflows by a moment; the breach needs
			// its two seconds.
			deadline := time.Now().Add(45 * time.Second)
			for {
				got = list(t, stack, ts.GetDefaultNamespace(), c.query)
				if maps.Equal(got, want) || time.Now().After(deadline) {
					break
				}
				time.Sleep(500 * time.Millisecond)
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s\n got  %v\n want %v", c.query, sorted(got), sorted(want))
			}
		})
	}
}

// list runs a visibility query as Temporal UI does and returns each
// workflow's ID with its static summary.
func list(t *testing.T, stack *testenv.Stack, namespace, query string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := map[string]string{}
	var token []byte
	for {
		resp, err := stack.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, Query: query, NextPageToken: token,
		})
		if err != nil {
			t.Fatalf("list %s: %v", query, err)
		}
		for _, e := range resp.GetExecutions() {
			id := e.GetExecution().GetWorkflowId()
			desc, err := stack.Temporal.DescribeWorkflowExecution(ctx, id, e.GetExecution().GetRunId())
			if err != nil {
				t.Fatalf("describe %s: %v", id, err)
			}
			var summary string
			if p := desc.GetExecutionConfig().GetUserMetadata().GetSummary(); p != nil {
				if err := converter.GetDefaultDataConverter().FromPayload(p, &summary); err != nil {
					t.Fatalf("summary of %s: %v", id, err)
				}
			}
			out[id] = summary
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out
		}
	}
}

func sorted(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+" "+v)
	}
	slices.Sort(out)
	return out
}
