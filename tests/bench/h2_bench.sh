#!/usr/bin/env bash
# HTTP/2 requests/s over h2c (prior knowledge, no TLS): corral (`h2c: true`) vs HAProxy
# (`bind ... proto h2`), each a one-thread proxy in front of the same two nginx backends
# (`return 200 "ok"`, plain HTTP/1.1), h2load H2_CONNS connections x H2_STREAMS streams, rounds
# interleaved. Without TLS the figure is the HTTP/2 path's own cost: framing, the stream's way
# through the request path, the upstream exchange. tls_bench.sh gives the same over TLS.
# Same method as proxy_bench.sh (pinning, interleaving, medians); see tests/bench/README.md.
#
#   tests/bench/h2_bench.sh                  # 3 rounds x 8 s
#   QUICK=1 tests/bench/h2_bench.sh          # smoke run: 1 round x 3 s
#   BASELINE=/path/to/old/corral tests/bench/h2_bench.sh   # also an older corral, interleaved
#
# Knobs (environment):
#   ROUNDS=3  DURATION=8  WARMUP=2   as in proxy_bench.sh
#   H2_CONNS=8 H2_STREAMS=16         h2load connections and concurrent streams per connection
#   PROXIES="corral haproxy"         which proxies to run (plus "baseline" when BASELINE is set)
#   BASELINE=path                    a second corral binary, reported as "baseline"
#   PERF=1                           also CPU per request: perf stat -e task-clock on each proxy
#                                    during each recorded run, divided by the requests h2load made
#   CORRAL=path  SERVER_CPU=0 CLIENT_CPU=1  SAVE=dir  KEEP=1   as in proxy_bench.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"
bench_help "$@"

bench_knobs 3
H2_CONNS=${H2_CONNS:-8}
H2_STREAMS=${H2_STREAMS:-16}
PROXIES=${PROXIES:-"corral haproxy"}
BASELINE=${BASELINE:-}
PERF=${PERF:-0}

need_tools "apt-get install nghttp2-client util-linux curl iproute2 nginx-light haproxy" h2load taskset curl ss nginx
[[ $PERF != 1 ]] || need_tools "apt-get install linux-perf" perf
[[ -z $BASELINE ]] || PROXIES="$PROXIES baseline"

bench_init
raise_nofile
if pin_cpus; then
  PIN_NOTE="backends + proxy on core $SERVER_CPU, h2load on core $CLIENT_CPU"
else
  PIN_NOTE="only one CPU: servers and load generator share core 0"
fi
build_corral_if_missing
corral_build_info "$CORRAL" || true

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
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$2 backlog=4096; location / { return 200 "ok"; } }
}
EOF
  start_bg "$dir/stderr.log" "${SRV[@]}" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf"
}

start_corral() {  # PORT BINARY
  local dir=$TMP/corral-$1
  mkdir -p "$dir"
  free_port
  cat >"$dir/corral.yaml" <<EOF
listen:
  - { address: "127.0.0.1:$1", h2c: true }
threads: 1
admin: 127.0.0.1:$PORT
upstreams: [127.0.0.1:$B1_PORT, 127.0.0.1:$B2_PORT]
access_log: off
timeouts: { idle: 300s, drain: 5s }
EOF
  start_bg "$dir/stderr.log" "${SRV[@]}" "$2" run -c "$dir/corral.yaml"
  PROXY_LOG=$dir/stderr.log
}

start_haproxy() {  # PORT
  local dir=$TMP/haproxy-$1
  mkdir -p "$dir"
  {
    haproxy_head 4096
    cat <<EOF
frontend fe
    bind 127.0.0.1:$1 proto h2
    default_backend be
backend be
    balance roundrobin
    server b1 127.0.0.1:$B1_PORT
    server b2 127.0.0.1:$B2_PORT
EOF
  } >"$dir/haproxy.cfg"
  start_bg "$dir/stderr.log" "${SRV[@]}" haproxy -db -f "$dir/haproxy.cfg"
  PROXY_LOG=$dir/stderr.log
}

# wait_h2c NAME PID PORT LOG: until it answers 200 "ok" over h2c (20 s at most)
wait_h2c() {
  local i body
  for ((i = 0; i < 200; i++)); do
    kill -0 "$2" 2>/dev/null || { log "$BENCH: $1 exited; log:"; tail -n 20 "$4" >&2; return 1; }
    body=$(curl -s --http2-prior-knowledge --max-time 1 "http://127.0.0.1:$3/" 2>/dev/null || true)
    [[ $body == ok ]] && return 0
    sleep 0.1
  done
  log "$BENCH: $1 not serving h2c on :$3; log:"
  tail -n 20 "$4" >&2
  return 1
}

HAPROXY_VERSION=$(haproxy -v 2>/dev/null | sed -n '1s/^HAProxy version \([0-9.]*\).*/\1/p' || echo none)
CORRAL_VERSION=$("$CORRAL" version 2>&1 | head -n 1 || echo unknown)
RESULTS=$TMP/results.tsv   # test target round rps cpu_us_per_request
: >"$RESULTS"
log "$BENCH: rounds=$ROUNDS duration=${DURATION}s h2load -c$H2_CONNS -m$H2_STREAMS; $PIN_NOTE; temporary files in $TMP"
LOAD_BEFORE=$(load_avg)

start_two_backends

TARGETS=()
declare -A PORT_OF PID_OF
for name in $PROXIES; do
  free_port
  port=$PORT   # start_corral takes another port (the admin's)
  case $name in
    corral) [[ -x $CORRAL ]] || { log "$BENCH: no corral at $CORRAL, skipping it"; continue; }
            start_corral "$port" "$CORRAL" ;;
    baseline) [[ -x $BASELINE ]] || die "no corral at BASELINE=$BASELINE"
              start_corral "$port" "$BASELINE" ;;
    haproxy) command -v haproxy >/dev/null || { log "$BENCH: haproxy not installed, skipping it"; continue; }
             start_haproxy "$port" ;;
    *) die "unknown proxy '$name'" ;;
  esac
  PORT_OF[$name]=$port
  PID_OF[$name]=$LAST_PID
  wait_h2c "$name" "$LAST_PID" "$port" "$PROXY_LOG"
  TARGETS+=("$name")
done
((${#TARGETS[@]})) || die "no proxy to benchmark"

# run_h2load PORT SECONDS OUTFILE: h2c with prior knowledge, H2_CONNS x H2_STREAMS
run_h2load() {
  timeout $(($2 + 60)) ${CLI[@]+"${CLI[@]}"} h2load -D "$2" -c "$H2_CONNS" -m "$H2_STREAMS" \
    "http://127.0.0.1:$1/" >"$3" 2>&1 || true
}

bench_run() {  # ROUND TARGET
  local r=$1 t=$2 out rps cpu=NA perf_out='' perf_pid='' done_reqs pids
  out=$TMP/h2c-$t-r$r.txt
  if [[ $PERF == 1 ]]; then
    perf_out=$TMP/perf-$t-r$r.txt
    # shellcheck disable=SC2046
    pids=$(echo "${PID_OF[$t]}" $(descendants "${PID_OF[$t]}") | tr ' ' ,)
    perf stat -e task-clock -x, -p "$pids" -o "$perf_out" -- sleep "$DURATION" &
    perf_pid=$!
  fi
  run_h2load "${PORT_OF[$t]}" "$DURATION" "$out"
  [[ -z $perf_pid ]] || wait "$perf_pid" || true
  rps=$(awk '/^finished in/ {print $4}' "$out")
  grep -q ' 0 errored' "$out" || rps=NA
  [[ -n $rps ]] || rps=NA
  if [[ -n $perf_out && $rps != NA ]]; then
    done_reqs=$(awk '/^requests:/ {print $8}' "$out")
    cpu=$(awk -F, -v n="$done_reqs" '$3 == "task-clock" && n > 0 { printf "%.1f", $1 * 1000 / n }' "$perf_out")
    [[ -n $cpu ]] || cpu=NA
  fi
  printf 'h2c\t%s\t%s\t%s\t%s\n' "$t" "$r" "$rps" "$cpu" >>"$RESULTS"
  log "$(printf 'h2c round %d/%d  %-8s %10s req/s  CPU %s us/request' "$r" "$ROUNDS" "$t" "$rps" "$cpu")"
  [[ $rps != NA ]] || tail -n 5 "$out" >&2 || true
}

if ((WARMUP > 0)); then
  for t in "${TARGETS[@]}"; do run_h2load "${PORT_OF[$t]}" "$WARMUP" "$TMP/warmup-$t.txt"; done
fi
interleave bench_run "${TARGETS[@]}"
for t in "${TARGETS[@]}"; do stop_pid "${PID_OF[$t]}" 15; done
LOAD_AFTER=$(load_avg)

report() {
  echo "## h2_bench $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(machine_desc)"
  echo "- load average before / after: $LOAD_BEFORE / $LOAD_AFTER"
  echo "- pinning: $PIN_NOTE"
  echo "- $ROUNDS interleaved round(s) x ${DURATION}s per proxy, ${WARMUP}s warm-up each; one thread per proxy"
  echo "- h2load -c$H2_CONNS -m$H2_STREAMS over h2c (prior knowledge); backends nginx return 200 \"ok\""
  echo "- corral: $CORRAL_VERSION${BASELINE:+; baseline: $BASELINE}; HAProxy $HAPROXY_VERSION"
  echo
  echo "| proxy | requests/s median (min-max) | CPU µs/request | / HAProxy |"
  echo "|---|---|---|---|"
  awk -F'\t' -v targets="${TARGETS[*]}" "$AWK_STATS"'
    $4 != "NA" { k = ++cnt[$2]; val[$2, k] = $4; if (k == 1 || $4 < lo[$2]) lo[$2] = $4; if ($4 > hi[$2]) hi[$2] = $4 }
    $5 != "NA" { kc = ++ccnt[$2]; cval[$2, kc] = $5 }
    function med(p,   a, i, n) { n = cnt[p]; if (!n) return 0; for (i = 1; i <= n; i++) a[i] = val[p, i]; return median(a, n) }
    function cmed(p,   a, i, n) { n = ccnt[p]; if (!n) return 0; for (i = 1; i <= n; i++) a[i] = cval[p, i]; return median(a, n) }
    END {
      n = split(targets, T, " ")
      for (i = 1; i <= n; i++) {
        p = T[i]; m = med(p); c = cmed(p)
        printf "| %s | %s (%s-%s) | %s | %s |\n", p, m ? commas(m) : "n/a", commas(lo[p]), commas(hi[p]),
          c ? sprintf("%.1f", c) : "n/a", times(m, med("haproxy"))
      }
    }' "$RESULTS"
}

publish_report h2 md
STATUS=ok
