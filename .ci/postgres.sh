# Sourced by .ci/run: a throwaway PostgreSQL server for the tests on both backends.
#
# Installs the Debian `postgresql` package when no server binaries are found, creates a cluster
# in a temp dir (as the `postgres` user when run as root: the server refuses to run as root),
# listens on a unix socket in that dir only (no TCP port), and exports ERPSYNC_TEST_POSTGRES_URL
# plus ERPSYNC_REQUIRE_POSTGRES=1 (tests/backends.py: a skipped PostgreSQL test then fails).
# An EXIT trap stops the server and removes the dir, however the script ends.

pg_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(pg_bindir)" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo ".ci/run: PostgreSQL is not installed; run as root or: apt-get install -y postgresql" >&2
        exit 1
    fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
PG_BIN=$(pg_bindir)
PG_DIR=$(mktemp -d /tmp/erpsync-ci-pg.XXXXXX)
as_pg=()
if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_DIR"
    as_pg=(runuser -u postgres --)
fi

pg_cleanup() {
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
trap pg_cleanup EXIT

# fsync off and friends: a throwaway cluster, speed over durability
"${as_pg[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --locale=C \
    --no-sync >"$PG_DIR/initdb.log"
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -o \
    "-c listen_addresses='' -k $PG_DIR -c fsync=off -c synchronous_commit=off \
     -c full_page_writes=off -c max_connections=300" start >/dev/null

export ERPSYNC_TEST_POSTGRES_URL="postgresql+psycopg://postgres@/postgres?host=$PG_DIR"
export ERPSYNC_REQUIRE_POSTGRES=1
