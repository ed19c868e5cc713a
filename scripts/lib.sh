# Shared helpers for scripts/*: sourced, not run.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the Debian packages the build, the tests and the demo need, when any is missing.
ensure_system_packages() {
    local wanted=(libpq-dev libcurl4-openssl-dev postgresql python3-venv pkg-config)
    local missing=()
    for p in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Creates the Python virtualenv used by the cross-checks (reference libraries) once.
ensure_venv() {
    local stamp="$VENV/.requirements.sha"
    local want
    want=$(sha256sum "$ROOT/scripts/requirements-crosscheck.txt" | cut -d' ' -f1)
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    say "creating the cross-check virtualenv in .venv"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/scripts/requirements-crosscheck.txt"
    echo "$want" >"$stamp"
}

# The directory holding PostgreSQL's initdb and pg_ctl: PATH first, then the newest
# /usr/lib/postgresql/*/bin (Debian keeps the server binaries out of PATH).
pg_bin_dir() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

# Starts a throwaway PostgreSQL cluster for the tests and exports DRIFT_TEST_DATABASE_URL
# (a key=value connection string through the cluster's private Unix socket directory; the
# server also listens on 127.0.0.1 at a free port, for psql while debugging). initdb refuses
# to run as root, so as root the cluster belongs to the postgres user (runuser). The cluster
# is stopped and removed when the calling shell exits (an EXIT trap).
start_test_postgres() {
    local bin
    bin=$(pg_bin_dir) || {
        say "PostgreSQL server binaries (initdb, pg_ctl) not found"
        return 1
    }
    TEST_PG_DIR=$(mktemp -d /tmp/driftwatch-test-pg.XXXXXX)
    TEST_PG_BIN=$bin
    TEST_PG_AS=()
    local data="$TEST_PG_DIR/data" run="$TEST_PG_DIR/run" log="$TEST_PG_DIR/postgres.log"
    mkdir -p "$data" "$run"
    chmod 700 "$TEST_PG_DIR" "$data" "$run"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres:postgres "$TEST_PG_DIR"
        TEST_PG_AS=(runuser -u postgres --)
    fi
    trap stop_test_postgres EXIT
    if ! "${TEST_PG_AS[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale \
        >"$TEST_PG_DIR/initdb.log" 2>&1; then
        cat "$TEST_PG_DIR/initdb.log" >&2
        return 1
    fi
    local port
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if ! "${TEST_PG_AS[@]}" "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $run" start >/dev/null; then
        cat "$log" >&2
        return 1
    fi
    export DRIFT_TEST_DATABASE_URL="host=$run port=$port user=postgres dbname=postgres"
    say "test PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on port $port ($TEST_PG_DIR)"
}

# Stops and removes the cluster start_test_postgres started (safe to call twice).
stop_test_postgres() {
    [ -n "${TEST_PG_DIR:-}" ] || return 0
    if [ -f "$TEST_PG_DIR/data/postmaster.pid" ]; then
        "${TEST_PG_AS[@]}" "$TEST_PG_BIN/pg_ctl" -D "$TEST_PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$TEST_PG_DIR"
    TEST_PG_DIR=""
}
