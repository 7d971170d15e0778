package api_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ticketd/ticketd/internal/testenv"
)

// stack is the real service every test in this package talks to: one
// PostgreSQL database, one in-process Temporal server, one worker and API.
// Tests isolate themselves by creating their own users and tickets.
var stack *testenv.Stack

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	db, err := testenv.NewDatabase("api")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = db.Drop() }()
	gdb, err := db.Open()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ts, err := testenv.NewTemporal()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer ts.Stop()
	stack, err = testenv.NewStack(gdb, ts, testenv.StackOptions{
		StreamHeartbeat: 300 * time.Millisecond, StreamPoll: 100 * time.Millisecond,
		TrustedProxies: []string{"127.0.0.1", "::1"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stack.Close()
	return m.Run()
}
