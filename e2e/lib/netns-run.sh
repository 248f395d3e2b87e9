# One run of an official protocol test suite (Engine.IO v4, Socket.IO v5).
# Not meant to be run by hand: e2e/engineio-suite/run and
# e2e/socketio-suite/run start it as
#
#   unshare -n -p -f --kill-child bash netns-run.sh SERVER_LOG MOCHA_LOG
#
# so this shell is PID 1 of a fresh PID namespace inside a fresh network
# namespace: only the server started here can hold port 3000, and when this
# shell exits (or is killed, or `unshare` is) the kernel kills whatever is
# left in the namespace, and the network namespace goes with it.
#
# Needs ROOT, SUITE_DIR, SERVER_CMD and SUITE_LABEL in the environment
# (STARTUP_TIMEOUT and SUITE_TIMEOUT, in seconds, are optional). Prints mocha's spec
# report on stdout (and into MOCHA_LOG); the server's output goes to SERVER_LOG.
# Exit status: mocha's, or 90 (lo), 91 (server did not start), 92 (wrong
# port), 93 (server died during the run).
set -u
srvlog=$1
mochalog=$2
SUITE_DIR="${SUITE_DIR:?the suite directory (set by run)}"
SERVER_CMD="${SERVER_CMD:?the server command (set by run)}"
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-30}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-300}

log() { echo "[${SUITE_LABEL:-suite}/netns] $*" >&2; }

server=""
stop_server() {
  [ -n "$server" ] || return 0
  if kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null
    for _ in $(seq 50); do
      kill -0 "$server" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$server" 2>/dev/null; then
      log "server $server ignored SIGTERM for 5 s; SIGKILL"
      kill -KILL "$server" 2>/dev/null
    fi
  fi
  wait "$server" 2>/dev/null
  server=""
}
trap 'stop_server; exit 130' INT TERM

if ! ip link set lo up; then
  log "cannot bring up lo in the new network namespace"
  exit 90
fi

: >"$srvlog"
# exec: the PID of the subshell is the PID of the server.
( cd "$ROOT" && eval "exec $SERVER_CMD" ) >"$srvlog" 2>&1 </dev/null &
server=$!

deadline=$(( $(date +%s) + STARTUP_TIMEOUT ))
while ! grep -q '^listening on ' "$srvlog"; do
  if ! kill -0 "$server" 2>/dev/null; then
    wait "$server"
    log "server exited with status $? before printing its listening line; its output:"
    sed 's/^/  | /' "$srvlog" >&2
    server=""
    exit 91
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    log "server printed no 'listening on' line within ${STARTUP_TIMEOUT}s; its output:"
    sed 's/^/  | /' "$srvlog" >&2
    stop_server
    exit 91
  fi
  sleep 0.05
done
port=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)[[:space:]]*$/\1/p' "$srvlog" | head -n 1)
if [ "$port" != 3000 ]; then
  log "the suite needs port 3000 but the server says: $(grep -m1 '^listening on ' "$srvlog")"
  stop_server
  exit 92
fi

# The suite itself is unmodified; --exit only makes mocha leave once the
# tests are done instead of waiting for sockets a broken server keeps open.
(cd "$SUITE_DIR" && exec timeout --foreground -k 5 "$SUITE_TIMEOUT" \
  node node_modules/mocha/bin/mocha --reporter spec --exit test-suite.js) 2>&1 \
  | tee "$mochalog"
rc=${PIPESTATUS[0]}

if ! kill -0 "$server" 2>/dev/null; then
  wait "$server"
  log "the server died during the run (exit status $?)"
  server=""
  [ "$rc" -eq 0 ] && rc=93
fi
stop_server
exit "$rc"
