# shellcheck shell=bash
# Shared by e2e/autobahn/fuzzingclient and e2e/autobahn/fuzzingserver (sourced, not run).
# Expects HERE (this folder) and MODE to be set by the caller. Variables set here for
# the caller: CASES EXCLUDE VERBOSE WSTEST OUT BG_PID WAIT_RC SUMMARY_RC.
# shellcheck disable=SC2034

ROOT="$(cd "$HERE/../.." && pwd)"
AUTOBAHN_TIMEOUT="${AUTOBAHN_TIMEOUT:-1800}"   # seconds, per wstest / client run
AGENT="sockio"

# usage: the script's leading comment block, without the "# ".
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
log() { echo "autobahn/$MODE: $*" >&2; }
die() { echo "autobahn/$MODE: ERROR: $*" >&2; exit 1; }

# ---- arguments -------------------------------------------------------------
CASES="*"
EXCLUDE=""
VERBOSE=0
parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --cases) [ $# -ge 2 ] || die "--cases needs a value"; CASES="$2"; shift 2 ;;
      --cases=*) CASES="${1#*=}"; shift ;;
      --exclude) [ $# -ge 2 ] || die "--exclude needs a value"; EXCLUDE="$2"; shift 2 ;;
      --exclude=*) EXCLUDE="${1#*=}"; shift ;;
      -v|--verbose) VERBOSE=1; shift ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown argument: $1 (see --help)" ;;
    esac
  done
  [ -n "$CASES" ] || die "--cases must not be empty"
  case "$AUTOBAHN_TIMEOUT" in
    ''|*[!0-9]*) die "AUTOBAHN_TIMEOUT must be a number of seconds, got '$AUTOBAHN_TIMEOUT'" ;;
  esac
}

# "1.*, 2.*" -> ["1.*", "2.*"]
patterns_json() {
  python3 -c 'import json, sys; print(json.dumps([p.strip() for p in sys.argv[1].split(",") if p.strip()]))' "$1"
}

# ---- process bookkeeping ---------------------------------------------------
# Every background process is started with setsid, so it leads its own process
# group; stop_proc signals that group (the process and any children it forked),
# by the PID we recorded, and nothing else.
PIDS=()

start_bg() {  # start_bg LOGFILE CMD...  -> sets BG_PID
  local logfile="$1"; shift
  setsid "$@" >"$logfile" 2>&1 </dev/null &
  BG_PID=$!
  PIDS+=("$BG_PID")
}

stop_proc() {  # stop_proc PID: TERM, wait up to 5 s, then KILL
  local pid="$1" target pgid
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  target="$pid"
  pgid="$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')"
  [ "$pgid" = "$pid" ] && target="-$pid"
  kill -TERM -- "$target" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "process $pid did not stop on SIGTERM, sending SIGKILL"
    kill -KILL -- "$target" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local pid
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
    stop_proc "$pid"
  done
  PIDS=()
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# wait_bg PID LOGFILE LABEL: wait for a background process, printing a progress
# line every 60 s; sets WAIT_RC to its exit status.
wait_bg() {
  local pid="$1" logfile="$2" label="$3" t=0 n last
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    t=$((t + 1))
    if [ $((t % 60)) -eq 0 ]; then
      n="$(grep -c 'Running test case ID' "$logfile" 2>/dev/null || true)"
      last="$(grep -o 'Running test case ID [^ ]*' "$logfile" 2>/dev/null | tail -n1 | awk '{print $NF}')"
      log "$label still running after ${t}s: ${n:-0} cases started${last:+, now $last}"
    fi
  done
  WAIT_RC=0
  wait "$pid" || WAIT_RC=$?
}

show_tail() {  # show_tail FILE LABEL
  [ -s "$1" ] || return 0
  echo "---- last lines of $2 ($1) ----" >&2
  tail -n 20 "$1" >&2
  echo "----" >&2
}

# ---- shared steps ----------------------------------------------------------
ensure_wstest() {
  WSTEST="$("$HERE/setup" | tail -n1)" || die "setup failed"
  [ -x "$WSTEST" ] || die "setup did not produce wstest ($WSTEST)"
}

# build_example NAME: builds target/release/examples/NAME if it is missing.
build_example() {
  local bin="$ROOT/target/release/examples/$1"
  if [ ! -x "$bin" ]; then
    log "$bin missing, building it"
    (cd "$ROOT" && cargo build --release -p sockio-ws --example "$1") >&2 \
      || die "cargo build --release -p sockio-ws --example $1 failed"
  fi
  [ -x "$bin" ] || die "$bin still missing after build"
}

# fresh_outdir: $ROOT/target/autobahn/$MODE, emptied, with reports/ inside.
fresh_outdir() {
  OUT="$ROOT/target/autobahn/$MODE"
  rm -rf "$OUT"
  mkdir -p "$OUT"
}

summarize() {  # summarize REPORT_DIR WSTEST_LOG -> sets SUMMARY_RC
  local extra=()
  [ "$VERBOSE" = 1 ] && extra+=(--verbose)
  SUMMARY_RC=0
  python3 "$HERE/summarize.py" "$1" --agent "$AGENT" --wstest-log "$2" "${extra[@]+"${extra[@]}"}" \
    || SUMMARY_RC=$?
}
