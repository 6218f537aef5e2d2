#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: `scripts/postgres.sh start DIR` makes a
# cluster in DIR (created, owned by the server's user), listening on a Unix
# socket in DIR only, and prints the URL to reach it; `scripts/postgres.sh stop
# DIR` stops it. Installs the Debian package when no PostgreSQL is found.
set -euo pipefail

cmd=${1:?usage: postgres.sh start|stop DIR}
dir=${2:?usage: postgres.sh start|stop DIR}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] && [ "$cmd" = start ]; then
    echo "postgres.sh: installing PostgreSQL (Debian package)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

# PostgreSQL refuses to run as root: run it as its own user then.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$cmd" in
start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then
        chown postgres: "$dir"
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        locale=C.UTF-8
        # A locale whose text order is not the bytes' shows that the schema
        # does not depend on the server's locale.
        if locale -a 2>/dev/null | grep -qi '^en_US\.utf-\?8$'; then
            locale=en_US.UTF-8
        fi
        as_owner "$bin/initdb" -D "$dir/data" -U deskterm --auth=trust -E UTF8 \
            --locale="$locale" > "$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # Tests are not a durable store: no fsync. Many tests run at once, each
    # with its own database and pool.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -c listen_addresses='' -c fsync=off -c synchronous_commit=off \
            -c full_page_writes=off -c max_connections=300" start > /dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://deskterm@localhost/postgres?host=$dir"
    ;;
stop)
    if [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null || true
    fi
    ;;
*)
    echo "usage: postgres.sh start|stop DIR" >&2
    exit 2
    ;;
esac
