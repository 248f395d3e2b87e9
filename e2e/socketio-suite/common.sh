# Shared helpers of e2e/socketio-suite/run and e2e/socketio-client/run.
# Source it after setting E2E_SUITE; do not execute it.
# Builds on e2e/ws-node/common.sh (finish, with_lock, ensure_node_modules,
# run_node_tests, ROOT, E2E_DIR).

source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../ws-node" && pwd)/common.sh"

SOCKETIO_DIR="$E2E_DIR/socketio-suite"
CONFORMANCE_BIN="$ROOT/target/release/examples/conformance"

# Make sure the Socket.IO server under test is available.
# With SOCKETIO_SERVER_CMD set nothing is built (the command runs from $ROOT).
# Otherwise the conformance example is built with cargo (a no-op when it is
# up to date); E2E_NO_BUILD=1 skips that when the binary already exists.
ensure_socketio_server() {
  if [ -n "${SOCKETIO_SERVER_CMD:-}" ]; then
    e2e_log "server under test: SOCKETIO_SERVER_CMD=$SOCKETIO_SERVER_CMD"
    return 0
  fi
  if [ "${E2E_NO_BUILD:-}" = 1 ] && [ -x "$CONFORMANCE_BIN" ]; then
    e2e_log "server under test: $CONFORMANCE_BIN (not rebuilt: E2E_NO_BUILD=1)"
    return 0
  fi
  if command -v cargo >/dev/null 2>&1; then
    e2e_log "cargo build --release -p sockio-server --example conformance"
    if ! (cd "$ROOT" && with_lock cargo cargo build --release -p sockio-server --example conformance >&2); then
      e2e_log "building the conformance server failed"
      return 1
    fi
  fi
  if [ ! -x "$CONFORMANCE_BIN" ]; then
    e2e_log "conformance server binary missing: $CONFORMANCE_BIN (and cargo could not build it)"
    return 1
  fi
  e2e_log "server under test: $CONFORMANCE_BIN"
}
