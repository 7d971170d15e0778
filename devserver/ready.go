package devserver

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

const (
	// workflowServiceName is what the frontend reports health for.
	workflowServiceName = "temporal.api.workflowservice.v1.WorkflowService"
	// attemptTimeout bounds one call while waiting for the server to become ready.
	attemptTimeout = 5 * time.Second
	// probeWorkflowID names a workflow that never exists; asking for it tells
	// whether the history service answers.
	probeWorkflowID = "ticketd-devserver-readiness-probe"
)

// errNotReady is returned by a health check that reached a server (the
// frontend, the Web UI) before it was ready.
var errNotReady = errors.New("not ready yet")

// poll calls attempt until it succeeds, fails with an error that waiting will
// not cure, or ctx ends. While the services start, the frontend refuses calls
// (Unavailable); that is expected and retried with a growing delay.
func poll(ctx context.Context, attempt func(ctx context.Context) error) error {
	delay := 10 * time.Millisecond
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := attempt(attemptCtx)
		cancel()
		if err == nil || !transient(err) {
			return err
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-timer.C:
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

func transient(err error) bool {
	if errors.Is(err, errNotReady) {
		return true
	}
	var nsNotFound *serviceerror.NamespaceNotFound
	if errors.As(serviceerror.FromStatus(status.Convert(err)), &nsNotFound) {
		// Callers only poll namespace-scoped APIs once the namespace is
		// registered; until the services' namespace caches catch up (about
		// a second), they still answer that it does not exist.
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted:
		return true
	}
	return false
}

// waitFrontend returns once the frontend reports the workflow service healthy.
func waitFrontend(ctx context.Context, health healthpb.HealthClient) error {
	return poll(ctx, func(ctx context.Context) error {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: workflowServiceName})
		if err != nil {
			return err
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return errNotReady
		}
		return nil
	})
}

// waitHistory returns once the history service answers for namespace: the
// frontend is healthy before history owns its shard, and a client starting a
// workflow right after Start should not have to retry.
func waitHistory(ctx context.Context, wf workflowservice.WorkflowServiceClient, namespace string) error {
	return poll(ctx, func(ctx context.Context) error {
		_, err := wf.DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{
			Namespace: namespace,
			Execution: &commonpb.WorkflowExecution{WorkflowId: probeWorkflowID},
		})
		if err == nil {
			return nil
		}
		var notFound *serviceerror.NotFound
		if errors.As(serviceerror.FromStatus(status.Convert(err)), &notFound) {
			return nil // the workflow does not exist, and history said so
		}
		return err
	})
}

// ensureNamespace registers namespace unless it exists. An existing namespace
// is left as it is, whatever its retention.
func ensureNamespace(ctx context.Context, wf workflowservice.WorkflowServiceClient, namespace string, retention time.Duration) error {
	err := poll(ctx, func(ctx context.Context) error {
		_, err := wf.DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
		if status.Code(err) != codes.NotFound {
			return err
		}
		_, err = wf.RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        namespace,
			Description:                      "created by ticketd dev",
			WorkflowExecutionRetentionPeriod: durationpb.New(retention),
		})
		if status.Code(err) == codes.AlreadyExists {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("register namespace %s: %w", namespace, err)
	}
	return nil
}

// ensureSearchAttributes registers the custom search attributes of want that
// namespace lacks, and fails if one exists with another type (Temporal would
// silently keep the old type). added tells whether it registered any.
func ensureSearchAttributes(ctx context.Context, op operatorservice.OperatorServiceClient, namespace string, want map[string]enums.IndexedValueType) (added bool, err error) {
	if len(want) == 0 {
		return false, nil
	}
	missing, err := missingSearchAttributes(ctx, op, namespace, want)
	if err != nil || len(missing) == 0 {
		return false, err
	}
	err = poll(ctx, func(ctx context.Context) error {
		_, err := op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace:        namespace,
			SearchAttributes: missing,
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("add search attributes %v to namespace %s: %w", slices.Sorted(maps.Keys(missing)), namespace, err)
	}
	missing, err = missingSearchAttributes(ctx, op, namespace, want)
	if err != nil {
		return true, err
	}
	if len(missing) > 0 {
		return true, fmt.Errorf("search attributes %v missing from namespace %s after adding them", slices.Sorted(maps.Keys(missing)), namespace)
	}
	return true, nil
}

// missingSearchAttributes returns the entries of want not registered in namespace.
func missingSearchAttributes(ctx context.Context, op operatorservice.OperatorServiceClient, namespace string, want map[string]enums.IndexedValueType) (map[string]enums.IndexedValueType, error) {
	var have map[string]enums.IndexedValueType
	err := poll(ctx, func(ctx context.Context) error {
		resp, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
		have = resp.GetCustomAttributes()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list search attributes of namespace %s: %w", namespace, err)
	}
	missing := make(map[string]enums.IndexedValueType)
	for _, name := range slices.Sorted(maps.Keys(want)) {
		got, ok := have[name]
		switch {
		case !ok:
			missing[name] = want[name]
		case got != want[name]:
			return nil, fmt.Errorf("search attribute %s in namespace %s has type %s, want %s", name, namespace, got, want[name])
		}
	}
	return missing, nil
}
