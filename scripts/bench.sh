#!/usr/bin/env bash
# Latency and throughput figures for ticketd (make bench).
#
# Starts `bin/ticketd dev` on a fresh data dir and free loopback ports, runs
# cmd/loadgen against it, stops it, and does that twice:
#   (A) the dev stack: embedded Temporal + SQLite
#   (B) the same with DATABASE_URL at a fresh PostgreSQL database
#       ticketd_bench_<random>, created on BENCH_DATABASE_URL's server (default
#       TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test) and
#       dropped afterwards.
# The tables go to stdout, progress to stderr; each run's ticketd log is kept
# in bin/bench-<stack>.log.
#
# Knobs (environment): BENCH_STACKS ("sqlite postgres"), BENCH_CLIENTS (16),
# BENCH_REQUESTS per phase (400), BENCH_DURATION longest phase (40s),
# BENCH_TIMEOUT per request (30s), BENCH_JSON=1 for JSON instead of tables,
# BENCH_FLOOR_ROUNDS (6), BENCH_FLOOR_BATCH (10 requests per client) and
# BENCH_FLOOR_CLIENTS (1,16) of the comparison with no-op updates on the
# same engine, BENCH_FLOOR_ONLY=1 to run only that comparison,
# BENCH_GRPC_COMPRESSION (none, as ticketd dev's embedded server has it; or
# gzip) of both ticketd's and the floor's Temporal clients,
# BENCH_TICKETD (bin/ticketd) to measure another build of ticketd with this
# loadgen, for example an earlier commit's.
set -euo pipefail
cd "$(dirname "$0")/.."

stacks="${BENCH_STACKS:-sqlite postgres}"
clients="${BENCH_CLIENTS:-16}"
requests="${BENCH_REQUESTS:-400}"
duration="${BENCH_DURATION:-40s}"
timeout="${BENCH_TIMEOUT:-30s}"
floor_rounds="${BENCH_FLOOR_ROUNDS:-6}"
floor_batch="${BENCH_FLOOR_BATCH:-10}"
floor_clients="${BENCH_FLOOR_CLIENTS:-1,16}"
compression="${BENCH_GRPC_COMPRESSION:-none}"
ticketd="${BENCH_TICKETD:-bin/ticketd}"
admin_url="${BENCH_DATABASE_URL:-${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}}"

say() { echo "bench: $*" >&2; }

# State the exit trap cleans up.
pid=""      # the running ticketd
db_name=""  # the PostgreSQL database to drop
tmp_dirs=() # data dirs and the Go helper's dir

stop_ticketd() {
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		# ticketd drains for up to 30s after SIGTERM.
		for _ in $(seq 90); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
		if kill -0 "$pid" 2>/dev/null; then
			say "ticketd (pid $pid) ignored SIGTERM for 45s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
	pid=""
}

cleanup() {
	stop_ticketd
	if [ -n "$db_name" ]; then
		pg_admin "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" || say "could not drop database $db_name"
		db_name=""
	fi
	if [ ${#tmp_dirs[@]} -gt 0 ]; then rm -rf "${tmp_dirs[@]}"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# pg_admin runs one SQL statement on the admin database: with psql, or with a
# tiny Go program on the module's own pgx when psql is missing.
pg_admin() {
	if command -v psql >/dev/null; then
		psql "$admin_url" -X -q -v ON_ERROR_STOP=1 -c "$1" >/dev/null
		return
	fi
	if [ -z "${pg_helper:-}" ]; then
		# Inside the module (so it builds with go.mod's pgx); "_" keeps it out of ./...
		local dir
		dir="$(mktemp -d "$PWD/_bench.XXXXXX")"
		tmp_dirs+=("$dir")
		pg_helper="$dir/pgadmin.go"
		cat >"$pg_helper" <<'GO'
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
)

func main() {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Args[1])
	if err == nil {
		_, err = conn.Exec(ctx, os.Args[2])
		_ = conn.Close(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgadmin:", err)
		os.Exit(1)
	}
}
GO
	fi
	go run "$pg_helper" "$admin_url" "$1"
}

# with_db URL NAME: URL with its database replaced by NAME.
with_db() {
	local url="$1" name="$2" scheme rest hostpart query=""
	scheme="${url%%://*}"
	rest="${url#*://}"
	hostpart="${rest%%/*}"
	hostpart="${hostpart%%\?*}"
	if [[ "$url" == *\?* ]]; then query="?${url#*\?}"; fi
	echo "$scheme://$hostpart/$name$query"
}

# free_port VAR BASE: sets VAR to the first port from BASE up that nothing
# listens on and this script has not handed out yet.
used_ports=" "
free_port() {
	local p
	for ((p = $2; p < $2 + 500; p++)); do
		[[ "$used_ports" == *" $p "* ]] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			used_ports+="$p "
			printf -v "$1" '%s' "$p"
			return
		fi
	done
	say "no free port from $2 to $(($2 + 499))"
	return 1
}

# bench LABEL STACK DATABASE_URL: one full run; DATABASE_URL empty means
# SQLite. It runs in an `||` list, where bash ignores set -e: every step that
# can fail says so itself.
bench() {
	local label="$1" stack="$2" db_url="$3" data http_port temporal_port ui_port base log
	data="$(mktemp -d "${TMPDIR:-/tmp}/ticketd-bench.XXXXXX")" || return 1
	tmp_dirs+=("$data")
	free_port http_port 18080 || return 1
	free_port temporal_port 17233 || return 1
	free_port ui_port 18233 || return 1
	base="http://127.0.0.1:$http_port"
	log="bin/bench-$stack.log"

	# Only what this run sets: no inherited DATABASE_URL, TEMPORAL_ADDRESS, ….
	local envs=(-u DATABASE_URL -u TEMPORAL_ADDRESS -u TEMPORAL_NAMESPACE -u TICKETD_JWT_SECRET
		-u TICKETD_DATA_DIR -u HTTP_ADDR -u LOG_FORMAT -u TICKETD_RATE_BURST
		TICKETD_RATE_LIMIT=0 LOG_LEVEL=warn TEMPORAL_GRPC_COMPRESSION="$compression")
	if [ -n "$db_url" ]; then envs+=("DATABASE_URL=$db_url"); fi

	say "$stack: starting $ticketd dev (data $data, API $base, Temporal 127.0.0.1:$temporal_port, UI 127.0.0.1:$ui_port)"
	env "${envs[@]}" "$ticketd" dev --data-dir "$data" --http-addr "127.0.0.1:$http_port" \
		--temporal-addr "127.0.0.1:$temporal_port" --ui-addr "127.0.0.1:$ui_port" \
		>"$data/stdout.log" 2>"$log" &
	pid=$!

	local started=$SECONDS
	until [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$base/readyz" || true)" = 200 ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			say "$stack: ticketd exited before it was ready; its log ($log) ends:"
			tail -n 20 "$log" >&2
			pid=""
			return 1
		fi
		if ((SECONDS - started > 180)); then
			say "$stack: $base/readyz is not 200 after 180s; the log ($log) ends:"
			tail -n 20 "$log" >&2
			return 1
		fi
		sleep 1
	done
	say "$stack: ready after $((SECONDS - started))s"

	# dev creates the demo users right after it starts listening.
	local customer_token="" agent_token=""
	started=$SECONDS
	until customer_token="$(env "${envs[@]}" "$ticketd" token --data-dir "$data" --email customer@example.com 2>/dev/null)" &&
		agent_token="$(env "${envs[@]}" "$ticketd" token --data-dir "$data" --email agent@example.com 2>/dev/null)"; do
		if ((SECONDS - started > 60)); then
			say "$stack: no demo-user tokens after 60s:"
			env "${envs[@]}" "$ticketd" token --data-dir "$data" --email customer@example.com >&2 || true
			return 1
		fi
		sleep 1
	done

	local json=()
	if [ "${BENCH_JSON:-}" = 1 ]; then json=(--json); fi
	echo
	echo "==== $label"
	local rc=0
	local floor=(--temporal-addr "127.0.0.1:$temporal_port" --ticketd-pid "$pid" --floor-rounds "$floor_rounds" --floor-batch "$floor_batch" --floor-clients "$floor_clients" --temporal-compression "$compression")
	if [ "${BENCH_FLOOR_ONLY:-}" = 1 ]; then floor+=(--floor-only); fi
	bin/loadgen --url "$base" --customer-token "$customer_token" --agent-token "$agent_token" \
		--clients "$clients" --requests "$requests" --duration "$duration" --timeout "$timeout" "${floor[@]}" "${json[@]}" || rc=$?

	say "$stack: stopping ticketd"
	stop_ticketd || return 1
	local warns errors
	warns="$(grep -c 'level=WARN' "$log" || true)"
	errors="$(grep -c 'level=ERROR' "$log" || true)"
	say "$stack: ticketd logged $warns warnings and $errors errors ($log)"
	grep -E 'level=(WARN|ERROR)' "$log" | grep -o 'level=[A-Z]* msg="[^"]*"' | sort | uniq -c | sort -rn | head -n 10 >&2 || true
	if [ "$errors" -gt 0 ]; then grep -m 5 'level=ERROR' "$log" | cut -c1-400 >&2; fi
	return "$rc"
}

if [ ! -x "$ticketd" ]; then
	say "building $ticketd"
	go build -o "$ticketd" ./cmd/ticketd
fi
say "building bin/loadgen"
go build -o bin/loadgen ./cmd/loadgen

if [[ " $stacks " == *" postgres "* ]]; then
	TEST_DATABASE_URL="$admin_url" scripts/check-postgres.sh >&2
fi

status=0
for stack in $stacks; do
	case "$stack" in
	sqlite)
		bench "(A) dev stack: $ticketd dev, embedded Temporal + SQLite, $clients clients" sqlite "" || status=1
		stop_ticketd
		;;
	postgres)
		db_name="ticketd_bench_$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"
		pg_admin "CREATE DATABASE $db_name"
		bench "(B) $ticketd dev, DATABASE_URL on PostgreSQL (database $db_name; the embedded Temporal keeps SQLite), $clients clients" \
			postgres "$(with_db "$admin_url" "$db_name")" || status=1
		stop_ticketd
		pg_admin "DROP DATABASE IF EXISTS $db_name WITH (FORCE)"
		db_name=""
		;;
	*)
		say "unknown stack $stack (want sqlite or postgres)"
		status=1
		;;
	esac
done

# ---- (R) read phase: cmd/readbench seeds 10k and 1M tickets straight into
# fresh PostgreSQL databases (ticketd_bench_*, dropped afterwards) and times
# the API's read paths on each. BENCH_READS=0 skips it; BENCH_READ_SIZES
# (10000,1000000) and BENCH_READ_REQUESTS (200 per query and size) tune it.
if [ "${BENCH_READS:-1}" != 0 ]; then
	say "building bin/readbench"
	go build -o bin/readbench ./cmd/readbench
	TEST_DATABASE_URL="$admin_url" scripts/check-postgres.sh >&2
	echo
	echo "==== (R) read paths, PostgreSQL, ${BENCH_READ_SIZES:-10000,1000000} tickets (cmd/readbench)"
	bin/readbench --database-url "$admin_url" --sizes "${BENCH_READ_SIZES:-10000,1000000}" \
		--requests "${BENCH_READ_REQUESTS:-200}" || status=1
fi
exit "$status"
