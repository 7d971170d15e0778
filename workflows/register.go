package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/ticketd/ticketd/activities"
)

// WorkerOptions tune a ticket worker. Every change is a workflow task, so
// workflow-task pollers are the write path's first queue: the SDK's two are
// split between the sticky queue and the normal one, which leaves updates
// waiting for a poller under load. Activity pollers matter less since
// changes run as local activities inside their workflow task.
//
// The workflow-task pollers autoscale (4 per queue to start, 2 to 8) rather than
// being a fixed number: a fixed number polls in the SDK's "mixed" mode, where
// a sticky queue's backlog hint sends every poll to the sticky queue and
// keeps it there until a sticky poll comes back; new tickets' first tasks,
// which go to the normal queue, then waited 5-10 s with nobody polling it
// (in about half the benchmark runs, whenever creates followed a burst of
// changes). Autoscaling keeps separate pollers on each queue.
func WorkerOptions(stopTimeout time.Duration) worker.Options {
	return worker.Options{
		WorkflowTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{
			InitialNumberOfPollers: 4, MinimumNumberOfPollers: 2, MaximumNumberOfPollers: 8,
		}),
		MaxConcurrentActivityTaskPollers: 4,
		WorkerStopTimeout:                stopTimeout,
	}
}

// GrpcCompression is the Temporal client's compression of its gRPC calls,
// by name: "gzip" (the SDK's default, right across a network) or "none"
// (right on loopback, where compressing each poll, history and completion
// only costs CPU on both ends).
func GrpcCompression(name string) (client.GrpcCompression, error) {
	switch name {
	case "gzip":
		return &client.GrpcCompressionGzip{}, nil
	case "none":
		return &client.GrpcCompressionNone{}, nil
	}
	return nil, fmt.Errorf("gRPC compression %q: want gzip or none", name)
}

// Register puts the ticket workflow and its activities on a worker.
func Register(w worker.Registry, acts *activities.Activities) {
	w.RegisterWorkflowWithOptions(TicketLifecycle, workflow.RegisterOptions{Name: LifecycleWorkflow})
	w.RegisterActivityWithOptions(acts.ApplyChange, activity.RegisterOptions{Name: ActivityApplyChange})
	w.RegisterActivityWithOptions(acts.CommitChange, activity.RegisterOptions{Name: ActivityCommitChange})
	w.RegisterActivityWithOptions(acts.LoadSLAConfig, activity.RegisterOptions{Name: ActivityLoadSLAConfig})
}

// SearchAttributes are the custom search attributes ticket workflows use,
// with their types, for registration in a namespace.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		AttrStatus.GetName():   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrPriority.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrAssignee.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrCustomer.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrCategory.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrNumber.GetName():   enumspb.INDEXED_VALUE_TYPE_INT,
		AttrSLAState.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AttrSLADueAt.GetName(): enumspb.INDEXED_VALUE_TYPE_DATETIME,
	}
}

// EnsureSearchAttributes registers the missing custom search attributes in
// namespace. It is safe to call from every worker at start.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	ops := c.OperatorService()
	have, err := ops.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range SearchAttributes() {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = ops.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}
