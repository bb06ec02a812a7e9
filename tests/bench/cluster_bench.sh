#!/usr/bin/env bash
# Side-by-side cluster benchmark: the article's Node.js scenarios run under Node's `cluster`
# module, PM2 and corral (cluster mode) in one invocation, on loopback:
#   1. throughput: the CPU-bound app (a 1e7 busy loop per request), one Node process vs a worker
#      per core under each tool, `ab -r -c200 -t10` (and/or wrk), interleaved rounds;
#   2. random crashes: every worker exits after a random 0-10 s; failed requests per tool;
#   3. rolling restart under load: Node cluster via SIGUSR2 to its master (the article's one by
#      one restart), `pm2 reload all`, `corral reload`; failed requests per tool.
# See tests/bench/README.md ("Cluster") for what is measured and the pitfalls behind each choice.
#
#   tests/bench/cluster_bench.sh               # 2 rounds of each scenario (about 8 minutes)
#   QUICK=1 tests/bench/cluster_bench.sh       # smoke run: 1 round, short runs (about 2 minutes)
#
# Knobs (environment):
#   SCENARIOS="throughput crash restart"   which scenarios to run
#   TOOLS="cluster pm2 corral"             which tools (scenario 1 always adds the single process)
#   ROUNDS=3            interleaved rounds of every scenario (tool A, B, C, A, B, C, ...)
#   DURATION=10         seconds per throughput run (ab -t / wrk -d)
#   WARMUP=2            seconds of unrecorded load per target before the throughput rounds
#   CONC=200            concurrent clients in the throughput runs
#   LOADGEN="ab wrk"    throughput load generators: "ab", "wrk" or "ab wrk"
#   SPIN=1e7            busy-loop iterations per request in the throughput runs (the article's)
#   CRASH_DURATION=20   seconds of load per crash run (ab -r -c CRASH_CONC -t ...)
#   CRASH_CONC=200
#   CRASH_MAX_MS=10000  each worker exits with status 1 after a random 0..CRASH_MAX_MS ms
#   RESTART_DURATION=20 seconds of load per rolling-restart run
#   RESTART_CONC=200
#   RESTART_AT=         second of the load at which the restart is triggered (default: a quarter in)
#   SMALL_SPIN=$SPIN    busy-loop iterations per request in the crash and restart runs (the article's app)
#   GRACEFUL=0          1: the app closes its server on SIGINT/SIGTERM and finishes its requests
#                       (the article's app does not: default off, the same app for every tool)
#   CORRAL_THREADS=auto corral's `threads:`
#   QUICK=1             defaults become ROUNDS=1 DURATION=5 WARMUP=1 CRASH_DURATION=8 RESTART_DURATION=8
#   CORRAL=path         the corral binary (default: build/corral under the repository root)
#   BUILD=1             build corral (Release) when the binary is missing; BUILD=0 skips corral instead
#   PM2=path            an installed pm2 to use (default: `npm install pm2` into the temporary directory)
#   SAVE=dir            where the table and raw figures are written (default tests/bench/out)
#   KEEP=1              keep the temporary directory (configs, logs, raw ab/wrk output)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"
bench_help "$@"
APPS=$HERE/cluster

if [[ ${QUICK:-0} == 1 ]]; then
  : "${ROUNDS:=1}" "${DURATION:=5}" "${WARMUP:=1}" "${CRASH_DURATION:=8}" "${RESTART_DURATION:=8}"
fi
SCENARIOS=${SCENARIOS:-"throughput crash restart"}
TOOLS=${TOOLS:-"cluster pm2 corral"}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
DURATION=${DURATION%s}
WARMUP=${WARMUP:-2}
WARMUP=${WARMUP%s}
CONC=${CONC:-200}
LOADGEN=${LOADGEN:-"ab wrk"}
SPIN=${SPIN:-1e7}
CRASH_DURATION=${CRASH_DURATION:-20}
CRASH_DURATION=${CRASH_DURATION%s}
CRASH_CONC=${CRASH_CONC:-200}
CRASH_MAX_MS=${CRASH_MAX_MS:-10000}
RESTART_DURATION=${RESTART_DURATION:-20}
RESTART_DURATION=${RESTART_DURATION%s}
RESTART_CONC=${RESTART_CONC:-200}
RESTART_AT=${RESTART_AT:-$((RESTART_DURATION / 4))}
RESTART_AT=${RESTART_AT%s}
SMALL_SPIN=${SMALL_SPIN:-$SPIN}
GRACEFUL=${GRACEFUL:-0}
CORRAL_THREADS=${CORRAL_THREADS:-auto}
CORRAL=${CORRAL:-$ROOT/build/corral}
BUILD=${BUILD:-1}
PM2=${PM2:-}
SAVE=${SAVE:-$ROOT/tests/bench/out}
KEEP=${KEEP:-0}

need_tools "apt-get install nodejs curl iproute2 coreutils procps" node curl ss awk timeout pgrep
for s in $SCENARIOS; do
  [[ $s == throughput || $s == crash || $s == restart ]] || die "SCENARIOS: unknown scenario '$s' (throughput crash restart)"
done
for t in $TOOLS; do
  [[ $t == cluster || $t == pm2 || $t == corral ]] || die "TOOLS: unknown tool '$t' (cluster pm2 corral)"
done
for g in $LOADGEN; do
  [[ $g == ab || $g == wrk ]] || die "LOADGEN: unknown load generator '$g' (ab wrk)"
done
command -v ab >/dev/null || die "ab is required (apt-get install apache2-utils)"
[[ " $LOADGEN " == *" wrk "* ]] && { command -v wrk >/dev/null || die "wrk is required for LOADGEN=wrk"; }
for v in ROUNDS DURATION CONC CRASH_DURATION CRASH_CONC CRASH_MAX_MS RESTART_DURATION RESTART_CONC; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive whole number"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a whole number of seconds"
[[ $RESTART_AT =~ ^[0-9]+$ ]] && ((RESTART_AT < RESTART_DURATION)) || die "RESTART_AT must be a whole number of seconds below RESTART_DURATION"
[[ $GRACEFUL == 0 || $GRACEFUL == 1 ]] || die "GRACEFUL must be 0 or 1"
for v in SPIN SMALL_SPIN; do
  [[ ${!v} =~ ^[0-9.]+(e[0-9]+)?$ ]] || die "$v must be a number such as 1e7"
done

bench_init

# ---------------------------------------------------------------------------------------------
# PM2's daemon is the one process here that is not our child: it is stopped with `pm2 kill` on
# our own PM2_HOME (and by its pid from that PM2_HOME if it is still there).
PM2_HOME_DIR=$TMP/pm2home
PM2_DAEMON_PID=
pm2q() {  # pm2 with our own PM2_HOME, bounded in time
  PM2_HOME=$PM2_HOME_DIR timeout 120 "$PM2_BIN" "$@"
}

bench_cleanup_hook() {  # run on exit, after our own processes stopped
  local i
  if [[ -n $PM2_DAEMON_PID ]]; then
    pm2q kill >>"$TMP/pm2-cli.log" 2>&1 || true
    if kill -0 "$PM2_DAEMON_PID" 2>/dev/null && grep -q PM2 "/proc/$PM2_DAEMON_PID/cmdline" 2>/dev/null; then
      log "cluster_bench: PM2 daemon $PM2_DAEMON_PID still there after pm2 kill; killing it"
      for i in $(descendants "$PM2_DAEMON_PID") "$PM2_DAEMON_PID"; do kill -KILL "$i" 2>/dev/null || true; done
    fi
  fi
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# count_lines REGEX FILE: lines of FILE matching REGEX, 0 when there is no such file (yet)
count_lines() {
  local n
  n=$(grep -Ec "$1" "$2" 2>/dev/null || true)
  echo "${n:-0}"
}

# ---------------------------------------------------------------------------------------------
# Machine set-up.
raise_nofile
NCPU=$(nproc)
NODE_VERSION=$(node --version)
AB_VERSION=$(ab -V 2>&1 | sed -n '1s/.*Version \([^ ]*\).*/\1/p')

HAVE_CLUSTER=0 HAVE_PM2=0 HAVE_CORRAL=0
[[ " $TOOLS " == *" cluster "* ]] && HAVE_CLUSTER=1
[[ " $TOOLS " == *" pm2 "* ]] && HAVE_PM2=1
[[ " $TOOLS " == *" corral "* ]] && HAVE_CORRAL=1

# corral: build it only when missing (an existing build directory keeps its configuration, it
# may be someone's working build); the binary is copied into the temporary directory so that a
# rebuild during the run changes nothing under our feet (the master, its proxy and the CLI
# commands all run the same copy).
CORRAL_NOTE=
CORRAL_BIN=
if ((HAVE_CORRAL)); then
  build_corral_if_missing
  if [[ -x $CORRAL ]] && ! "$CORRAL" --help 2>&1 | grep -q '^ *reload '; then
    log "cluster_bench: $CORRAL has no 'reload' command: it predates cluster mode (workers:); rebuild it (ninja -C build corral) or point CORRAL at a newer binary. Skipping corral"
    HAVE_CORRAL=0
    CORRAL_NOTE="skipped: $CORRAL predates cluster mode (no 'reload' command)"
  elif [[ -x $CORRAL ]]; then
    mkdir -p "$TMP/bin"
    cp "$CORRAL" "$TMP/bin/corral"
    CORRAL_BIN=$TMP/bin/corral
    CORRAL_VERSION=$("$CORRAL_BIN" version 2>&1 | head -n 1 || echo unknown)
    corral_build_info "$CORRAL" || true
    btype=$CORRAL_BTYPE sanit=$CORRAL_SANIT
    # the source tree the binary was configured from, and its commit when it is a git tree
    src=${CORRAL_SRC:-$ROOT}
    commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo "not a git tree")
    dirty=$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null | head -c1 || true)
    CORRAL_NOTE="$CORRAL_VERSION, ${btype:-unknown} build${sanit:+, CORRAL_SANITIZE=$sanit}, binary built $(date -u -r "$CORRAL" '+%Y-%m-%d %H:%M UTC') from $src ($commit${dirty:+, with uncommitted changes})"
  elif [[ -z $CORRAL_NOTE ]]; then
    log "cluster_bench: no corral binary at $CORRAL: skipping corral"
    HAVE_CORRAL=0
    CORRAL_NOTE="skipped: no binary at $CORRAL"
  fi
fi

# PM2: its own PM2_HOME under the temporary directory (PM2 starts a daemon on any command).
PM2_VERSION=none
PM2_BIN=
if ((HAVE_PM2)); then
  if [[ -n $PM2 ]]; then
    PM2_BIN=$PM2
  elif command -v npm >/dev/null; then
    log "cluster_bench: installing pm2 with npm into $TMP/npm (log in $TMP/npm.log)"
    if timeout 300 npm install --prefix "$TMP/npm" --no-audit --no-fund pm2 >"$TMP/npm.log" 2>&1; then
      PM2_BIN=$TMP/npm/node_modules/.bin/pm2
    else
      tail -n 10 "$TMP/npm.log" >&2 || true
    fi
  fi
  if [[ -n $PM2_BIN && -x $PM2_BIN ]]; then
    pkg=$(cd "$(dirname "$(readlink -f "$PM2_BIN")")/.." && pwd)/package.json
    PM2_VERSION=$(node -p "require('$pkg').version" 2>/dev/null || echo unknown)
    mkdir -p "$PM2_HOME_DIR"
    if pm2q ping >"$TMP/pm2-cli.log" 2>&1; then
      PM2_DAEMON_PID=$(cat "$PM2_HOME_DIR/pm2.pid" 2>/dev/null || true)
    else
      log "cluster_bench: PM2's daemon did not start; skipping PM2:"
      tail -n 10 "$TMP/pm2-cli.log" >&2 || true
      PM2_DAEMON_PID=$(cat "$PM2_HOME_DIR/pm2.pid" 2>/dev/null || true)
      HAVE_PM2=0
    fi
  else
    log "cluster_bench: no pm2 (PM2=path, or npm to install it): skipping PM2"
    HAVE_PM2=0
  fi
fi

ACTIVE=()
((HAVE_CLUSTER)) && ACTIVE+=(cluster)
((HAVE_PM2)) && ACTIVE+=(pm2)
((HAVE_CORRAL)) && ACTIVE+=(corral)
((${#ACTIVE[@]} > 0)) || die "none of the tools ($TOOLS) can run here"

# ---------------------------------------------------------------------------------------------
# The apps. start_app TOOL NAME SPIN CRASH sets APP_PORT, APP_PID (the process we stop; for PM2
# empty), APP_LOG and starts:
#   single   node server.js
#   cluster  node cluster.js (the article's master, os.cpus().length workers)
#   pm2      pm2 start <ecosystem>: server.js, instances max, exec_mode cluster
#   corral   corral run -c <yaml>: workers {command: [node, server.js], count: max}
APP_PORT= APP_PID= APP_LOG= APP_CONF= APP_NAME=
BODY_RE='^Handled by process [0-9]+ *$'

app_env() {  # SPIN CRASH -> the env words every app gets
  echo "SPIN=$1 CRASH=$2 CRASH_MAX_MS=$CRASH_MAX_MS GRACEFUL=$GRACEFUL"
}

start_app() {
  local tool=$1 name=$2 spin=$3 crash=$4 dir
  dir=$TMP/$name
  mkdir -p "$dir"
  free_port
  APP_PORT=$PORT APP_PID= APP_LOG=$dir/stderr.log APP_CONF= APP_NAME=$name
  case $tool in
    single)
      start_bg "$APP_LOG" env PORT="$APP_PORT" $(app_env "$spin" "$crash") node "$APPS/server.js"
      APP_PID=$LAST_PID ;;
    cluster)
      start_bg "$APP_LOG" env PORT="$APP_PORT" $(app_env "$spin" "$crash") node "$APPS/cluster.js"
      APP_PID=$LAST_PID ;;
    pm2)
      APP_CONF=$dir/ecosystem.json
      cat >"$APP_CONF" <<EOF
{"apps": [{
  "name": "$name",
  "script": "$APPS/server.js",
  "instances": "max",
  "exec_mode": "cluster",
  "merge_logs": true,
  "out_file": "$dir/app.log",
  "error_file": "$dir/app.log",
  "env": {"PORT": "$APP_PORT", "SPIN": "$spin", "CRASH": "$crash", "CRASH_MAX_MS": "$CRASH_MAX_MS", "GRACEFUL": "$GRACEFUL"}
}]}
EOF
      pm2q start "$APP_CONF" >"$APP_LOG" 2>&1 || { tail -n 20 "$APP_LOG" >&2; return 1; } ;;
    corral)
      free_port
      APP_CONF=$dir/corral.yaml
      cat >"$APP_CONF" <<EOF
listen: ["127.0.0.1:$APP_PORT"]
admin: 127.0.0.1:$PORT
threads: $CORRAL_THREADS
access_log: off
timeouts: { drain: 10s }
workers:
  command: ["node", "server.js"]
  count: max
  cwd: "$APPS"
  env: { SPIN: "$spin", CRASH: "$crash", CRASH_MAX_MS: "$CRASH_MAX_MS", GRACEFUL: "$GRACEFUL" }
EOF
      start_bg "$APP_LOG" "$CORRAL_BIN" run -c "$APP_CONF"
      APP_PID=$LAST_PID ;;
  esac
  wait_app "$tool"
}

# pm2_info NAME -> "online pids restarts" of the app's instances, from `pm2 jlist`
pm2_info() {
  pm2q jlist 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      let list = [];
      try { list = JSON.parse(s.slice(s.indexOf("["))); } catch (e) {}
      const mine = list.filter((p) => p.name === process.argv[1]);
      const online = mine.filter((p) => p.pm2_env && p.pm2_env.status === "online").length;
      const pids = mine.map((p) => p.pid).filter((p) => p).join(",");
      const restarts = mine.reduce((n, p) => n + ((p.pm2_env && p.pm2_env.restart_time) || 0), 0);
      console.log(`${online} ${pids || "-"} ${restarts}`);
    });' "$1"
}

# corral_info -> "ready pids restarts errored" from `corral status --json`
corral_info() {
  timeout 20 "$CORRAL_BIN" status -c "$APP_CONF" --json 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      let st = { slots: [] };
      try { st = JSON.parse(s); } catch (e) {}
      const slots = st.slots || [];
      const ready = slots.filter((x) => x.state === "ready").length;
      const pids = slots.map((x) => x.pid).filter((p) => p).join(",");
      const restarts = slots.reduce((n, x) => n + (x.restarts || 0), 0);
      const errored = slots.filter((x) => x.state === "errored").length;
      console.log(`${ready} ${pids || "-"} ${restarts} ${errored}`);
    });'
}

# app_pids TOOL -> comma-separated pids of the processes serving requests
app_pids() {
  local p
  case $1 in
    single) echo "$APP_PID" ;;
    cluster) p=$(pgrep -P "$APP_PID" | sort -n | paste -sd, -); echo "${p:--}" ;;
    pm2) pm2_info "$APP_NAME" | awk '{print $2}' ;;
    corral) corral_info | awk '{print $2}' ;;
  esac
}

wait_app() {  # TOOL: waits until every worker is up and the app answers, at most 60 s
  local tool=$1 i body up
  for ((i = 0; i < 600; i++)); do
    if [[ -n $APP_PID ]] && ! kill -0 "$APP_PID" 2>/dev/null; then
      log "cluster_bench: $APP_NAME exited during start-up; last lines of $APP_LOG:"
      tail -n 20 "$APP_LOG" >&2 || true
      return 1
    fi
    case $tool in
      single) up=1 ;;
      cluster) up=$(($(count_lines '^Started process' "$APP_LOG") >= NCPU)) ;;
      pm2) up=$(pm2_info "$APP_NAME" | awk '{print $1}'); up=$((${up:-0} >= NCPU)) ;;
      corral) up=0; grep -Eq '(^|[^a-z])ready' "$APP_LOG" 2>/dev/null && up=1 ;;
    esac
    if ((up)); then
      body=$(curl -s --max-time 10 "http://127.0.0.1:$APP_PORT/" 2>/dev/null || true)
      [[ $body =~ $BODY_RE ]] && return 0
    fi
    sleep 0.1
  done
  log "cluster_bench: $APP_NAME not serving on 127.0.0.1:$APP_PORT after 60 s (last answer: '${body:-none}'); log $APP_LOG:"
  tail -n 20 "$APP_LOG" >&2 || true
  return 1
}

stop_app() {  # TOOL: stops the app started last (by pid; PM2: pm2 delete of its own app)
  case $1 in
    pm2) pm2q delete "$APP_NAME" >>"$TMP/pm2-cli.log" 2>&1 || log "cluster_bench: pm2 delete $APP_NAME failed" ;;
    *)
      stop_pid "$APP_PID" 20
      if [[ $1 == corral && $STOP_RC != 0 ]]; then
        log "cluster_bench: WARNING: corral ($APP_NAME) exited with status $STOP_RC on SIGTERM (expected 0); log $APP_LOG"
      fi ;;
  esac
}

# CPU time (clock ticks) used so far by a process and its descendants
tree_cpu_ticks() {
  local total=0 p t
  for p in "$1" $(descendants "$1"); do
    # the fields after the command name, which may hold spaces and parentheses
    t=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}' || true)
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# wait_idle PID: waits (at most 60 s) until the process tree uses less than 10 % of a core over
# half a second. After a timed run, the app still has the requests the load generator gave up
# on queued: each still costs a full busy loop, and would be measured against the next target.
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
wait_idle() {
  local root=$1 i a b
  [[ -n $root ]] || return 0
  a=$(tree_cpu_ticks "$root")
  for ((i = 0; i < 120; i++)); do
    sleep 0.5
    b=$(tree_cpu_ticks "$root")
    if ((b - a <= CLK_TCK / 20)); then return 0; fi
    a=$b
  done
  log "cluster_bench: WARNING: pid $root and its children still busy 60 s after the load stopped"
}

label() {
  case $1 in
    single) echo "single Node process" ;;
    cluster) echo "Node cluster, $NCPU workers" ;;
    pm2) echo "PM2 $PM2_VERSION, -i max ($NCPU)" ;;
    corral) echo "corral, count: max ($NCPU)" ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Load generators.
# ab: -n after -t, or -t caps the run at 50,000 requests.
run_ab() {  # PORT CONC SECONDS OUTFILE
  timeout $(($3 + 90)) ab -r -c "$2" -t "$3" -n 5000000 "http://127.0.0.1:$1/" >"$4" 2>&1 || true
}

# wrk: lib.sh's run_wrk, with two threads (the report's "wrk -t2")
WRK_THREADS=2

# parse_ab OUTFILE -> "rps complete failed length exceptions connect receive non2xx raw_failed aborted"
# ab's "Failed requests" counts one lost request several times: a connection closed without a
# (whole) answer once, as Length; a reset connection three times, as Receive, Length and
# Exceptions; an error answer (non-2xx) whose body is not as long as the first answer's twice, as
# Non-2xx and Length. failed = Connect + max(Length, Non-2xx) counts each lost request once, as
# long as no error answer is exactly as long as the app's (32 bytes).
parse_ab() {
  awk '
    /^Requests per second:/ { rps = $4 }
    /^Complete requests:/ { complete = $3 }
    /^Failed requests:/ { raw = $3 }
    /^ *\(Connect: / { gsub(/[(),]/, ""); conn = $2; recv = $4; len = $6; exc = $8 }
    /^Non-2xx responses:/ { non = $3 }
    /Test aborted|apr_[a-z_]*\(\)|timed out|The timeout specified/ { aborted = 1 }
    /^Total of [0-9]+ requests completed/ { total = $3 }
    END {
      # ab gives up ("Test aborted after 10 failures") when a connect fails once more than 10
      # requests have failed, even with -r: then only the total is known, and failed > 10.
      if (complete == "" && aborted && total != "") { printf "NA %d 11 0 0 1 0 0 11 1\n", total; exit }
      if (complete == "") { print "NA NA NA NA NA NA NA NA NA 1"; exit }
      printf "%.2f %d %d %d %d %d %d %d %d %d\n", rps, complete, (len > non ? len : non) + conn, len, exc, conn, recv, non, raw, aborted + 0
    }' "$1"
}

RESULTS=$TMP/results.tsv
# scenario tool round loadgen rps p99_ms complete failed length exceptions connect receive non2xx raw_failed aborted note
: >"$RESULTS"
record() { local IFS=$'\t'; echo "$*" >>"$RESULTS"; }

# ---------------------------------------------------------------------------------------------
log "cluster_bench: scenarios '$SCENARIOS', tools '${ACTIVE[*]}', $ROUNDS round(s), $NCPU CPUs"
log "cluster_bench: temporary files in $TMP"
LOAD_BEFORE=$(load_avg)
START_TIME=$(date +%s)

# 1. Throughput -------------------------------------------------------------------------------
throughput_run() {  # ROUND TOOL: a run of each load generator
  local r=$1 t=$2 g out
  for g in $LOADGEN; do
    out=$TMP/tp-$t-$g-r$r.txt
    "run_$g" "${PORT_OF[$t]}" "$CONC" "$DURATION" "$out"
    wait_idle "${IDLE_OF[$t]}"
    if [[ $g == ab ]]; then
      read -r rps complete failed len exc conn recv non raw aborted < <(parse_ab "$out")
      record throughput "$t" "$r" ab "$rps" NA "$complete" "$failed" "$len" "$exc" "$conn" "$recv" "$non" "$raw" "$aborted" -
      log "$(printf 'throughput round %d/%d  %-8s ab  %8s req/s  complete %s  failed %s' "$r" "$ROUNDS" "$t" "$rps" "$complete" "$failed")"
    else
      read -r rps _ p99 non sock < <(parse_wrk "$out" 1)
      record throughput "$t" "$r" wrk "$rps" "$p99" NA NA NA NA NA NA "$non" "$sock" 0 -
      log "$(printf 'throughput round %d/%d  %-8s wrk %8s req/s  p99 %s ms  non-2xx %s  socket errors %s' "$r" "$ROUNDS" "$t" "$rps" "$p99" "$non" "$sock")"
    fi
    if [[ $rps == NA ]]; then
      log "cluster_bench: $g failed against $t:"
      tail -n 5 "$out" >&2 || true
    fi
  done
}

if [[ " $SCENARIOS " == *" throughput "* ]]; then
  T1=()
  declare -A PORT_OF PID_OF NAME_OF LOG_OF
  for t in single "${ACTIVE[@]}"; do
    if ! start_app "$t" "tp-$t" "$SPIN" 0; then
      record throughput "$t" 1 ab NA NA NA NA NA NA NA NA NA NA 1 "did not start"
      stop_app "$t"
      continue
    fi
    T1+=("$t")
    PORT_OF[$t]=$APP_PORT PID_OF[$t]=$APP_PID NAME_OF[$t]=$APP_NAME LOG_OF[$t]=$APP_LOG
    log "cluster_bench: throughput: $(label "$t") on :$APP_PORT, pids $(app_pids "$t")"
  done
  declare -A IDLE_OF
  for t in "${T1[@]}"; do
    if [[ $t == pm2 ]]; then IDLE_OF[$t]=$PM2_DAEMON_PID; else IDLE_OF[$t]=${PID_OF[$t]}; fi
  done
  if ((WARMUP > 0)); then
    for t in "${T1[@]}"; do
      for g in $LOADGEN; do
        "run_$g" "${PORT_OF[$t]}" "$CONC" "$WARMUP" "$TMP/warmup-$t-$g.txt"
        wait_idle "${IDLE_OF[$t]}"
      done
    done
  fi
  interleave throughput_run "${T1[@]}"
  for t in "${T1[@]}"; do
    APP_PORT=${PORT_OF[$t]} APP_PID=${PID_OF[$t]} APP_NAME=${NAME_OF[$t]} APP_LOG=${LOG_OF[$t]} APP_CONF=$TMP/${NAME_OF[$t]}/corral.yaml
    stop_app "$t"
  done
fi

# 2. Random crashes ---------------------------------------------------------------------------
# crash counts: cluster: its "crashed" log lines; PM2: restart_time; corral: the slots' restarts
crash_count() {
  case $1 in
    cluster) count_lines 'crashed' "$APP_LOG" ;;
    pm2) pm2_info "$APP_NAME" | awk '{print $3}' ;;
    corral) corral_info | awk '{print $3 "/" $4}' ;;
  esac
}

# corral's own count of the error answers it gave (its log has a line per 5xx it sends)
corral_log_summary() {
  awk '
    / warning corral\[[0-9]+\]: 5[0-9][0-9] / {
      code = $4; msg = $0; sub(/.*rid=[0-9a-f]*: /, "", msg); n[code " " msg]++; any = 1
    }
    END { if (any) { printf " corral_log:"; for (k in n) printf " [%s x%d]", k, n[k] } }' "$1" 2>/dev/null || true
}

crash_run() {  # ROUND TOOL
  local r=$1 t=$2 out crashes note
  start_app "$t" "crash-$t-r$r" "$SMALL_SPIN" 1 || { record crash "$t" "$r" ab NA NA NA NA NA NA NA NA NA NA 1 "did not start"; stop_app "$t"; return 0; }
  out=$TMP/crash-$t-ab-r$r.txt
  run_ab "$APP_PORT" "$CRASH_CONC" "$CRASH_DURATION" "$out"
  read -r rps complete failed len exc conn recv non raw aborted < <(parse_ab "$out")
  crashes=$(crash_count "$t")
  note="crashes=${crashes:-?}"
  if [[ $t == corral ]]; then
    # corral_info prints restarts/errored slots
    note="crashes=${crashes%%/*} errored_slots=${crashes##*/}$(corral_log_summary "$APP_LOG")"
    cp "$APP_LOG" "$TMP/crash-$t-r$r.corral.log" 2>/dev/null || true
  fi
  record crash "$t" "$r" ab "$rps" NA "$complete" "$failed" "$len" "$exc" "$conn" "$recv" "$non" "$raw" "$aborted" "$note"
  log "$(printf 'crash round %d/%d  %-8s %8s req/s  complete %s  failed %s (length %s, exceptions %s, connect %s, non-2xx %s; ab raw %s)  %s%s' \
    "$r" "$ROUNDS" "$t" "$rps" "$complete" "$failed" "$len" "$exc" "$conn" "$non" "$raw" "$note" "$( ((aborted)) && echo '  ab ABORTED')")"
  stop_app "$t"
}

if [[ " $SCENARIOS " == *" crash "* && ${#ACTIVE[@]} -gt 0 ]]; then
  interleave crash_run "${ACTIVE[@]}"
fi

# 3. Rolling restart under load --------------------------------------------------------------
# trigger_restart TOOL OUTFILE: starts the tool's rolling restart and returns when it is done
# (or after RESTART_WAIT seconds); sets RESTART_MS (-1: not finished) and RESTART_RC.
RESTART_WAIT=$((RESTART_DURATION + 30))
RESTART_MS= RESTART_RC=
trigger_restart() {
  local tool=$1 out=$2 t0 n0 i
  t0=$(now_ms)
  RESTART_RC=0
  case $tool in
    cluster)
      n0=$(count_lines 'rolling restart done' "$APP_LOG")
      kill -USR2 "$APP_PID"
      RESTART_RC=1
      for ((i = 0; i < RESTART_WAIT * 10; i++)); do
        if (($(count_lines 'rolling restart done' "$APP_LOG") > n0)); then RESTART_RC=0; break; fi
        sleep 0.1
      done
      : >"$out" ;;
    pm2) pm2q reload all >"$out" 2>&1 || RESTART_RC=$? ;;
    corral) timeout "$RESTART_WAIT" "$CORRAL_BIN" reload -c "$APP_CONF" >"$out" 2>&1 || RESTART_RC=$? ;;
  esac
  RESTART_MS=$(($(now_ms) - t0))
  ((RESTART_RC == 0)) || RESTART_MS=-1
}

restart_run() {  # ROUND TOOL
  local r=$1 t=$2 before after out abpid replaced took note
  start_app "$t" "restart-$t-r$r" "$SMALL_SPIN" 0 || { record restart "$t" "$r" ab NA NA NA NA NA NA NA NA NA NA 1 "did not start"; stop_app "$t"; return 0; }
  before=$(app_pids "$t")
  out=$TMP/restart-$t-ab-r$r.txt
  run_ab "$APP_PORT" "$RESTART_CONC" "$RESTART_DURATION" "$out" &
  abpid=$!
  PIDS+=("$abpid")
  sleep "$RESTART_AT"
  trigger_restart "$t" "$TMP/restart-$t-r$r.cmd.txt"
  wait "$abpid" || true
  stop_pid "$abpid" 1
  after=$(app_pids "$t")
  replaced=$(comm -23 <(tr , '\n' <<<"$before" | grep -v '^-$' | sort) <(tr , '\n' <<<"$after" | sort) | grep -c . || true)
  read -r rps complete failed len exc conn recv non raw aborted < <(parse_ab "$out")
  if ((RESTART_MS >= 0)); then took="${RESTART_MS}ms"; else took="not-finished(rc=$RESTART_RC)"; fi
  note="took=$took replaced=$replaced/$(tr , '\n' <<<"$before" | grep -vc '^-$' || true)"
  [[ $t == cluster ]] && note+=" cluster_says=$(sed -n 's/.*rolling restart done in \([0-9]*\) ms.*/\1ms/p' "$APP_LOG" | tail -n 1)"
  if [[ $t == corral ]]; then
    note+=$(corral_log_summary "$APP_LOG")
    cp "$APP_LOG" "$TMP/restart-$t-r$r.corral.log" 2>/dev/null || true
  fi
  record restart "$t" "$r" ab "$rps" NA "$complete" "$failed" "$len" "$exc" "$conn" "$recv" "$non" "$raw" "$aborted" "$note"
  log "$(printf 'restart round %d/%d  %-8s %8s req/s  complete %s  failed %s (length %s, exceptions %s, connect %s, non-2xx %s; ab raw %s)  %s%s' \
    "$r" "$ROUNDS" "$t" "$rps" "$complete" "$failed" "$len" "$exc" "$conn" "$non" "$raw" "$note" "$( ((aborted)) && echo '  ab ABORTED')")"
  if ((RESTART_RC != 0)); then
    log "cluster_bench: $t's restart did not finish cleanly (status $RESTART_RC):"
    tail -n 10 "$TMP/restart-$t-r$r.cmd.txt" >&2 || true
  fi
  stop_app "$t"
}

if [[ " $SCENARIOS " == *" restart "* && ${#ACTIVE[@]} -gt 0 ]]; then
  interleave restart_run "${ACTIVE[@]}"
fi

LOAD_AFTER=$(load_avg)
ELAPSED=$(($(date +%s) - START_TIME))

# ---------------------------------------------------------------------------------------------
# Report.
report() {
  echo "## cluster_bench $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(machine_desc)"
  echo "- load average before / after: $LOAD_BEFORE / $LOAD_AFTER (run took ${ELAPSED}s)"
  echo "- no pinning: the apps use every core; ab/wrk share the cores with them"
  echo "- Node $NODE_VERSION, PM2 $PM2_VERSION, ab $AB_VERSION; corral: ${CORRAL_NOTE:-not run}"
  echo "- app: tests/bench/cluster/server.js (GRACEFUL=$GRACEFUL), the same file under every tool; corral threads: $CORRAL_THREADS"
  echo "- $ROUNDS interleaved round(s) per scenario (order: ${ACTIVE[*]})"
  echo
  awk -F'\t' -v tools="${ACTIVE[*]}" -v loadgen="$LOADGEN" -v ncpu="$NCPU" -v pm2v="$PM2_VERSION" \
      -v spin="$SPIN" -v small="$SMALL_SPIN" -v conc="$CONC" -v dur="$DURATION" -v warm="$WARMUP" \
      -v cconc="$CRASH_CONC" -v cdur="$CRASH_DURATION" -v cmax="$CRASH_MAX_MS" \
      -v rconc="$RESTART_CONC" -v rdur="$RESTART_DURATION" -v rat="$RESTART_AT" "$AWK_STATS"'
    function fmt(x) { return x >= 1000 ? commas(x) : sprintf("%.1f", x) }
    function stat(k, col, what,   n, a, i) {   # k = scenario SUBSEP tool SUBSEP loadgen
      n = cnt[k]; if (n == 0) return ""
      for (i = 1; i <= n; i++) a[i] = val[k, i, col]
      if (what == "med") return median(a, n)
      sortn(a, n); return what == "min" ? a[1] : a[n]
    }
    function rpscell(k) {
      if (!cnt[k]) return "no data"
      return cnt[k] == 1 ? fmt(stat(k, 5, "med")) : fmt(stat(k, 5, "med")) " (" fmt(stat(k, 5, "min")) "-" fmt(stat(k, 5, "max")) ")"
    }
    function name(t) {
      if (t == "single") return "single Node process"
      if (t == "cluster") return "Node cluster, " ncpu " workers"
      if (t == "pm2") return "PM2 " pm2v ", -i max (" ncpu ")"
      if (t == "corral") return "corral, count: max (" ncpu ")"
      return t
    }
    function ratio(a, b, g) {
      if (!cnt["throughput", a, g] || !cnt["throughput", b, g]) return "n/a"
      return times(stat(("throughput" SUBSEP a SUBSEP g), 5, "med"), stat(("throughput" SUBSEP b SUBSEP g), 5, "med"))
    }
    {
      k = $1 SUBSEP $2 SUBSEP $4
      seen[$1] = 1
      if ($1 == "throughput" ? $5 == "NA" : $7 == "NA") { bad[k]++; notes[k] = notes[k] (notes[k] == "" ? "" : "; ") "r" $3 ": " $16; next }
      n = ++cnt[k]
      for (c = 5; c <= 15; c++) val[k, n, c] = $c
      for (c = 7; c <= 14; c++) sum[k, c] += $c
      abort[k] += $15
      perround[k] = perround[k] (perround[k] == "" ? "" : ", ") ($15 ? ">=" : "") $8
      notes[k] = notes[k] (notes[k] == "" ? "" : "; ") "r" $3 ": " $16
      seen[$1] = 1
    }
    END {
      nt = split(tools, T, " "); ng = split(loadgen, G, " ")
      if (seen["throughput"]) {
        printf "### 1. Throughput: CPU-bound app (SPIN=%s per request), %d clients, %d s per run, %d s warm-up\n\n", spin, conc, dur, warm
        printf "| app |"; for (g = 1; g <= ng; g++) printf " %s req/s median (min-max) |", (G[g] == "ab" ? "ab -r -c" conc " -t" dur : "wrk -t2 -c" conc " -d" dur "s"); 
        if (index(loadgen, "wrk")) printf " wrk p99 |"
        if (index(loadgen, "ab")) printf " ab failed |"
        printf "\n|---|"; for (g = 1; g <= ng; g++) printf "---|"; if (index(loadgen, "wrk")) printf "---|"; if (index(loadgen, "ab")) printf "---|"; printf "\n"
        all = "single " tools; na = split(all, A, " ")
        for (i = 1; i <= na; i++) {
          t = A[i]; printf "| %s |", name(t)
          for (g = 1; g <= ng; g++) printf " %s |", rpscell(("throughput" SUBSEP t SUBSEP G[g]))
          if (index(loadgen, "wrk")) { kw = "throughput" SUBSEP t SUBSEP "wrk"; printf " %s |", cnt[kw] ? sprintf("%.0f ms", stat(kw, 6, "med")) : "" }
          if (index(loadgen, "ab")) { ka = "throughput" SUBSEP t SUBSEP "ab"; printf " %s |", cnt[ka] ? sum[ka, 8] + 0 : "" }
          printf "\n"
        }
        for (i = 1; i <= nt; i++) {
          b = T[i]; if (b == "corral") continue
          if (index(tools, "corral") == 0) continue
          printf "| corral / %s |", (b == "cluster" ? "Node cluster" : (b == "pm2" ? "PM2" : b))
          for (g = 1; g <= ng; g++) printf " %s |", ratio("corral", b, G[g])
          if (index(loadgen, "wrk")) printf " |"; if (index(loadgen, "ab")) printf " |"
          printf "\n"
        }
        if (index(tools, "corral")) {
          printf "| corral / single process |"
          for (g = 1; g <= ng; g++) printf " %s |", ratio("corral", "single", G[g])
          if (index(loadgen, "wrk")) printf " |"; if (index(loadgen, "ab")) printf " |"
          printf "\n"
        }
        printf "\n"
      }
      for (s = 1; s <= 2; s++) {
        sc = s == 1 ? "crash" : "restart"
        if (!seen[sc]) continue
        if (sc == "crash")
          printf "### 2. Random crashes: each worker exits with status 1 after a random 0-%d ms; SPIN=%s, ab -r -c%d -t%d\n\n", cmax, small, cconc, cdur
        else
          printf "### 3. Rolling restart under load: triggered %d s into ab -r -c%d -t%d; SPIN=%s\n\n", rat, rconc, rdur, small
        printf "| tool | requests (all rounds) | failed | failed per round | length / exceptions / connect / non-2xx | ab raw \"Failed\" | %s |\n", sc == "crash" ? "worker crashes (corral: restarts, errored slots)" : "restart took, workers replaced"
        print "|---|---|---|---|---|---|---|"
        for (i = 1; i <= nt; i++) {
          t = T[i]; k = sc SUBSEP t SUBSEP "ab"
          if (!cnt[k]) { printf "| %s | no data | | | | | %s |\n", name(t), notes[k]; continue }
          printf "| %s | %s | %s%d | %s | %d / %d / %d / %d | %d | %s%s |\n", name(t), commas(sum[k, 7]), abort[k] ? ">=" : "", sum[k, 8], perround[k],
            sum[k, 9], sum[k, 10], sum[k, 11], sum[k, 13], sum[k, 14], notes[k],
            abort[k] ? sprintf("; ab aborted in %d run(s) (more than 10 failed, then a connect failed): its counts stop there", abort[k]) : ""
        }
        printf "\n"
      }
    }' "$RESULTS"
  echo "failed = Connect errors + max(Length errors, Non-2xx answers): each lost request once. ab's raw"
  echo "\"Failed requests\" counts a reset connection three times (Receive, Length, Exceptions) and a non-2xx"
  echo "answer of another length twice (Non-2xx, Length). \">=\": ab gave up in a run (\"Test aborted after 10"
  echo "failures\": a connect failed once more than 10 requests had failed); its counts stop there."
}

publish_report cluster txt
STATUS=ok
