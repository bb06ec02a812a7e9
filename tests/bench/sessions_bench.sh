#!/usr/bin/env bash
# Shared-state mode side by side: the same two Node workers (tests/integration/data/shared_session_app.js)
# behind corral with plain round-robin (no sessions), with sticky routing (`balance: sticky`,
# hash mode on the session cookie, when this corral knows it), and in shared-state mode
# (sessions in a local redis-server), in one invocation, interleaved by round. Every request
# carries one of SESSIONS logged-in session cookies, in turn, in every mode.
# Prints requests/s, p50/p99 latency and Redis round trips per request (from corral's metrics).
#
#   tests/bench/sessions_bench.sh            # 3 rounds x 8 s at c=32
#   QUICK=1 tests/bench/sessions_bench.sh    # 1 round x 3 s: a smoke run, figures mean little
#
# Knobs (environment):
#   ROUNDS=3 DURATION=8 CONNS=32 THREADS=1   rounds, seconds per wrk run, wrk connections, corral threads
#   SESSIONS=64    distinct sessions the requests rotate through
#   CORRAL=path    the corral binary (default: build/corral, else build-dev/corral)
#   STICKY_CORRAL=path   the binary for the sticky mode (default: CORRAL), e.g. one built from a
#                  branch that has `balance: sticky` while this one has shared-state mode
#   KEEP=1         keep the temporary directory (configs, logs, raw wrk output); a failed run keeps it anyway
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"
bench_help "$@"

if [[ ${QUICK:-0} == 1 ]]; then : "${ROUNDS:=1}" "${DURATION:=3}"; fi
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
DURATION=${DURATION%s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
SESSIONS=${SESSIONS:-64}
KEEP=${KEEP:-0}
if [[ -z ${CORRAL:-} ]]; then
  CORRAL=$ROOT/build/corral
  [[ -x $CORRAL ]] || CORRAL=$ROOT/build-dev/corral
fi
APP=$ROOT/tests/integration/data/shared_session_app.js

need_tools "deploy/scripts/install-deps.sh bench test" wrk curl node redis-server redis-cli awk ss
[[ -x $CORRAL ]] || die "no corral binary at $CORRAL (build it, or set CORRAL=)"
[[ $ROUNDS =~ ^[1-9][0-9]*$ && $DURATION =~ ^[1-9][0-9]*$ && $CONNS =~ ^[1-9][0-9]*$ ]] ||
  die "ROUNDS, DURATION and CONNS must be positive whole numbers"

bench_init

# --- Redis and the workers ------------------------------------------------------------------
free_port
REDIS_PORT=$PORT
start_bg "$TMP/redis.out" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --logfile "$TMP/redis.log"
wait_for 10 redis-cli -p "$REDIS_PORT" ping || die "redis-server did not start (see $TMP/redis.log)"

UPSTREAMS=""
for i in 0 1; do
  start_bg "$TMP/app$i.log" node "$APP" "app$i" 0
  wait_for 10 grep -q '^listening' "$TMP/app$i.log" || die "app$i did not start"
  port=$(awk '/^listening/ {print $2; exit}' "$TMP/app$i.log")
  UPSTREAMS+="  - 127.0.0.1:$port"$'\n'
done

# --- one corral per mode --------------------------------------------------------------------
declare -A PORT_OF ADMIN
start_corral() {  # start_corral MODE
  local mode=$1 port admin bin=$CORRAL
  [[ $mode == sticky ]] && bin=${STICKY_CORRAL:-$CORRAL}
  free_port
  port=$PORT
  free_port
  admin=$PORT
  {
    echo "listen: 127.0.0.1:$port"
    echo "admin: 127.0.0.1:$admin"
    echo "threads: $THREADS"
    echo "access_log: off"
    echo "upstreams:"
    printf '%s' "$UPSTREAMS"
    case $mode in
      round_robin) echo "balance: round_robin" ;;
      sticky) printf 'balance: sticky\nsticky: { cookie: corral_sid, mode: hash }\n' ;;
      shared) printf 'balance: round_robin\nsessions: { redis: "redis://127.0.0.1:%s/0" }\n' "$REDIS_PORT" ;;
    esac
  } >"$TMP/$mode.yaml"
  if ! "$bin" check -c "$TMP/$mode.yaml" >"$TMP/$mode.check" 2>&1; then
    log "sessions_bench: $mode skipped: this corral does not accept its config ($(head -1 "$TMP/$mode.check"))"
    return 1
  fi
  start_bg "$TMP/$mode.log" "$bin" run -c "$TMP/$mode.yaml"
  wait_for 15 curl -sf "http://127.0.0.1:$admin/readyz" || die "corral ($mode) did not get ready (see $TMP/$mode.log)"
  PORT_OF[$mode]=$port
  ADMIN[$mode]=$admin
}

MODES=()
for mode in round_robin sticky shared; do
  start_corral "$mode" && MODES+=("$mode")
done

# Logged-in sessions (made in shared mode); wrk sends them in turn to every mode.
login() {
  curl -si "http://127.0.0.1:${PORT_OF[shared]}/login?user=bench$1" | tr -d '\r' |
    awk -F'[=;]' 'tolower($0) ~ /^set-cookie: corral_sid=/ {print $2; exit}'
}
{
  echo "local cookies = {"
  for i in $(seq "$SESSIONS"); do
    c=$(login "$i")
    [[ ${#c} == 22 ]] || die "no session cookie from the shared-mode login"
    echo "  \"corral_sid=$c\","
  done
  echo "}"
  echo "local n = 0"
  echo "request = function()"
  echo "  n = n + 1"
  echo "  wrk.headers[\"Cookie\"] = cookies[(n % #cookies) + 1]"
  echo "  return wrk.format(\"GET\", \"/whoami\")"
  echo "end"
} >"$TMP/sessions.lua"
COOKIE=$(login check)
curl -s -H "Cookie: corral_sid=$COOKIE" "http://127.0.0.1:${PORT_OF[shared]}/whoami" | grep -q '"user":"benchcheck"' ||
  die "the shared-mode session does not reach the app"

metric() {  # metric MODE NAME: sum of the samples of NAME
  curl -s "http://127.0.0.1:${ADMIN[$1]}/metrics" |
    awk -v n="$2" '$1 == n || index($1, n "{") == 1 {s += $2} END {printf "%d", s}'
}

declare -A RPS P50 P99 TRIPS
bench_run() {  # ROUND MODE: one wrk run, with corral's count of Redis commands around it
  local round=$1 mode=$2 out c0 c1 r0 r1 rps p50 p99
  out=$TMP/wrk-$mode-$round.txt
  c0=$(metric "$mode" corral_redis_commands_total)
  r0=$(metric "$mode" corral_requests_total)
  wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$TMP/sessions.lua" \
    "http://127.0.0.1:${PORT_OF[$mode]}/whoami" >"$out"
  c1=$(metric "$mode" corral_redis_commands_total)
  r1=$(metric "$mode" corral_requests_total)
  read -r rps p50 p99 _ _ < <(parse_wrk "$out")
  RPS[$mode]+="$rps "
  P50[$mode]+="$p50 "
  P99[$mode]+="$p99 "
  TRIPS[$mode]+="$(awk -v c=$((c1 - c0)) -v r=$((r1 - r0)) 'BEGIN {printf "%.3f", r ? c / r : 0}') "
  log "round $round $mode: $rps req/s"
}
interleave bench_run "${MODES[@]}"

median() { printf '%s\n' $1 | awk "$AWK_STATS"'{a[NR] = $1} END {print median(a, NR)}'; }

echo
echo "sessions_bench: $(date -u +%FT%TZ), $(nproc) CPU(s), corral threads=$THREADS, 2 Node workers, wrk -t1 -c$CONNS -d${DURATION}s x $ROUNDS round(s), $SESSIONS sessions"
echo
echo "| mode | req/s (median) | p50 ms | p99 ms | Redis round trips / request |"
echo "|---|---|---|---|---|"
for mode in "${MODES[@]}"; do
  echo "| $mode | $(median "${RPS[$mode]}") | $(median "${P50[$mode]}") | $(median "${P99[$mode]}") | $(median "${TRIPS[$mode]}") |"
done
base=$(median "${RPS[round_robin]}")
shared=$(median "${RPS[shared]}")
echo
echo "shared / round_robin: $(ratio "$shared" "$base")"
if [[ -n ${RPS[sticky]:-} ]]; then
  echo "shared / sticky: $(ratio "$shared" "$(median "${RPS[sticky]}")")"
else
  echo "sticky: not measured (this corral has no balance: sticky)"
fi
STATUS=ok
