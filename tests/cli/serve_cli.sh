#!/bin/bash
# `eosight serve`: starts on a free port (--port 0) over an empty model folder and a new
# catalog, prints its URL, answers /healthz (200), /readyz (503: no model), the web app (/) and
# /openapi.json over a plain bash /dev/tcp client, stops with exit status 0 on SIGTERM; bad
# options exit 2, a missing API key file 1. $1 is the built eosight command.
set -u
EOS="$1"
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"
if "$EOS" serve --help 2>&1 | grep -q "without GDAL"; then
    echo "SKIP: needs EOS_WITH_GDAL"; echo "0 passed, 0 failed, 1 skipped"; exit 77
fi
tmp=$(mktemp -d); pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/models"

get() { # get PORT PATH: the raw HTTP answer
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$2" >&3
    cat <&3; exec 3<&-
}

"$EOS" serve --port 70000 > /dev/null 2>&1; check "port out of range exits 2" [ $? -eq 2 ]
"$EOS" serve --bogus > /dev/null 2>&1; check "unknown option exits 2" [ $? -eq 2 ]
"$EOS" serve --bind not-an-address --port 0 --models "$tmp/models" > /dev/null 2>"$tmp/err"
check "bad bind address exits 1" [ $? -eq 1 ]
check "bad bind message" grep -q "not-an-address" "$tmp/err"
"$EOS" serve --rate-limit -1 > /dev/null 2>&1; check "negative rate limit exits 2" [ $? -eq 2 ]
"$EOS" serve --port 0 --models "$tmp/models" --api-key-file "$tmp/nokeys" > /dev/null 2>"$tmp/err"
check "missing key file exits 1" [ $? -eq 1 ]
check "missing key file named" grep -q "nokeys" "$tmp/err"

"$EOS" serve --port 0 --threads 2 --max-body-mb 1 --models "$tmp/models" \
    --catalog "$tmp/cat.sqlite" > "$tmp/out" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "listening on" "$tmp/out" && break; sleep 0.1; done
port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$tmp/out")
check "prints the URL" [ -n "$port" ]
get "$port" /healthz > "$tmp/h" 2>/dev/null
check "healthz 200" grep -q "^HTTP/1.1 200" "$tmp/h"
check "healthz body" grep -q '{"status":"ok"}' "$tmp/h"
get "$port" /readyz > "$tmp/r" 2>/dev/null
check "readyz 503 without models" grep -q "^HTTP/1.1 503" "$tmp/r"
check "the catalog is created" [ -f "$tmp/cat.sqlite" ]
get "$port" / > "$tmp/w" 2>/dev/null
check "GET / is the web app" grep -qi "^Content-Type: text/html" "$tmp/w"
get "$port" /openapi.json > "$tmp/o" 2>/dev/null
check "GET /openapi.json" grep -q '"openapi": "3.1.0"' "$tmp/o"
get "$port" "/v1/scenes?format=geojson" > "$tmp/s" 2>/dev/null
check "empty catalog: no scenes" grep -q '"features":\[\]' "$tmp/s"
kill -TERM "$pid"; wait "$pid"; rc=$?; pid=""
check "SIGTERM exits 0" [ $rc -eq 0 ]
check "says it drains" grep -q "SIGTERM received" "$tmp/out"
check "access log line" grep -qE "^[0-9T:-]+Z 127.0.0.1 GET /healthz 200 [0-9.]+ms" "$tmp/out"
summary
