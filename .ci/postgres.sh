#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the PostgreSQL store's tests.
#
# Run it:     .ci/postgres.sh start   # prints the export line for RAPIDATA_TEST_POSTGRES_DSN
#             .ci/postgres.sh stop    # stops the cluster and deletes its data
# Or source:  source .ci/postgres.sh && rapidata_pg_start && trap rapidata_pg_stop EXIT
#             (rapidata_pg_start exports RAPIDATA_TEST_POSTGRES_DSN in the calling shell)
#
# Settings: RAPIDATA_PG_PORT (default 5544) and RAPIDATA_PG_DIR (default
# /tmp/rapidata-pg-<port>), which holds the data directory and the server's socket.
# As root, PostgreSQL is installed from Debian's packages when missing, and the server runs as
# the `postgres` user (it refuses to run as root); otherwise it runs as the calling user.
# The cluster listens on 127.0.0.1 only; its user `rapidata` (password `rapidata`) owns the
# database `rapidata_test`.

# The server's bin directory, or nothing when PostgreSQL is not installed.
_rapidata_pg_find() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [[ -z "$bin" ]] && command -v pg_config >/dev/null; then
        bin=$(pg_config --bindir) # PostgreSQL installed elsewhere (e.g. Homebrew)
    fi
    if [[ -n "$bin" && -x "$bin/initdb" ]]; then
        echo "$bin"
    fi
}

# The bin directory, installing Debian's packages first when we are root and it is missing.
_rapidata_pg_bin() {
    local bin
    bin=$(_rapidata_pg_find)
    if [[ -z "$bin" ]]; then
        if [[ $(id -u) -ne 0 ]]; then
            echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2
            return 1
        fi
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        bin=$(_rapidata_pg_find)
    fi
    echo "$bin"
}

# Run a command as the cluster's owner: `postgres` when we are root, else ourselves.
_rapidata_pg_as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

rapidata_pg_start() {
    local port="${RAPIDATA_PG_PORT:-5544}"
    local dir="${RAPIDATA_PG_DIR:-/tmp/rapidata-pg-$port}"
    local bin
    bin=$(_rapidata_pg_bin) || return 1
    export RAPIDATA_TEST_POSTGRES_DSN="postgresql://rapidata:rapidata@127.0.0.1:$port/rapidata_test"
    if [[ -f "$dir/data/postmaster.pid" ]] \
        && _rapidata_pg_as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        return 0 # already running (started by an earlier call)
    fi
    rm -rf "$dir"
    mkdir -p "$dir/data" "$dir/socket"
    if [[ $(id -u) -eq 0 ]]; then
        chown -R postgres:postgres "$dir"
    fi
    _rapidata_pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --no-sync >/dev/null || return 1
    _rapidata_pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-k $dir/socket -p $port -c listen_addresses=127.0.0.1 -c fsync=off" \
        start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
    _rapidata_pg_as_owner "$bin/psql" -h "$dir/socket" -p "$port" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 -q \
        -c "CREATE ROLE rapidata LOGIN PASSWORD 'rapidata'" \
        -c "CREATE DATABASE rapidata_test OWNER rapidata" || return 1
}

rapidata_pg_stop() {
    local port="${RAPIDATA_PG_PORT:-5544}"
    local dir="${RAPIDATA_PG_DIR:-/tmp/rapidata-pg-$port}"
    local bin
    bin=$(_rapidata_pg_find)
    if [[ -n "$bin" && -f "$dir/data/postmaster.pid" ]]; then
        _rapidata_pg_as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
    fi
    rm -rf "$dir"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    case "${1:-}" in
        start)
            rapidata_pg_start
            echo "export RAPIDATA_TEST_POSTGRES_DSN=$RAPIDATA_TEST_POSTGRES_DSN"
            ;;
        stop) rapidata_pg_stop ;;
        *)
            echo "usage: $0 start|stop" >&2
            exit 2
            ;;
    esac
fi
