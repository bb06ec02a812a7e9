#!/usr/bin/env bash
# Side-by-side sticky-session benchmark, one interleaved invocation on loopback:
#   corral balance: round_robin (the reference), corral sticky learn, corral sticky insert,
#   HAProxy `cookie SRV insert indirect nocache` and HAProxy plain roundrobin (its own reference),
#   each a one-thread proxy in front of the same two nginx backends. /login on a backend sets
#   `connect.sid` (a new value each time), / answers "ok".
# Before the runs, SESSIONS logins through each proxy collect the cookies a browser would hold
# (the app's connect.sid, plus corral_affinity or SRV); wrk then sends every request with one of
# those sessions' Cookie header, rotating over them, so every sticky request carries a pin.
# Prints requests/s per target and the ratios the sticky issue sets targets for:
# sticky >= 0.95x corral round-robin, and >= 1.0x HAProxy sticky.
#
#   tests/bench/sticky_bench.sh             # 3 rounds x 8 s at c=64
#   QUICK=1 tests/bench/sticky_bench.sh     # 1 round x 3 s
#
# Knobs (environment):
#   ROUNDS=3 DURATION=8 WARMUP=2 CONNS="64" SESSIONS=1000
#   CORRAL=path       the corral binary (default: build/corral under the repository root)
#   SERVER_CPU=0 CLIENT_CPU=1   backends and proxy on SERVER_CPU, wrk on CLIENT_CPU
#   SAVE=dir          where the table and raw figures are written (default tests/bench/out)
#   KEEP=1            keep the temporary directory
#   PERF=1            also CPU per request: perf stat -e task-clock on each proxy's process tree
#                     during every recorded run
# The process, port and wrk helpers are tests/bench/lib.sh's, shared with proxy_bench.sh.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"
bench_help "$@"
bench_knobs 3
CONNS=${CONNS:-64}
SESSIONS=${SESSIONS:-1000}
PERF=${PERF:-0}

need_tools "apt-get install wrk util-linux curl iproute2 nginx-light" wrk taskset curl ss awk nginx
[[ -x $CORRAL ]] || die "no corral binary at $CORRAL (build it, or set CORRAL=path)"
HAVE_HAPROXY=1
command -v haproxy >/dev/null || { log "sticky_bench: haproxy not installed, skipping it"; HAVE_HAPROXY=0; }
((SESSIONS >= 1)) || die "SESSIONS must be at least 1"
[[ $PERF != 1 ]] || need_tools "apt-get install linux-perf" perf

bench_init
pin_cpus || true

start_backend() {  # NAME PORT
  local dir=$TMP/$1
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/plain;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$2 backlog=4096;
    location /login { add_header Set-Cookie "connect.sid=s%3A\$request_id; Path=/; HttpOnly" always; return 200 "ok"; }
    location / { return 200 "ok"; }
  }
}
EOF
  start_bg "$dir/stderr.log" "${SRV[@]}" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf"
}

start_corral() {  # NAME PORT BALANCE-LINES
  local dir=$TMP/$1
  mkdir -p "$dir"
  free_port
  cat >"$dir/corral.yaml" <<EOF
listen: ["127.0.0.1:$2"]
threads: 1
admin: 127.0.0.1:$PORT
upstreams:
  - { address: 127.0.0.1:$B1_PORT }
  - { address: 127.0.0.1:$B2_PORT }
access_log: off
timeouts: { idle: 300s, drain: 5s }
$3
EOF
  start_bg "$dir/stderr.log" "${SRV[@]}" "$CORRAL" run -c "$dir/corral.yaml"
  PID_OF[$1]=$LAST_PID
  wait_http "$1" "$LAST_PID" "$2" "$dir/stderr.log"
}

start_haproxy() {  # NAME PORT [plain]: plain = round robin without the cookie (a reference)
  local dir=$TMP/$1 cookie="    cookie SRV insert indirect nocache"
  [[ ${3:-} == plain ]] && cookie="    # no cookie: plain round robin"
  mkdir -p "$dir"
  {
    haproxy_head 4096
    cat <<EOF
frontend fe
    bind 127.0.0.1:$2
    default_backend be
backend be
    balance roundrobin
$cookie
    server b1 127.0.0.1:$B1_PORT cookie b1
    server b2 127.0.0.1:$B2_PORT cookie b2
EOF
  } >"$dir/haproxy.cfg"
  start_bg "$dir/stderr.log" "${SRV[@]}" haproxy -db -f "$dir/haproxy.cfg"
  PID_OF[$1]=$LAST_PID
  wait_http "$1" "$LAST_PID" "$2" "$dir/stderr.log"
}

# collect_sessions PORT FILE: SESSIONS logins through the proxy; one Cookie header value per
# line, made of every name=value the login response set (what a browser would send back).
collect_sessions() {
  local urls=() i
  for ((i = 0; i < SESSIONS; i++)); do urls+=("http://127.0.0.1:$1/login"); done
  curl -s -o /dev/null -D - "${urls[@]}" | tr -d '\r' | awk '
    tolower($0) ~ /^set-cookie:/ { sub(/^[^:]*: */, ""); sub(/;.*/, ""); c = c (c == "" ? "" : "; ") $0 }
    /^$/ { if (c != "") print c; c = "" }
    END { if (c != "") print c }' >"$2"
  local got
  got=$(wc -l <"$2")
  ((got == SESSIONS)) || die "collected $got of $SESSIONS sessions through port $1"
}

cat >"$TMP/sessions.lua" <<'EOF'
-- Each request carries the Cookie header of the next session in the file, round robin.
local cookies, n, i = {}, 0, 0
for line in io.lines(os.getenv("SESSIONS_FILE")) do n = n + 1; cookies[n] = line end
request = function()
  i = i % n + 1
  return wrk.format(nil, nil, { ["Cookie"] = cookies[i] })
end
EOF

sticky_wrk() {  # PORT CONNS SECONDS SESSIONS_FILE OUTFILE
  SESSIONS_FILE=$4 run_wrk "$1" "$2" "$3" "$5" -s "$TMP/sessions.lua"
}

LOAD_BEFORE=$(load_avg)
start_two_backends

declare -A PORT_OF PID_OF
TARGETS=(rr learn insert)
free_port; PORT_OF[rr]=$PORT
start_corral rr "${PORT_OF[rr]}" "balance: round_robin"
free_port; PORT_OF[learn]=$PORT
start_corral learn "${PORT_OF[learn]}" "balance: sticky
sticky: { cookie: connect.sid, mode: learn, fallback: round_robin }"
free_port; PORT_OF[insert]=$PORT
start_corral insert "${PORT_OF[insert]}" "balance: sticky
sticky: { mode: insert, key: \"sticky-bench-key-0123456789abcdef\", fallback: round_robin }"
if ((HAVE_HAPROXY)); then
  free_port; PORT_OF[haproxy]=$PORT
  start_haproxy haproxy "${PORT_OF[haproxy]}"
  free_port; PORT_OF[haproxy_rr]=$PORT
  start_haproxy haproxy_rr "${PORT_OF[haproxy_rr]}" plain
  TARGETS+=(haproxy haproxy_rr)
fi

for t in "${TARGETS[@]}"; do collect_sessions "${PORT_OF[$t]}" "$TMP/sessions-$t.txt"; done
log "sticky_bench: $SESSIONS sessions per target; e.g. learn: $(head -n 1 "$TMP/sessions-learn.txt"), insert: $(head -n 1 "$TMP/sessions-insert.txt")"

RESULTS=$TMP/results.tsv
: >"$RESULTS"
# bench_run ROUND TARGET: one recorded wrk run at concurrency $c
bench_run() {
  local r=$1 t=$2 out rps p99 non sock errors=NA cpu=NA perf_out=
  out=$TMP/wrk-$t-c$c-r$r.txt
  if [[ $PERF == 1 && -n ${PID_OF[$t]:-} ]]; then
    perf_out=$TMP/perf-$t-c$c-r$r.txt
    perf_attach "${PID_OF[$t]}" "$DURATION" "$perf_out"
  fi
  sticky_wrk "${PORT_OF[$t]}" "$c" "$DURATION" "$TMP/sessions-$t.txt" "$out"
  read -r rps _ p99 non sock < <(parse_wrk "$out")
  [[ $rps == NA ]] || errors=$((non + sock))
  if [[ -n $perf_out ]]; then
    wait "$PERF_PID" || true
    [[ $rps == NA ]] || cpu=$(perf_us_per "$perf_out" "$(awk '/ requests in / {print $1}' "$out")")
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$t" "$r" "$rps" "$p99" "$errors" "$cpu" >>"$RESULTS"
  log "$(printf 'c=%-4s round %d/%d  %-8s %10s req/s  p99 %7s ms  errors %s  CPU %s us/request' "$c" "$r" "$ROUNDS" "$t" "$rps" "$p99" "$errors" "$cpu")"
}

for c in $CONNS; do
  for t in "${TARGETS[@]}"; do
    ((WARMUP > 0)) && sticky_wrk "${PORT_OF[$t]}" "$c" "$WARMUP" "$TMP/sessions-$t.txt" "$TMP/warmup-$t.txt"
  done
  interleave bench_run "${TARGETS[@]}"
done

# The learn proxy's own account of its table after the runs.
learn_admin=$(sed -n 's/^admin: 127.0.0.1:\([0-9]*\)/\1/p' "$TMP/learn/corral.yaml")
TABLE=$(curl -s "http://127.0.0.1:$learn_admin/metrics" | awk '
  /^corral_sticky_table_entries / { e = $2 } /^corral_sticky_table_bytes / { b = $2 }
  /^corral_sticky_hits_total / { h = $2 } /^corral_sticky_misses_total / { m = $2 }
  END { printf "%d entries, %d bytes, %d hits, %d misses", e, b, h, m }')
LOAD_AFTER=$(load_avg)

report() {
  echo "## sticky_bench $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(machine_desc)"
  echo "- load average before / after: $LOAD_BEFORE / $LOAD_AFTER"
  echo "- backends + proxy on core $SERVER_CPU, wrk -t1 on core $CLIENT_CPU; $ROUNDS interleaved round(s) x ${DURATION}s, c=$CONNS"
  echo "- $SESSIONS sessions per target, each request with one session's cookies (rotating)"
  echo "- corral learn table after the runs: $TABLE"
  echo
  awk -F'\t' -v targets="${TARGETS[*]}" "$AWK_STATS"'
    function med(c, t, col,   n, a, i) { n = cnt[c, t]; if (!n) return 0; for (i = 1; i <= n; i++) a[i] = v[c, t, i, col]; return median(a, n) }
    function name(t) {
      if (t == "rr") return "corral round_robin (reference)"; if (t == "learn") return "corral sticky learn"
      if (t == "insert") return "corral sticky insert"; if (t == "haproxy") return "HAProxy cookie SRV insert"
      if (t == "haproxy_rr") return "HAProxy roundrobin (its reference)"; return t
    }
    function ratio(c, a, b) { return cnt[c, a] && cnt[c, b] ? times(med(c, a, 4), med(c, b, 4)) : "n/a" }
    function cpu(c, t,   n, a, i) { n = ncpu[c, t]; if (!n) return "n/a"; for (i = 1; i <= n; i++) a[i] = u[c, t, i]; return sprintf("%.1f", median(a, n)) }
    $4 != "NA" { k = ++cnt[$1, $2]; v[$1, $2, k, 4] = $4; v[$1, $2, k, 5] = $5; err[$1, $2] += $6 }
    $4 != "NA" && $7 != "NA" && $7 != "" { u[$1, $2, ++ncpu[$1, $2]] = $7 }
    END {
      nt = split(targets, T, " ")
      print "| c | target | req/s (median) | p99 ms (median) | errors | CPU µs/request (PERF=1) |"
      print "|---|---|---|---|---|---|"
      for (key in cnt) { split(key, kk, SUBSEP); cs[kk[1]] = 1 }
      for (c in cs) {
        for (ti = 1; ti <= nt; ti++) printf "| %s | %s | %.0f | %.2f | %d | %s |\n", c, name(T[ti]), med(c, T[ti], 4), med(c, T[ti], 5), err[c, T[ti]], cpu(c, T[ti])
        printf "\nc=%s ratios: learn / round_robin %s, insert / round_robin %s, learn / HAProxy sticky %s, insert / HAProxy sticky %s", c,
          ratio(c, "learn", "rr"), ratio(c, "insert", "rr"), ratio(c, "learn", "haproxy"), ratio(c, "insert", "haproxy")
        printf " (HAProxy sticky / HAProxy roundrobin %s, corral round_robin / HAProxy roundrobin %s)\n\n",
          ratio(c, "haproxy", "haproxy_rr"), ratio(c, "rr", "haproxy_rr")
      }
    }' "$RESULTS"
}

publish_report sticky md
STATUS=ok
