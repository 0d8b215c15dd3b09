#!/usr/bin/env bash
# Property-based tests of the REST API against its own OpenAPI schema (/api/schema/).
#
# Starts the app under gunicorn on a free loopback port with a fresh database (a scratch SQLite
# file, or with SCHEMATHESIS_DB=postgres a scratch PostgreSQL database it creates and drops),
# loads the demo data, creates a token for the demo staff user, runs schemathesis with a bounded
# number of examples per operation, and cleans everything up. Fails on any 500, any response that
# breaks the schema, any status code or content type the schema does not document, or any
# schema-violating input that is accepted. One check is off: positive_data_acceptance, because the
# API refuses schema-valid values that refer to nothing, by design (an unknown campaign id in a
# filter is a 400, an unknown reward a 404, a decided one a 409, a cursor from another ordering a
# 400), and random ids mostly refer to nothing.
#
#   scripts/schemathesis.sh                      # about 2.5 minutes
#   MAX_EXAMPLES=200 scripts/schemathesis.sh     # longer run
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
ST=${SCHEMATHESIS:-.venv/bin/schemathesis}
MAX_EXAMPLES=${MAX_EXAMPLES:-25}
SEED=${SEED:-$RANDOM}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}

workdir="$(mktemp -d)"
server_pid=""
st_pid=""
scratch_db=""
cleanup() {
    if [ -n "$st_pid" ] && kill -0 "$st_pid" 2>/dev/null; then
        kill "$st_pid" && wait "$st_pid" 2>/dev/null || true
    fi
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
    fi
    if [ -n "$scratch_db" ]; then
        admin_sql "DROP DATABASE IF EXISTS $scratch_db WITH (FORCE)" || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

admin_sql() {  # psycopg rather than psql: only the project's own virtualenv is needed
    "$PY" -c 'import sys, psycopg; psycopg.connect(sys.argv[1], autocommit=True).execute(sys.argv[2])' \
        "$PG_ADMIN_URL" "$1"
}

port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export DEBUG=true
export SECRET_KEY="schemathesis-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ALLOWED_HOSTS=127.0.0.1,localhost
export LOG_LEVEL=WARNING
if [ "${SCHEMATHESIS_DB:-sqlite}" = "postgres" ]; then
    scratch_db="referralhub_schemathesis_$$"
    admin_sql "CREATE DATABASE $scratch_db"
    export DATABASE_URL="${PG_ADMIN_URL%/*}/$scratch_db"
else
    export DATABASE_URL="sqlite:///$workdir/db.sqlite3"
fi

echo "=== schemathesis: database $DATABASE_URL, port $port, seed $SEED"
"$PY" manage.py migrate --noinput >/dev/null
"$PY" manage.py load_demo >/dev/null
token="$("$PY" manage.py drf_create_token staff | awk '{print $3}')"

# No request-line limit: gunicorn's own 414 for long URLs is not the app's answer to test.
"$PY" -m gunicorn referralhub.wsgi --bind "127.0.0.1:$port" --workers 2 --threads 4 \
    --limit-request-line 0 --log-level warning >"$workdir/server.log" 2>&1 &
server_pid=$!
"$PY" - "$port" <<'PYEOF'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the server did not start")
PYEOF

# In the background and waited for, so that an interrupt runs the cleanup at once.
"$ST" --no-color run "http://127.0.0.1:$port/api/schema/?format=json" \
    --header "Authorization: Token $token" \
    --checks all \
    --exclude-checks positive_data_acceptance \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --phases examples,coverage,fuzzing \
    --workers 2 \
    --request-timeout 10 \
    --max-time "${MAX_TIME:-120}" &
st_pid=$!
status=0
wait "$st_pid" || status=$?

if grep -q "Traceback" "$workdir/server.log"; then
    echo "=== the server logged tracebacks:" >&2
    cat "$workdir/server.log" >&2
    status=1
fi
exit "$status"
