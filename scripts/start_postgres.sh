#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tuning tests and tune_distributed.sh: Debian's
# packages (installed when missing, as root), a data folder in /tmp, loopback only, trust
# authentication for the user postgres. Idempotent: a server already answering on the port
# is left as it is. The last line printed is the URL the tests read from S4TS_TEST_POSTGRES:
#   export S4TS_TEST_POSTGRES=$(bash scripts/start_postgres.sh | tail -1)
# Stop it with: scripts/start_postgres.sh stop
set -euo pipefail

PGDATA_DIR="${S4TS_PG_DIR:-/tmp/s4ts-postgres}"
PORT="${S4TS_PG_PORT:-55432}"
URL="postgresql://postgres@127.0.0.1:${PORT}/postgres"

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

if [ "$(id -u)" -eq 0 ]; then AS_OWNER=(runuser -u postgres --); else AS_OWNER=(); fi

BIN="$(find_bin)"
if [ -z "$BIN" ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "start_postgres.sh: PostgreSQL is not installed; install it (Debian: apt-get install postgresql) and rerun" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    # The package may create and start its own cluster; this script runs a separate one.
    apt-get install -y -q --no-install-recommends postgresql >&2
    BIN="$(find_bin)"
fi

if [ "${1:-start}" = "stop" ]; then
    "${AS_OWNER[@]}" "$BIN/pg_ctl" -D "$PGDATA_DIR" stop -m fast >&2 || true
    exit 0
fi

if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    echo "PostgreSQL already answering on 127.0.0.1:$PORT" >&2
    echo "$URL"
    exit 0
fi

if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
    mkdir -p "$PGDATA_DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PGDATA_DIR"
    "${AS_OWNER[@]}" "$BIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust --no-sync >&2
fi
# Loopback only; the socket in the data folder, so no system folder is needed.
"${AS_OWNER[@]}" "$BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $PGDATA_DIR -c fsync=off" start >&2
echo "$URL"
