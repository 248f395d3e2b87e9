# Shared helpers of e2e/socketio-suite/run and e2e/socketio-client/run.
# Source it after setting E2E_SUITE; do not execute it.
# Builds on e2e/ws-node/common.sh (finish, with_lock, ensure_node_modules,
# run_node_tests, ROOT, E2E_DIR).

source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../ws-node" && pwd)/common.sh"

CONFORMANCE_BIN="$ROOT/target/release/examples/conformance"

# The Socket.IO server under test: the conformance example, or the command in
# SOCKETIO_SERVER_CMD (run from $ROOT).
ensure_socketio_server() {
  ensure_example_server SOCKETIO_SERVER_CMD "$CONFORMANCE_BIN" sockio-server conformance
}
