# shellcheck shell=bash disable=SC2034  # (variables set here for the scripts that source it)
# tests/bench/lib.sh: the helpers the benchmark scripts share. Sourced, never run:
#
#   set -euo pipefail
#   HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
#   source "$HERE/lib.sh"
#   bench_help "$@"          # --help: the script's header comment
#   ... knobs, checks ...
#   bench_init               # TMP, STATUS=fail, the cleanup trap
#   ...
#   STATUS=ok                # last: the temporary directory goes unless KEEP=1
#
# Sourcing it starts nothing and sets no trap. It sets BENCH (the script's name, the prefix of
# every message), ROOT (the repository root) and WRK_THREADS=1.
#
# Processes: everything a script starts goes through start_bg (or into PIDS) and is stopped by pid,
# never by name: SIGTERM, a grace period, then SIGKILL for it and any descendant left, on any exit
# path. A script with more to undo on exit defines bench_cleanup_hook (run after the pids stop).

BENCH=$(basename "$0" .sh)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WRK_THREADS=1

log() { printf '%s\n' "$*" >&2; }
die() { log "$BENCH: $*"; exit 1; }

# bench_help "$@": with -h or --help, prints the script's header (line 2 up to `set -euo`) and exits.
bench_help() {
  if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
  fi
}

# bench_knobs QUICK_DURATION: the knobs every side-by-side script reads (see proxy_bench.sh's
# header): ROUNDS, DURATION and WARMUP (QUICK=1 makes them 1, QUICK_DURATION and 1 unless set),
# CORRAL, SERVER_CPU, CLIENT_CPU, SAVE and KEEP; dies on a malformed one.
bench_knobs() {
  if [[ ${QUICK:-0} == 1 ]]; then
    : "${ROUNDS:=1}" "${DURATION:=$1}" "${WARMUP:=1}"
  fi
  ROUNDS=${ROUNDS:-3}
  DURATION=${DURATION:-8}
  DURATION=${DURATION%s}
  WARMUP=${WARMUP:-2}
  WARMUP=${WARMUP%s}
  CORRAL=${CORRAL:-$ROOT/build/corral}
  SERVER_CPU=${SERVER_CPU:-0}
  CLIENT_CPU=${CLIENT_CPU:-1}
  SAVE=${SAVE:-$ROOT/tests/bench/out}
  KEEP=${KEEP:-0}
  [[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
  [[ $DURATION =~ ^[1-9][0-9]*$ ]] || die "DURATION must be a whole number of seconds"
  [[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a whole number of seconds"
}

# start_two_backends: the script's start_backend twice, on fresh ports, each waited for;
# sets B1_PORT B1_PID B2_PORT B2_PID.
start_two_backends() {
  free_port; B1_PORT=$PORT
  free_port; B2_PORT=$PORT
  start_backend backend1 "$B1_PORT"; B1_PID=$LAST_PID
  start_backend backend2 "$B2_PORT"; B2_PID=$LAST_PID
  wait_http backend1 "$B1_PID" "$B1_PORT" "$TMP/backend1/stderr.log"
  wait_http backend2 "$B2_PID" "$B2_PORT" "$TMP/backend2/stderr.log"
}

# haproxy_head MAXCONN [GLOBAL_LINE]: the global and defaults sections every side-by-side script
# gives HAProxy (one thread, no access log, keep-alive both ways, server connections reused);
# the script appends its own frontend and backend.
haproxy_head() {
  cat <<EOF
global
    nbthread 1
    maxconn $1
${2:-}
    # no 'log' line: no access log
defaults
    mode http
    timeout connect 2s
    timeout client 300s
    timeout server 60s
    timeout http-keep-alive 300s
    option http-keep-alive
    http-reuse always
EOF
}

# need_tools HINT TOOL...: dies naming the first TOOL not on PATH, with HINT (how to install it).
need_tools() {
  local hint=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || die "$tool is required ($hint)"
  done
}

# ---------------------------------------------------------------------------------------------
# The temporary directory and the exit path.
PIDS=()
LAST_PID=
STATUS=fail
TMP=

bench_init() {  # TMP=mktemp -d; cleanup on EXIT, INT and TERM
  TMP=$(mktemp -d "${TMPDIR:-/tmp}/$BENCH.XXXXXX")
  STATUS=fail
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

bench_cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}" 5 || true; done
  if declare -F bench_cleanup_hook >/dev/null; then bench_cleanup_hook || true; fi
  if [[ ${KEEP:-0} == 1 || $STATUS != ok ]]; then
    log "$BENCH: configs, logs and raw output kept in $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}

# ---------------------------------------------------------------------------------------------
# Processes.
descendants() {  # pid -> every descendant pid, depth first
  local child
  for child in $(pgrep -P "$1" 2>/dev/null || true); do
    echo "$child"
    descendants "$child"
  done
}

# perf_attach PID SECONDS OUTFILE: perf stat -e task-clock on PID and its descendants for
# SECONDS, in the background (PERF_PID); read it with perf_us_per after `wait "$PERF_PID"`.
perf_attach() {
  local pids
  # shellcheck disable=SC2046
  pids=$(echo "$1" $(descendants "$1") | tr ' ' ,)
  perf stat -e task-clock -x, -p "$pids" -o "$3" -- sleep "$2" &
  PERF_PID=$!
}

# perf_us_per OUTFILE COUNT -> CPU microseconds per unit of work (NA without a count).
perf_us_per() {
  local v
  v=$(awk -F, -v n="${2:-0}" '$3 == "task-clock" && n > 0 { printf "%.1f", $1 * 1000 / n }' "$1" 2>/dev/null)
  echo "${v:-NA}"
}

# proc_start PID: its start time (clock ticks after boot), empty when there is no such process
proc_start() {
  { sed 's/.*) //' "/proc/$1/stat" | awk '{print $20}'; } 2>/dev/null || true
}

# alive PID: the process exists and is not a zombie (one that exited and awaits its wait, or that
# was reaped a moment ago, counts as gone)
alive() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  st=$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null || true)
  [[ -n $st && $st != Z ]]
}

# start_bg LOGFILE CMD...: starts CMD in the background (stdout and stderr to LOGFILE, stdin from
# /dev/null), records its pid in PIDS and sets LAST_PID.
start_bg() {
  local logfile=$1
  shift
  "$@" >"$logfile" 2>&1 </dev/null &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

# stop_pid PID [grace seconds]: SIGTERM, wait, then SIGKILL the process and any descendant left.
# Sets STOP_RC to the exit status when the process was our child; drops PID from PIDS.
STOP_RC=
stop_pid() {
  local pid=$1 grace=${2:-10} kids i
  STOP_RC=
  if kill -0 "$pid" 2>/dev/null; then
    # each descendant as pid:start time, so that a pid reused meanwhile is left alone
    kids=$(for i in $(descendants "$pid"); do echo "$i:$(proc_start "$i")"; done)
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "$BENCH: pid $pid ($({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | cut -c1-80)) did not stop within ${grace}s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null && STOP_RC=0 || STOP_RC=$?
    for i in $kids; do
      [[ $(proc_start "${i%%:*}") == "${i#*:}" && -n ${i#*:} ]] && kill -KILL "${i%%:*}" 2>/dev/null || true
    done
  else
    wait "$pid" 2>/dev/null && STOP_RC=0 || STOP_RC=$?
  fi
  local keep=()
  for i in "${PIDS[@]}"; do [[ $i == "$pid" ]] || keep+=("$i"); done
  PIDS=(${keep[@]+"${keep[@]}"})
}

# ---------------------------------------------------------------------------------------------
# Ports and readiness.
# free_port: sets PORT to a free loopback port, picked below the ephemeral range so that no
# outgoing connection (ours or another build's) can take it between the pick and the server's
# bind, and never handed out twice in one run.
USED_PORTS=" "
PORT=
free_port() {
  local lo p i base span
  read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
  base=10000
  span=$((lo - base))
  for ((i = 0; i < 500; i++)); do
    if ((span > 1000)); then
      p=$((base + (RANDOM * 32768 + RANDOM) % span))
    else
      p=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    fi
    [[ $USED_PORTS == *" $p "* ]] && continue
    if [[ -z $(ss -Htan "sport = :$p" 2>/dev/null) ]]; then
      USED_PORTS+="$p "
      PORT=$p
      return 0
    fi
  done
  die "no free loopback port found"
}

# wait_http NAME PID PORT LOGFILE [READY_PATTERN]: waits (at most 20 s) until the server answers
# 200 "ok" on /, after READY_PATTERN shows in LOGFILE when given; returns 1, with the log's last
# lines, when the process exits or the time runs out.
wait_http() {
  local name=$1 pid=$2 port=$3 logfile=$4 pattern=${5:-} i body
  for ((i = 0; i < 200; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$BENCH: $name exited during start-up; last lines of $logfile:"
      tail -n 20 "$logfile" >&2 || true
      return 1
    fi
    if [[ -z $pattern ]] || grep -Eq "$pattern" "$logfile" 2>/dev/null; then
      body=$(curl -s --max-time 1 "http://127.0.0.1:$port/" 2>/dev/null || true)
      if [[ $body == ok ]]; then return 0; fi
    fi
    sleep 0.1
  done
  log "$BENCH: $name not serving 200 \"ok\" on 127.0.0.1:$port after 20 s (last answer: '${body:-none}'); log $logfile:"
  tail -n 20 "$logfile" >&2 || true
  return 1
}

# wait_for SECONDS COMMAND...: polls COMMAND until it succeeds; returns 1 after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# ---------------------------------------------------------------------------------------------
# The machine.
raise_nofile() {  # ulimit -n up to the hard limit, kept in HARD_NOFILE
  HARD_NOFILE=$(ulimit -Hn)
  if [[ $HARD_NOFILE == unlimited ]]; then HARD_NOFILE=1048576; fi
  ulimit -n "$HARD_NOFILE"
}

# pin_cpus: SRV and CLI, the taskset prefixes for the servers (SERVER_CPU) and the load generator
# (CLIENT_CPU). On a one-CPU machine both become core 0 and it returns 1.
pin_cpus() {
  local rc=0
  if (($(nproc) < 2)); then
    SERVER_CPU=0
    CLIENT_CPU=0
    rc=1
  fi
  SRV=(taskset -c "$SERVER_CPU")
  CLI=(taskset -c "$CLIENT_CPU")
  return "$rc"
}

load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

machine_desc() {  # "N CPUs, <model>, kernel <release>"
  echo "$(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), kernel $(uname -r)"
}

# ---------------------------------------------------------------------------------------------
# The corral binary.
# build_corral_if_missing: with BUILD=1 and CORRAL at its default (build/corral), builds it when
# it is missing: `ninja -C build corral` in an existing build directory (it may be someone's
# working build and keeps its configuration), otherwise a new Release configuration. Log in
# $TMP/build.log; whether a binary came of it is for the caller to check.
build_corral_if_missing() {
  local build_cmd
  [[ ! -x $CORRAL && ${BUILD:-1} == 1 && $CORRAL == "$ROOT/build/corral" ]] || return 0
  command -v cmake >/dev/null && command -v ninja >/dev/null || return 0
  if [[ -f $ROOT/build/build.ninja ]]; then
    log "$BENCH: $CORRAL missing, building it in the existing build/; log in $TMP/build.log"
    build_cmd=(ninja -C build corral)
  else
    log "$BENCH: $CORRAL missing, building it (Release); log in $TMP/build.log"
    build_cmd=(sh -c 'cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build corral')
  fi
  if ! (cd "$ROOT" && "${build_cmd[@]}") >"$TMP/build.log" 2>&1; then
    tail -n 15 "$TMP/build.log" >&2 || true
  fi
}

# corral_build_info BIN: reads the CMakeCache.txt next to BIN into CORRAL_BTYPE, CORRAL_SANIT and
# CORRAL_SRC, and warns when the build is not one to take figures from. Returns 1 (all three
# empty) when there is no cache.
corral_build_info() {
  local cache
  cache=$(dirname "$1")/CMakeCache.txt
  CORRAL_BTYPE='' CORRAL_SANIT='' CORRAL_SRC=''
  [[ -f $cache ]] || return 1
  CORRAL_BTYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$cache")
  CORRAL_SANIT=$(sed -n 's/^CORRAL_SANITIZE:BOOL=//p' "$cache")
  CORRAL_SRC=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$cache")
  if [[ $CORRAL_BTYPE != Release && $CORRAL_BTYPE != RelWithDebInfo ]] || [[ $CORRAL_SANIT == ON ]]; then
    log "$BENCH: WARNING: $1 is a ${CORRAL_BTYPE:-?} build (sanitizers: ${CORRAL_SANIT:-?}); its figures mean little"
  fi
  return 0
}

# ---------------------------------------------------------------------------------------------
# Load and results.
# run_wrk PORT CONNS SECONDS OUTFILE [wrk option...]: wrk -t$WRK_THREADS --latency --timeout 10s
# against http://127.0.0.1:PORT/ (https:// with WRK_SCHEME=https), through CLI (the client CPU)
# when the script pinned; bounded in time, and never fails the script (a failed run parses as NA).
run_wrk() {
  local port=$1 conns=$2 secs=$3 out=$4
  shift 4
  timeout $((secs + 60)) ${CLI[@]+"${CLI[@]}"} wrk -t"$WRK_THREADS" -c"$conns" -d"$secs"s --latency --timeout 10s "$@" \
    "${WRK_SCHEME:-http}://127.0.0.1:$port/" >"$out" 2>&1 || true
}

# parse_wrk OUTFILE [DECIMALS] -> "rps p50_ms p99_ms non2xx socket_errors", the latencies with
# DECIMALS decimals (3); "NA NA NA NA NA" when wrk gave no result.
parse_wrk() {
  awk -v d="${2:-3}" '
    function ms(v,   n, u) {
      n = v; sub(/[a-z]+$/, "", n); u = substr(v, length(n) + 1)
      if (u == "us") return n / 1000; if (u == "ms") return n + 0
      if (u == "s") return n * 1000; if (u == "m") return n * 60000; return -1
    }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /^Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { non = $NF }
    /Socket errors:/ { gsub(/,/, ""); sock = $4 + $6 + $8 + $10 }
    END {
      if (rps == "") { print "NA NA NA NA NA"; exit }
      printf "%.2f %." d "f %." d "f %d %d\n", rps, p50, p99, non + 0, sock + 0
    }' "$1"
}

# interleave FN TARGET...: ROUNDS rounds, each calling FN ROUND TARGET for every TARGET in turn
# (A B C, A B C, ...), so that the machine's drift over the run touches every target alike.
interleave() {
  local fn=$1 round target
  shift
  for ((round = 1; round <= ROUNDS; round++)); do
    for target in "$@"; do "$fn" "$round" "$target"; done
  done
}

# awk functions for the reports; put "$AWK_STATS" before the program text:
#   commas(x)      12345.6 -> "12,346"
#   sortn(a, n)    sorts a[1..n] numerically, in place
#   median(a, n)   the median of a[1..n] (sorts it)
#   times(x, y)    x / y as "1.23x", "n/a" unless y > 0
AWK_STATS='
  function commas(x,   s, r) {
    s = sprintf("%d", x + 0.5); r = ""
    while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
    return s r
  }
  function sortn(a, n,   i, j, v) {
    for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
  }
  function median(a, n) { sortn(a, n); return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  function times(x, y) { return y > 0 ? sprintf("%.2fx", x / y) : "n/a" }
'

ratio() {  # A B -> "1.23x" (A / B), "n/a" unless B > 0
  awk -v a="$1" -v b="$2" "$AWK_STATS"'BEGIN { print times(a, b) }'
}

# publish_report PREFIX EXT: runs the script's `report` into $TMP/report.EXT, prints it, and
# saves it with $RESULTS as $SAVE/PREFIX-<UTC time>.EXT and .tsv; SAVED is that path without
# the extension.
publish_report() {
  REPORT=$TMP/report.$2
  report >"$REPORT"
  echo
  cat "$REPORT"
  mkdir -p "${SAVE:?}"
  SAVED=$SAVE/$1-$(date -u +%Y%m%d-%H%M%S)
  cp "$REPORT" "$SAVED.$2"
  cp "$RESULTS" "$SAVED.tsv"
  log "$BENCH: table saved to $SAVED.$2"
}
