#!/usr/bin/env bash
# Side-by-side proxy benchmark: corral vs HAProxy 2.6 vs nginx 1.22, each a one-thread reverse
# proxy in front of the same two nginx backends (`return 200 "ok"`), measured in one interleaved
# invocation, plus the RSS each proxy spends on idle keep-alive client connections.
# See tests/bench/README.md for what is measured and the pitfalls behind each choice.
#
#   tests/bench/proxy_bench.sh                 # 3 rounds x 8 s at c=64 and c=256, 10,000 idle conns
#   QUICK=1 tests/bench/proxy_bench.sh         # smoke run: 1 round x 2 s
#
# Knobs (environment):
#   ROUNDS=3          interleaved rounds (direct corral haproxy nginx, direct corral haproxy nginx, ...)
#   DURATION=8        seconds per wrk run ("8" or "8s")
#   WARMUP=2          seconds of unrecorded load per target and concurrency before the rounds
#   CONNS="64 256"    wrk connection counts
#   IDLE_CONNS=10000  idle keep-alive connections for the memory test (0 skips it)
#   PROXIES="corral haproxy nginx"   which proxies to run (the direct ceiling always runs)
#   QUICK=1           defaults become ROUNDS=1 DURATION=2 WARMUP=1 (explicit knobs still win)
#   CORRAL=path       the corral binary (default: build/corral under the repository root)
#   BUILD=1           build corral (Release) when the binary is missing; BUILD=0 skips corral instead
#   SERVER_CPU=0 CLIENT_CPU=1   pinning: backends and proxy on SERVER_CPU, wrk and the idle client on CLIENT_CPU
#   SAVE=dir          where the table and raw figures are written (default tests/bench/out)
#   KEEP=1            keep the temporary directory (configs, logs, raw wrk output)
#   PERF=1            also CPU per request: perf stat -e task-clock on each proxy's process tree
#                     during every recorded run (needs perf, allowed to attach to the proxies)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"
bench_help "$@"

bench_knobs 2
CONNS=${CONNS:-"64 256"}
IDLE_CONNS=${IDLE_CONNS:-10000}
PROXIES=${PROXIES:-"corral haproxy nginx"}
BUILD=${BUILD:-1}
PERF=${PERF:-0}

need_tools "apt-get install wrk util-linux curl iproute2 nodejs" wrk taskset curl ss node awk
command -v nginx >/dev/null || die "nginx is required for the backends (apt-get install nginx-light)"
[[ $IDLE_CONNS =~ ^[0-9]+$ ]] || die "IDLE_CONNS must be a number"
for c in $CONNS; do [[ $c =~ ^[1-9][0-9]*$ ]] || die "CONNS must be numbers: '$CONNS'"; done
MAX_CONNS=$(printf '%s\n' $CONNS | sort -n | tail -1)

bench_init

# ---------------------------------------------------------------------------------------------
# Resident memory of a process and all its descendants, in KiB.
tree_rss_kb() {
  local total=0 p kb
  for p in "$1" $(descendants "$1"); do
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

tree_fds() {
  local total=0 p n
  for p in "$1" $(descendants "$1"); do
    n=$(ls "/proc/$p/fd" 2>/dev/null | wc -l || true)
    total=$((total + ${n:-0}))
  done
  echo "$total"
}

# ---------------------------------------------------------------------------------------------
# Machine set-up: file descriptors and pinning.
raise_nofile
IDLE_NOTE=
# the proxy holds IDLE_CONNS client sockets plus upstream and listening sockets; the idle client
# holds IDLE_CONNS sockets in its own process.
if ((IDLE_CONNS > 0 && IDLE_CONNS + 1000 > HARD_NOFILE)); then
  want=$IDLE_CONNS
  IDLE_CONNS=8000
  ((IDLE_CONNS + 1000 > HARD_NOFILE)) && IDLE_CONNS=$((HARD_NOFILE - 1000))
  IDLE_NOTE="(asked for $want idle connections; the file descriptor limit here is $HARD_NOFILE, so $IDLE_CONNS)"
fi

if pin_cpus; then
  PIN_NOTE="backends + proxy on core $SERVER_CPU (taskset -c $SERVER_CPU), wrk -t1 and the idle client on core $CLIENT_CPU"
else
  PIN_NOTE="only one CPU: servers and load generator share core 0 (figures are not comparable with pinned runs)"
fi

# Per-proxy capacity: the benchmark's connections plus the idle test's, with room to spare.
PROXY_MAXCONN=$((IDLE_CONNS + MAX_CONNS + 256))
# nginx counts client and upstream connections against worker_connections; keep it under the fd limit
NGINX_WORKER_CONNS=$((IDLE_CONNS + 3 * MAX_CONNS + 1024))
((NGINX_WORKER_CONNS > HARD_NOFILE - 64)) && NGINX_WORKER_CONNS=$((HARD_NOFILE - 64))
UPSTREAM_KEEPALIVE=$((MAX_CONNS > 64 ? MAX_CONNS : 64))        # >= concurrency (see README)

# ---------------------------------------------------------------------------------------------
# The proxies under test. Each start_* sets LAST_PID and the listening port in PROXY_PORT.
HAVE_CORRAL=0
HAVE_HAPROXY=0
HAVE_NGINX=0
CORRAL_NOTE=
for p in $PROXIES; do
  case $p in
    corral) HAVE_CORRAL=1 ;;
    haproxy) HAVE_HAPROXY=1 ;;
    nginx) HAVE_NGINX=1 ;;
    *) die "unknown proxy '$p' in PROXIES (corral haproxy nginx)" ;;
  esac
done

if ((HAVE_HAPROXY)) && ! command -v haproxy >/dev/null; then
  log "proxy_bench: haproxy not installed (apt-get install haproxy), skipping it"
  HAVE_HAPROXY=0
fi

if ((HAVE_CORRAL)) && [[ ! -x $CORRAL ]]; then
  build_corral_if_missing
  if [[ ! -x $CORRAL ]]; then
    log "proxy_bench: no corral binary at $CORRAL: skipping corral (HAProxy and nginx still run)"
    HAVE_CORRAL=0
    CORRAL_NOTE="corral skipped: no binary at $CORRAL"
  fi
fi
if ((HAVE_CORRAL)) && corral_build_info "$CORRAL"; then
  CORRAL_NOTE="corral build: ${CORRAL_BTYPE:-unknown build type}${CORRAL_SANIT:+, CORRAL_SANITIZE=$CORRAL_SANIT}"
fi
((HAVE_NGINX || HAVE_HAPROXY || HAVE_CORRAL)) || die "no proxy to benchmark"

nginx_common() {  # the directives every nginx instance here shares
  cat <<EOF
worker_processes 1;
worker_rlimit_nofile $HARD_NOFILE;
daemon off;
master_process on;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections $NGINX_WORKER_CONNS; }
EOF
}

start_backend() {  # NAME PORT
  local dir=$TMP/$1
  mkdir -p "$dir"
  {
    nginx_common "$dir"
    cat <<EOF
http {
  access_log off;
  default_type text/plain;
  keepalive_timeout 300s;
  keepalive_requests 100000000;   # the default (1000) makes the proxies reconnect mid-run
  server {
    listen 127.0.0.1:$2 backlog=4096;
    location / { return 200 "ok"; }
  }
}
EOF
  } >"$dir/nginx.conf"
  start_bg "$dir/stderr.log" "${SRV[@]}" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf"
}

start_nginx_proxy() {  # PORT BACKEND1 BACKEND2
  local dir=$TMP/nginx-proxy-$1
  mkdir -p "$dir"
  {
    nginx_common "$dir"
    cat <<EOF
http {
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  upstream backends {
    server 127.0.0.1:$2;
    server 127.0.0.1:$3;
    keepalive $UPSTREAM_KEEPALIVE;          # >= the highest concurrency, or nginx churns upstream connections
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$1 backlog=4096;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  } >"$dir/nginx.conf"
  start_bg "$dir/stderr.log" "${SRV[@]}" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf"
  PROXY_LOG=$dir/stderr.log
}

start_haproxy() {  # PORT BACKEND1 BACKEND2
  local dir=$TMP/haproxy-$1 strict=
  mkdir -p "$dir"
  # HAProxy reserves two fds per connection (client + server) and by default refuses to start
  # when 2 x maxconn exceeds the fd limit. Idle clients share a few reused server connections
  # (http-reuse always), so IDLE_CONNS client connections need about IDLE_CONNS fds: let it start.
  if ((2 * PROXY_MAXCONN + 100 > HARD_NOFILE)); then
    strict="    no strict-limits   # 2 x maxconn > fd limit $HARD_NOFILE; idle clients need ~1 fd each"
  fi
  {
    haproxy_head "$PROXY_MAXCONN" "$strict"
    cat <<EOF
frontend fe
    bind 127.0.0.1:$1
    default_backend be

backend be
    balance roundrobin
    server b1 127.0.0.1:$2
    server b2 127.0.0.1:$3
EOF
  } >"$dir/haproxy.cfg"
  start_bg "$dir/stderr.log" "${SRV[@]}" haproxy -db -f "$dir/haproxy.cfg"
  PROXY_LOG=$dir/stderr.log
}

start_corral() {  # PORT BACKEND1 BACKEND2
  local dir=$TMP/corral-$1
  mkdir -p "$dir"
  free_port
  local admin=$PORT
  cat >"$dir/corral.yaml" <<EOF
listen: ["127.0.0.1:$1"]
threads: 1
admin: 127.0.0.1:$admin
upstreams:
  - { address: 127.0.0.1:$2 }
  - { address: 127.0.0.1:$3 }
balance: round_robin
access_log: off
timeouts: { idle: 300s, drain: 5s }
limits: { max_connections: $PROXY_MAXCONN }
EOF
  start_bg "$dir/stderr.log" "${SRV[@]}" "$CORRAL" run -c "$dir/corral.yaml"
  PROXY_LOG=$dir/stderr.log
}

# start_proxy NAME: starts it on a fresh port in front of the two backends; sets PROXY_PID, PROXY_PORT.
start_proxy() {
  local name=$1 pattern=
  free_port
  PROXY_PORT=$PORT
  case $name in
    corral) start_corral "$PROXY_PORT" "$B1_PORT" "$B2_PORT"; pattern='(^|[^a-z])ready' ;;
    haproxy) start_haproxy "$PROXY_PORT" "$B1_PORT" "$B2_PORT" ;;
    nginx) start_nginx_proxy "$PROXY_PORT" "$B1_PORT" "$B2_PORT" ;;
  esac
  PROXY_PID=$LAST_PID
  wait_http "$name" "$PROXY_PID" "$PROXY_PORT" "$PROXY_LOG" "$pattern"
}

label() {
  case $1 in
    direct) echo "direct to one backend (ceiling)" ;;
    corral) echo "corral, threads: 1" ;;
    haproxy) echo "HAProxy $HAPROXY_VERSION, nbthread 1" ;;
    nginx) echo "nginx $NGINX_VERSION, 1 worker" ;;
  esac
}

HAPROXY_VERSION=$( ( ((HAVE_HAPROXY)) && haproxy -v 2>/dev/null | sed -n '1s/^HAProxy version \([0-9.]*\).*/\1/p') || echo none)
NGINX_VERSION=$(nginx -v 2>&1 | sed -n 's/.*nginx\/\([^ ]*\).*/\1/p')
CORRAL_VERSION=none
((HAVE_CORRAL)) && CORRAL_VERSION=$("$CORRAL" version 2>&1 | head -n 1 || echo unknown)

# ---------------------------------------------------------------------------------------------
# wrk runs.
RESULTS=$TMP/results.tsv   # conc target round rps p50_ms p99_ms non2xx socket_errors
: >"$RESULTS"

# ---------------------------------------------------------------------------------------------
log "proxy_bench: rounds=$ROUNDS duration=${DURATION}s warmup=${WARMUP}s conns='$CONNS' idle_conns=$IDLE_CONNS"
log "proxy_bench: $PIN_NOTE"
log "proxy_bench: temporary files in $TMP"
LOAD_BEFORE=$(load_avg)

start_two_backends

TARGETS=(direct)
declare -A PORT_OF PID_OF LOG_OF
PORT_OF[direct]=$B1_PORT
for name in corral haproxy nginx; do
  case $name in
    corral) ((HAVE_CORRAL)) || continue ;;
    haproxy) ((HAVE_HAPROXY)) || continue ;;
    nginx) ((HAVE_NGINX)) || continue ;;
  esac
  start_proxy "$name"
  PORT_OF[$name]=$PROXY_PORT
  PID_OF[$name]=$PROXY_PID
  LOG_OF[$name]=$PROXY_LOG
  TARGETS+=("$name")
done
log "proxy_bench: targets: ${TARGETS[*]} (backends on :$B1_PORT and :$B2_PORT)"

CPU=$TMP/cpu.tsv   # conc target round us_per_request
: >"$CPU"

# bench_run ROUND TARGET: one recorded wrk run at concurrency $c
bench_run() {
  local r=$1 t=$2 out rps p50 p99 non sock perf_pid= pids
  out=$TMP/wrk-$t-c$c-r$r.txt
  if ((PERF)) && [[ -n ${PID_OF[$t]:-} ]]; then
    pids=$(printf '%s,' "${PID_OF[$t]}" $(descendants "${PID_OF[$t]}"))
    perf stat -e task-clock -x, -p "${pids%,}" -o "$out.perf" &
    perf_pid=$!
  fi
  run_wrk "${PORT_OF[$t]}" "$c" "$DURATION" "$out"
  if [[ -n $perf_pid ]]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    # task-clock in ms over the requests wrk counted: microseconds of CPU per request
    awk -F, -v c="$c" -v t="$t" -v r="$r" -v reqs="$(awk '/requests in/ {print $1}' "$out")" \
      '$3 == "task-clock" && reqs > 0 { printf "%s\t%s\t%s\t%.2f\n", c, t, r, $1 * 1000 / reqs }' \
      "$out.perf" >>"$CPU" || true
  fi
  read -r rps p50 p99 non sock < <(parse_wrk "$out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$t" "$r" "$rps" "$p50" "$p99" "$non" "$sock" >>"$RESULTS"
  log "$(printf 'c=%-4s round %d/%d  %-8s %10s req/s  p50 %7s ms  p99 %7s ms  non-2xx %s  socket errors %s' \
    "$c" "$r" "$ROUNDS" "$t" "$rps" "$p50" "$p99" "$non" "$sock")"
  if [[ $rps == NA ]]; then
    log "proxy_bench: wrk failed against $t:"
    tail -n 5 "$out" >&2 || true
  fi
  if [[ -n ${PID_OF[$t]:-} ]] && ! kill -0 "${PID_OF[$t]}" 2>/dev/null; then
    log "proxy_bench: $t (pid ${PID_OF[$t]}) is gone; its log ends with:"
    tail -n 10 "${LOG_OF[$t]}" >&2 || true
  fi
}

for c in $CONNS; do
  if ((WARMUP > 0)); then
    for t in "${TARGETS[@]}"; do run_wrk "${PORT_OF[$t]}" "$c" "$WARMUP" "$TMP/warmup-$t-c$c.txt"; done
  fi
  interleave bench_run "${TARGETS[@]}"
done

# The benchmark proxies are done; the idle test starts each one afresh.
for t in corral haproxy nginx; do
  if [[ -n ${PID_OF[$t]:-} ]]; then
    stop_pid "${PID_OF[$t]}" 15
    if [[ $t == corral && $STOP_RC != 0 ]]; then
      log "proxy_bench: WARNING: corral exited with status $STOP_RC on SIGTERM (expected 0)"
    fi
  fi
done

# ---------------------------------------------------------------------------------------------
# Idle keep-alive connections: RSS of the proxy's process tree before and after.
IDLE=$TMP/idle.tsv   # target conns ok open rss_before_kb rss_after_kb fds_after
: >"$IDLE"
if ((IDLE_CONNS > 0)); then
  for t in "${TARGETS[@]}"; do
    [[ $t == direct ]] && continue
    start_proxy "$t"
    # a few requests so that upstream connections and lazily built state exist before "before"
    "${CLI[@]}" wrk -t1 -c4 -d1s "http://127.0.0.1:$PROXY_PORT/" >/dev/null 2>&1 || true
    sleep 1
    before=$(tree_rss_kb "$PROXY_PID")
    ilog=$TMP/idle-$t.log
    start_bg "$ilog" "${CLI[@]}" node "$HERE/idle_conns.js" --port "$PROXY_PORT" --conns "$IDLE_CONNS"
    ipid=$LAST_PID
    for ((i = 0; i < 1200; i++)); do
      grep -q '^ready ' "$ilog" 2>/dev/null && break
      kill -0 "$ipid" 2>/dev/null || break
      sleep 0.1
    done
    sleep 2   # let the proxy settle (deferred frees, lazily grown buffers)
    if ! kill -0 "$PROXY_PID" 2>/dev/null; then
      log "proxy_bench: $t died during the idle test; its log ends with:"
      tail -n 10 "$PROXY_LOG" >&2 || true
    fi
    after=$(tree_rss_kb "$PROXY_PID")
    fds=$(tree_fds "$PROXY_PID")
    stop_pid "$ipid" 10
    ready=$(sed -n 's/^ready //p' "$ilog")
    done_line=$(sed -n 's/^done //p' "$ilog")
    ok=$(sed -n 's/.*"ok":\([0-9]*\).*/\1/p' <<<"$ready")
    open=$(sed -n 's/.*"open":\([0-9]*\).*/\1/p' <<<"$done_line")
    log "proxy_bench: idle $t: $ready"
    if [[ -n $done_line ]]; then log "proxy_bench: idle $t (before closing): $done_line"; fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$IDLE_CONNS" "${ok:-0}" "${open:-0}" "$before" "$after" "$fds" >>"$IDLE"
    stop_pid "$PROXY_PID" 15
  done
fi
LOAD_AFTER=$(load_avg)

# ---------------------------------------------------------------------------------------------
# Report.
report() {
  echo "## proxy_bench $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(machine_desc)"
  echo "- load average before / after: $LOAD_BEFORE / $LOAD_AFTER"
  echo "- pinning: $PIN_NOTE"
  echo "- $ROUNDS interleaved round(s) x ${DURATION}s per target and concurrency (order: ${TARGETS[*]}), ${WARMUP}s unrecorded warm-up each"
  echo "- backends: 2 x nginx $NGINX_VERSION, 1 worker, return 200 \"ok\", keepalive_requests 1e8; access logs off everywhere"
  echo "- corral: ${CORRAL_VERSION}${CORRAL_NOTE:+ ($CORRAL_NOTE)}"
  echo "- p50/p99: median over the rounds of each run's wrk --latency percentile"
  echo
  awk -F'\t' -v targets="${TARGETS[*]}" -v conns="$CONNS" -v hv="$HAPROXY_VERSION" -v nv="$NGINX_VERSION" "$AWK_STATS"'
    function stat(c, t, col, what,   k, n, a, i) {   # what: med min max
      n = cnt[c, t]; if (n == 0) return ""
      for (i = 1; i <= n; i++) a[i] = val[c, t, i, col]
      if (what == "med") return median(a, n)
      sortn(a, n); return what == "min" ? a[1] : a[n]
    }
    function name(t) {
      if (t == "direct") return "direct to one backend (ceiling)"
      if (t == "corral") return "corral, threads: 1"
      if (t == "haproxy") return "HAProxy " hv ", nbthread 1"
      if (t == "nginx") return "nginx " nv ", 1 worker"
      return t
    }
    function ratio(c, a, b, col) {
      if (!cnt[c, a] || !cnt[c, b]) return "n/a"
      return times(stat(c, a, col, "med"), stat(c, b, col, "med"))
    }
    $4 != "NA" { k = ++cnt[$1, $2]; val[$1, $2, k, 4] = $4; val[$1, $2, k, 5] = $5; val[$1, $2, k, 6] = $6; err[$1, $2] += $7 + $8 }
    $4 == "NA" { failedruns[$1, $2]++ }
    END {
      nt = split(targets, T, " "); nc = split(conns, C, " ")
      for (ci = 1; ci <= nc; ci++) {
        c = C[ci]
        printf "| c=%s | req/s median (min-max) | p50 ms | p99 ms | non-2xx + socket errors |\n", c
        print "|---|---|---|---|---|"
        for (ti = 1; ti <= nt; ti++) {
          t = T[ti]
          if (!cnt[c, t]) { printf "| %s | no data | | | %s failed run(s) |\n", name(t), failedruns[c, t] + 0; continue }
          printf "| %s | %s (%s-%s) | %.2f | %.2f | %d%s |\n", name(t), commas(stat(c, t, 4, "med")), commas(stat(c, t, 4, "min")),
            commas(stat(c, t, 4, "max")), stat(c, t, 5, "med"), stat(c, t, 6, "med"), err[c, t],
            failedruns[c, t] ? sprintf(", %d failed run(s)", failedruns[c, t]) : ""
        }
        for (ti = 1; ti <= nt; ti++) {
          b = T[ti]; if (b != "haproxy" && b != "nginx") continue
          lbl = b == "haproxy" ? "HAProxy" : "nginx"
          printf "| corral / %s | %s | %s | %s | |\n", lbl, ratio(c, "corral", b, 4), ratio(c, "corral", b, 5), ratio(c, "corral", b, 6)
        }
        print ""
      }
    }' "$RESULTS"
  if [[ -s $CPU ]]; then
    echo "CPU per request (perf stat task-clock of the proxy's process tree over a recorded run / the requests wrk counted; median of the rounds):"
    echo
    echo "| proxy | concurrency | CPU µs per request |"
    echo "|---|---|---|"
    awk -F'\t' "$AWK_STATS"'
      { k = $1 SUBSEP $2; n[k]++; v[k, n[k]] = $4; if (!(k in seen)) { seen[k] = 1; order[++m] = k } }
      END {
        for (i = 1; i <= m; i++) {
          k = order[i]; split(k, p, SUBSEP)
          for (j = 1; j <= n[k]; j++) a[j] = v[k, j]
          printf "| %s | %s | %.1f |\n", p[2], p[1], median(a, n[k])
        }
      }' "$CPU"
    echo
  fi
  if [[ -s $IDLE ]]; then
    echo "Idle keep-alive client connections ($IDLE_CONNS, one request each, then idle)${IDLE_NOTE:+ $IDLE_NOTE}; RSS of the proxy's whole process tree:"
    echo
    echo "| proxy | connections held | RSS before | RSS after | per connection | fds after |"
    echo "|---|---|---|---|---|---|"
    awk -F'\t' -v hv="$HAPROXY_VERSION" -v nv="$NGINX_VERSION" "$AWK_STATS"'
      {
        name = $1 == "haproxy" ? "HAProxy " hv : $1 == "nginx" ? "nginx " nv : $1
        held = $4 < $3 ? $4 : $3
        per = $6 == 0 ? "proxy died" : held > 0 ? commas(($6 - $5) * 1024 / held) " B" : "n/a"
        printf "| %s | %s of %s | %.1f MiB | %.1f MiB | %s | %s |\n", name, commas(held), commas($2), $5 / 1024, $6 / 1024, per, $7
      }' "$IDLE"
    echo
  fi
}

publish_report proxy md
[[ -s $IDLE ]] && cp "$IDLE" "$SAVED-idle.tsv"
STATUS=ok
