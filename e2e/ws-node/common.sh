# Shared helpers for e2e/*/run scripts. Source it; do not execute it.
# Expects E2E_SUITE to be set to a short suite name for messages.

E2E_COMMON_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_DIR="$(cd "$E2E_COMMON_DIR/.." && pwd)"
ROOT="$(cd "$E2E_DIR/.." && pwd)"
ECHO_SERVER_BIN="$ROOT/target/release/examples/echo_server"
export ROOT

e2e_log() { echo "[$E2E_SUITE] $*" >&2; }

# Print the closing line and exit: finish PASSED FAILED
finish() {
  local passed=$1 failed=$2
  echo "$passed passed, $failed failed"
  if [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; then exit 0; fi
  exit 1
}

# Run a command while holding an exclusive lock (serialises installs when
# several suites start at once).
with_lock() {
  local name=$1; shift
  mkdir -p "$ROOT/target"
  if command -v flock >/dev/null 2>&1; then
    (
      flock 9 || exit 1
      "$@"
    ) 9>"$ROOT/target/.e2e-$name.lock"
  else
    "$@"
  fi
}

_npm_ci_if_needed() {
  local stamp="$E2E_DIR/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$E2E_DIR/package-lock.json" -nt "$stamp" ] || [ "$E2E_DIR/package.json" -nt "$stamp" ]; then
    e2e_log "npm ci in $E2E_DIR"
    (cd "$E2E_DIR" && npm ci --no-audit --no-fund >&2)
  fi
}

# Install e2e/node_modules with `npm ci` when missing or older than the lockfile.
ensure_node_modules() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    e2e_log "node and npm are required"
    return 1
  fi
  with_lock npm _npm_ci_if_needed
}

# Make sure a server under test is available:
#   ensure_example_server OVERRIDE_VAR BIN PACKAGE EXAMPLE
# With the variable named OVERRIDE_VAR set (a whole server command) nothing is
# built. Otherwise the example is built with cargo (a no-op when it is up to
# date); E2E_NO_BUILD=1 skips that when BIN already exists.
ensure_example_server() {
  local var=$1 bin=$2 package=$3 example=$4
  if [ -n "${!var:-}" ]; then
    e2e_log "server under test: $var=${!var}"
    return 0
  fi
  if [ "${E2E_NO_BUILD:-}" = 1 ] && [ -x "$bin" ]; then
    e2e_log "server under test: $bin (not rebuilt: E2E_NO_BUILD=1)"
    return 0
  fi
  if command -v cargo >/dev/null 2>&1; then
    e2e_log "cargo build --release -p $package --example $example"
    if ! (cd "$ROOT" && with_lock cargo cargo build --release -p "$package" --example "$example" >&2); then
      e2e_log "building $example failed"
      return 1
    fi
  fi
  if [ ! -x "$bin" ]; then
    e2e_log "server binary missing: $bin (and cargo could not build it)"
    return 1
  fi
  e2e_log "server under test: $bin"
}

# The sockio-ws echo server (ECHO_SERVER_CMD overrides it).
ensure_echo_server() {
  ensure_example_server ECHO_SERVER_CMD "$ECHO_SERVER_BIN" sockio-ws echo_server
}

# Run node's test runner on the given files: spec output to the terminal, TAP
# to a file whose summary is parsed. Ends the script with finish().
run_node_tests() {
  local tap rc passed failed cancelled
  tap="$(mktemp)"
  (cd "$ROOT" && node --test \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" \
    "$@")
  rc=$?
  passed=$(sed -n 's/^# pass \([0-9][0-9]*\)$/\1/p' "$tap" | tail -n 1)
  failed=$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$tap" | tail -n 1)
  cancelled=$(sed -n 's/^# cancelled \([0-9][0-9]*\)$/\1/p' "$tap" | tail -n 1)
  rm -f "$tap"
  passed=${passed:-0}
  failed=$(( ${failed:-0} + ${cancelled:-0} ))
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    e2e_log "node --test exited with $rc"
    failed=1
  fi
  finish "$passed" "$failed"
}

# The Python venv of the e2e suites (websockets, pytest), made or updated
# from e2e/ws-python/requirements.txt.
VENV="$ROOT/target/e2e-venv"
PY="$VENV/bin/python"
REQ="$E2E_DIR/ws-python/requirements.txt"

ensure_venv() {
  local want have=""
  want="$(sha256sum "$REQ" | cut -d' ' -f1)"
  [ -f "$VENV/.requirements.sha256" ] && have="$(cat "$VENV/.requirements.sha256")"
  if [ -x "$PY" ] && "$PY" -c 'import sys' 2>/dev/null && [ "$want" = "$have" ]; then
    return 0
  fi
  if [ ! -x "$PY" ] || ! "$PY" -c 'import sys' 2>/dev/null; then
    e2e_log "creating venv $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV" || return 1
  fi
  e2e_log "pip install -r $REQ"
  "$PY" -m pip install --quiet --disable-pip-version-check -r "$REQ" >&2 || return 1
  echo "$want" > "$VENV/.requirements.sha256"
}


# Debian's Chromium for the browser suites (never a downloaded browser).
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
ensure_chromium() {
  [ -x "$CHROMIUM" ] && return 0
  if [ "$CHROMIUM" != /usr/bin/chromium ]; then
    e2e_log "CHROMIUM_PATH=$CHROMIUM does not exist"
    return 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    e2e_log "chromium missing and not root: run 'apt-get install chromium' first"
    return 1
  fi
  e2e_log "installing chromium with apt-get (takes ~1 min)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || return 1
  apt-get install -y -q --no-install-recommends chromium >&2 || return 1
  [ -x "$CHROMIUM" ]
}

