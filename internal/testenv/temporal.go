package testenv

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/server/temporaltest"

	"github.com/ticketd/ticketd/workflows"
)

// NewTemporal starts an in-process Temporal server with the ticket search
// attributes registered in its namespace. Call Stop when done.
func NewTemporal() (*temporaltest.TestServer, error) {
	ts := temporaltest.NewServer(temporaltest.WithBaseClientOptions(client.Options{}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := workflows.EnsureSearchAttributes(ctx, ts.GetDefaultClient(), ts.GetDefaultNamespace()); err != nil {
		ts.Stop()
		return nil, fmt.Errorf("register search attributes: %w", err)
	}
	return ts, nil
}
