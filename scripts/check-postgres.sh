#!/usr/bin/env bash
# Fails with directions when the tests' PostgreSQL does not answer.
set -euo pipefail
url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
hostport="${url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=5432
if ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
	cat >&2 <<MSG
PostgreSQL does not answer at $host:$port, and the tests need it.
  - point TEST_DATABASE_URL at a server:  export TEST_DATABASE_URL=postgres://user:pass@host:5432/db?sslmode=disable
  - or install and start one (Debian/Ubuntu, as root):
        apt-get install -y postgresql && pg_ctlcluster \$(ls /etc/postgresql) main start
    then allow the tests' user, e.g.  su postgres -c "psql -c \"ALTER USER postgres PASSWORD 'postgres'\"" && su postgres -c "createdb test"
    and export TEST_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/test?sslmode=disable
  - .ci/run does all of this by itself.
MSG
	exit 1
fi
echo "== PostgreSQL answers at $host:$port"
