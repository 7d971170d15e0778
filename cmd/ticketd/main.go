// Command ticketd is the customer-support ticket service: `ticketd dev` runs
// everything in one process; serve, worker and migrate are the production
// pieces; user and token administer users. main wires concrete dependencies
// and is the only place that exits.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	_ "time/tzdata" // SLA calendars name IANA zones; do not depend on the host having them
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := runIO(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "ticketd:", err)
		os.Exit(1)
	}
}

const usage = `ticketd — customer-support tickets, each a durable Temporal workflow

Usage:
  ticketd dev      [--data-dir D] [--http-addr A] [--temporal-addr A] [--ui-addr A]
  ticketd serve    [--data-dir D] [--http-addr A]
  ticketd worker   [--data-dir D] [--metrics-addr A]
  ticketd migrate  up | down [--to ID] | status
  ticketd user add --email E --name N --role customer|agent|admin [--password-stdin]
  ticketd user passwd --email E --password-stdin
  ticketd token    --email E [--ttl 24h]

Configuration (environment): DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
TICKETD_DATA_DIR, TICKETD_JWT_SECRET, HTTP_ADDR, LOG_LEVEL, LOG_FORMAT,
TICKETD_RATE_LIMIT, TICKETD_RATE_BURST. See README.md.
`

// run is the whole program with nothing on standard input; tests call it
// directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runIO(ctx, args, getenv, strings.NewReader(""), stdout, stderr)
}

// runIO is the whole program.
func runIO(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return fmt.Errorf("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "dev":
		return runDev(ctx, rest, getenv, stdout, stderr)
	case "serve":
		return runServe(ctx, rest, getenv, stderr)
	case "worker":
		return runWorker(ctx, rest, getenv, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "user":
		return runUser(ctx, rest, getenv, stdin, stdout, stderr)
	case "token":
		return runToken(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
