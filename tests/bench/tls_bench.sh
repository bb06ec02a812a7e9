#!/usr/bin/env bash
# Side-by-side TLS termination benchmark: corral vs HAProxy vs nginx, each a one-thread proxy
# terminating TLS (one certificate, RSA 2048 by default; OpenSSL's defaults: TLS 1.3 with X25519) in front
# of the same two nginx backends (`return 200 "ok"`, plain HTTP), in one interleaved invocation:
#   - new TLS connections/s, full handshakes: ab over https (a new SSL object, so no session to
#     resume, for every connection; ab is not keep-alive without -k);
#   - new TLS connections/s as wrk makes them with `Connection: close` (wrk keeps its SSL object
#     across reconnects, so it may resume: compare with the row above);
#   - keep-alive HTTPS requests/s: wrk over long-lived TLS connections;
#   - HTTP/2 requests/s: h2load over TLS (ALPN h2), H2_CONNS connections x H2_STREAMS streams;
#   - RSS per idle TLS connection: N TLS connections, one request each, then idle.
# Same method as proxy_bench.sh (pinning, interleaving, medians); see tests/bench/README.md.
#
#   tests/bench/tls_bench.sh                 # 3 rounds x 8 s, 2,000 idle TLS connections
#   QUICK=1 tests/bench/tls_bench.sh         # smoke run: 1 round x 3 s
#
# Knobs (environment):
#   ROUNDS=3  DURATION=8  WARMUP=2   as in proxy_bench.sh
#   HANDSHAKE_CONNS=32               wrk connections for the handshake rate
#   KEEPALIVE_CONNS=64               wrk connections for keep-alive requests
#   H2_CONNS=8 H2_STREAMS=16         h2load connections and concurrent streams per connection
#   IDLE_CONNS=2000                  idle TLS connections for the memory figure (0 skips it)
#   CERT_KEY=rsa:2048                the certificate's key (openssl req -newkey), e.g. ec for P-256:
#                                    with ECDSA the client's signature check costs more than the
#                                    server's signing, so on two cores the load generator, not the
#                                    proxy, limits the full-handshake rate
#   PROXIES="corral haproxy nginx"   which proxies to run
#   PERF=1                           also CPU per connection or request: perf stat -e task-clock
#                                    on each proxy's process tree during every recorded run
#   CORRAL=path  SERVER_CPU=0 CLIENT_CPU=1  SAVE=dir  KEEP=1   as in proxy_bench.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$HERE/lib.sh"
bench_help "$@"

bench_knobs 3
HANDSHAKE_CONNS=${HANDSHAKE_CONNS:-32}
KEEPALIVE_CONNS=${KEEPALIVE_CONNS:-64}
IDLE_CONNS=${IDLE_CONNS:-2000}
H2_CONNS=${H2_CONNS:-8}
H2_STREAMS=${H2_STREAMS:-16}
PROXIES=${PROXIES:-"corral haproxy nginx"}
PERF=${PERF:-0}

need_tools "apt-get install wrk apache2-utils util-linux curl iproute2 nodejs openssl nghttp2-client" wrk ab taskset curl ss node awk openssl h2load
command -v nginx >/dev/null || die "nginx is required (apt-get install nginx-light)"
[[ $IDLE_CONNS =~ ^[0-9]+$ ]] || die "IDLE_CONNS must be a number"
[[ $PERF != 1 ]] || need_tools "apt-get install linux-perf" perf

bench_init
raise_nofile
if pin_cpus; then
  PIN_NOTE="backends + proxy on core $SERVER_CPU, wrk -t1 and the idle client on core $CLIENT_CPU"
else
  PIN_NOTE="only one CPU: servers and load generator share core 0"
fi
PROXY_MAXCONN=$((IDLE_CONNS + KEEPALIVE_CONNS + HANDSHAKE_CONNS + 256))

tree_rss_kb() {
  local total=0 p kb
  for p in "$1" $(descendants "$1"); do
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# ---------------------------------------------------------------------------------------------
# The certificate every proxy serves.
CERT_KEY=${CERT_KEY:-rsa:2048}
key_opts=(-newkey "$CERT_KEY")
[[ $CERT_KEY == ec ]] && key_opts+=(-pkeyopt ec_paramgen_curve:prime256v1)
openssl req -x509 "${key_opts[@]}" -nodes -days 2 \
  -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$TMP/site.key" -out "$TMP/site.crt" 2>"$TMP/openssl.log" || die "openssl failed: $(cat "$TMP/openssl.log")"
cat "$TMP/site.crt" "$TMP/site.key" >"$TMP/site.pem"   # HAProxy's crt: both in one file

nginx_common() {
  cat <<EOF
worker_processes 1;
worker_rlimit_nofile $HARD_NOFILE;
daemon off;
master_process on;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections $((PROXY_MAXCONN * 2 + 1024)); }
EOF
}

start_backend() {  # NAME PORT
  local dir=$TMP/$1
  mkdir -p "$dir"
  { nginx_common "$dir"; cat <<EOF
http {
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$2 backlog=4096; location / { return 200 "ok"; } }
}
EOF
  } >"$dir/nginx.conf"
  start_bg "$dir/stderr.log" "${SRV[@]}" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf"
}

start_corral() {  # PORT
  local dir=$TMP/corral-$1
  mkdir -p "$dir"
  free_port
  cat >"$dir/corral.yaml" <<EOF
listen:
  - { address: "127.0.0.1:$1", tls: { cert: "$TMP/site.crt", key: "$TMP/site.key" } }
threads: 1
admin: 127.0.0.1:$PORT
upstreams: [127.0.0.1:$B1_PORT, 127.0.0.1:$B2_PORT]
access_log: off
timeouts: { idle: 300s, drain: 5s }
limits: { max_connections: $PROXY_MAXCONN }
EOF
  start_bg "$dir/stderr.log" "${SRV[@]}" "$CORRAL" run -c "$dir/corral.yaml"
  PROXY_LOG=$dir/stderr.log
}

start_haproxy() {  # PORT
  local dir=$TMP/haproxy-$1
  mkdir -p "$dir"
  {
    haproxy_head "$PROXY_MAXCONN" "    no strict-limits"
    cat <<EOF
frontend fe
    bind 127.0.0.1:$1 ssl crt $TMP/site.pem alpn h2,http/1.1
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

start_nginx_proxy() {  # PORT
  local dir=$TMP/nginx-proxy-$1
  mkdir -p "$dir"
  { nginx_common "$dir"; cat <<EOF
http {
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  upstream backends {
    server 127.0.0.1:$B1_PORT;
    server 127.0.0.1:$B2_PORT;
    keepalive 128;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$1 ssl http2 backlog=4096;
    ssl_certificate $TMP/site.crt;
    ssl_certificate_key $TMP/site.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { proxy_pass http://backends; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
  } >"$dir/nginx.conf"
  start_bg "$dir/stderr.log" "${SRV[@]}" nginx -p "$dir/" -e "$dir/error.log" -c "$dir/nginx.conf"
  PROXY_LOG=$dir/stderr.log
}

# wait_https NAME PID PORT LOG: until it answers 200 "ok" over TLS (20 s at most)
wait_https() {
  local i body
  for ((i = 0; i < 200; i++)); do
    kill -0 "$2" 2>/dev/null || { log "tls_bench: $1 exited; log:"; tail -n 20 "$4" >&2; return 1; }
    body=$(curl -sk --max-time 1 "https://127.0.0.1:$3/" 2>/dev/null || true)
    [[ $body == ok ]] && return 0
    sleep 0.1
  done
  log "tls_bench: $1 not serving https on :$3; log:"
  tail -n 20 "$4" >&2
  return 1
}

start_proxy() {  # NAME: sets PROXY_PID, PROXY_PORT
  free_port
  PROXY_PORT=$PORT
  case $1 in
    corral) start_corral "$PROXY_PORT" ;;
    haproxy) start_haproxy "$PROXY_PORT" ;;
    nginx) start_nginx_proxy "$PROXY_PORT" ;;
  esac
  PROXY_PID=$LAST_PID
  wait_https "$1" "$PROXY_PID" "$PROXY_PORT" "$PROXY_LOG"
}

HAPROXY_VERSION=$(haproxy -v 2>/dev/null | sed -n '1s/^HAProxy version \([0-9.]*\).*/\1/p' || echo none)
NGINX_VERSION=$(nginx -v 2>&1 | sed -n 's/.*nginx\/\([^ ]*\).*/\1/p')
OPENSSL_VERSION=$(openssl version | awk '{print $2}')
CORRAL_VERSION=$("$CORRAL" version 2>&1 | head -n 1 || echo unknown)

RESULTS=$TMP/results.tsv   # test target round value cpu_us_per_connection_or_request
: >"$RESULTS"
log "tls_bench: rounds=$ROUNDS duration=${DURATION}s handshake c=$HANDSHAKE_CONNS keep-alive c=$KEEPALIVE_CONNS idle=$IDLE_CONNS"
log "tls_bench: $PIN_NOTE; temporary files in $TMP"
LOAD_BEFORE=$(load_avg)

start_two_backends

TARGETS=()
declare -A PORT_OF PID_OF
for name in $PROXIES; do
  case $name in
    corral) [[ -x $CORRAL ]] || { log "tls_bench: no corral at $CORRAL, skipping it"; continue; } ;;
    haproxy) command -v haproxy >/dev/null || { log "tls_bench: haproxy not installed, skipping it"; continue; } ;;
    nginx) ;;
    *) die "unknown proxy '$name'" ;;
  esac
  start_proxy "$name"
  PORT_OF[$name]=$PROXY_PORT
  PID_OF[$name]=$PROXY_PID
  TARGETS+=("$name")
done
((${#TARGETS[@]})) || die "no proxy to benchmark"
export WRK_SCHEME=https

# run_ab PORT CONNS SECONDS OUTFILE: ab without keep-alive over https (bounded in time)
run_ab() {
  timeout $(($3 + 60)) ${CLI[@]+"${CLI[@]}"} ab -q -r -t "$3" -n 100000000 -c "$2" \
    "https://127.0.0.1:$1/" >"$4" 2>&1 || true
}

# run_h2load PORT SECONDS OUTFILE: HTTP/2 over TLS, H2_CONNS x H2_STREAMS
run_h2load() {
  timeout $(($2 + 60)) ${CLI[@]+"${CLI[@]}"} h2load -D "$2" -c "$H2_CONNS" -m "$H2_STREAMS" \
    "https://127.0.0.1:$1/" >"$3" 2>&1 || true
}

bench_run() {  # ROUND TARGET, for $test with $c connections and $opts
  local r=$1 t=$2 out rps done_n cpu=NA perf_out=
  out=$TMP/$test-$t-r$r.txt
  if [[ $PERF == 1 ]]; then
    perf_out=$TMP/perf-$test-$t-r$r.txt
    perf_attach "${PID_OF[$t]}" "$DURATION" "$perf_out"
  fi
  if [[ $test == h2 ]]; then
    run_h2load "${PORT_OF[$t]}" "$DURATION" "$out"
    rps=$(awk '/^finished in/ {print $4}' "$out")
    done_n=$(awk '/^requests:/ {print $8}' "$out")
    grep -q ' 0 errored' "$out" || rps=NA
    [[ -n $rps ]] || rps=NA
  elif [[ $test == full ]]; then
    run_ab "${PORT_OF[$t]}" "$c" "$DURATION" "$out"
    rps=$(awk '/^Requests per second:/ {print $4}' "$out")
    done_n=$(awk '/^Complete requests:/ {print $3}' "$out")
    [[ -n $rps ]] || rps=NA
  else
    run_wrk "${PORT_OF[$t]}" "$c" "$DURATION" "$out" ${opts[@]+"${opts[@]}"}
    read -r rps _ < <(parse_wrk "$out")
    done_n=$(awk '/ requests in / {print $1}' "$out")
  fi
  if [[ -n $perf_out ]]; then
    wait "$PERF_PID" || true
    [[ $rps == NA ]] || cpu=$(perf_us_per "$perf_out" "$done_n")
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$test" "$t" "$r" "$rps" "$cpu" >>"$RESULTS"
  log "$(printf '%-10s round %d/%d  %-8s %10s req/s  CPU %s us each' "$test" "$r" "$ROUNDS" "$t" "$rps" "$cpu")"
  [[ $rps != NA ]] || tail -n 5 "$out" >&2 || true
}

for test in full handshake keepalive h2; do
  if [[ $test == keepalive ]]; then c=$KEEPALIVE_CONNS; opts=(); else c=$HANDSHAKE_CONNS; opts=(-H "Connection: close"); fi
  if ((WARMUP > 0)); then
    for t in "${TARGETS[@]}"; do
      if [[ $test == h2 ]]; then run_h2load "${PORT_OF[$t]}" "$WARMUP" "$TMP/warmup-$test-$t.txt"
      elif [[ $test == full ]]; then run_ab "${PORT_OF[$t]}" "$c" "$WARMUP" "$TMP/warmup-$test-$t.txt"
      else run_wrk "${PORT_OF[$t]}" "$c" "$WARMUP" "$TMP/warmup-$test-$t.txt" ${opts[@]+"${opts[@]}"}; fi
    done
  fi
  interleave bench_run "${TARGETS[@]}"
done
for t in "${TARGETS[@]}"; do stop_pid "${PID_OF[$t]}" 15; done

# Idle TLS connections: RSS of the proxy's process tree before and after.
IDLE=$TMP/idle.tsv   # target conns held rss_before rss_after
: >"$IDLE"
if ((IDLE_CONNS > 0)); then
  for t in "${TARGETS[@]}"; do
    start_proxy "$t"
    "${CLI[@]}" wrk -t1 -c4 -d1s "https://127.0.0.1:$PROXY_PORT/" >/dev/null 2>&1 || true
    sleep 1
    before=$(tree_rss_kb "$PROXY_PID")
    ilog=$TMP/idle-$t.log
    start_bg "$ilog" "${CLI[@]}" node "$HERE/idle_conns.js" --tls --port "$PROXY_PORT" --conns "$IDLE_CONNS" --parallel 50
    ipid=$LAST_PID
    for ((i = 0; i < 1800; i++)); do
      grep -q '^ready ' "$ilog" 2>/dev/null && break
      kill -0 "$ipid" 2>/dev/null || break
      sleep 0.1
    done
    sleep 2
    after=$(tree_rss_kb "$PROXY_PID")
    stop_pid "$ipid" 10
    ok=$(sed -n 's/^ready .*"ok":\([0-9]*\).*/\1/p' "$ilog")
    open=$(sed -n 's/^done .*"open":\([0-9]*\).*/\1/p' "$ilog")
    log "tls_bench: idle $t: $(sed -n 's/^ready //p' "$ilog")"
    held=${ok:-0}
    [[ -n $open && $open -lt $held ]] && held=$open
    printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$IDLE_CONNS" "$held" "$before" "$after" >>"$IDLE"
    stop_pid "$PROXY_PID" 15
  done
fi
LOAD_AFTER=$(load_avg)

report() {
  echo "## tls_bench $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- machine: $(machine_desc)"
  echo "- load average before / after: $LOAD_BEFORE / $LOAD_AFTER"
  echo "- pinning: $PIN_NOTE"
  echo "- $ROUNDS interleaved round(s) x ${DURATION}s per proxy and test, ${WARMUP}s warm-up each; one thread/worker per proxy"
  echo "- TLS: one certificate (key $CERT_KEY), OpenSSL $OPENSSL_VERSION defaults (TLS 1.3, X25519); backends plain HTTP nginx $NGINX_VERSION"
  echo "- full handshakes: ab -c$HANDSHAKE_CONNS over https (a new connection and SSL object per request); wrk reconnects: wrk -c$HANDSHAKE_CONNS -H 'Connection: close'; keep-alive: wrk -c$KEEPALIVE_CONNS; HTTP/2: h2load -c$H2_CONNS -m$H2_STREAMS (ALPN h2)"
  echo "- corral: $CORRAL_VERSION; HAProxy $HAPROXY_VERSION; nginx $NGINX_VERSION"
  echo
  echo "| test | corral | HAProxy | nginx | corral / HAProxy | corral / nginx |"
  echo "|---|---|---|---|---|---|"
  awk -F'\t' "$AWK_STATS"'
    $4 != "NA" { k = ++cnt[$1, $2]; val[$1, $2, k] = $4 }
    function med(t, p,   a, i, n) { n = cnt[t, p]; if (!n) return 0; for (i = 1; i <= n; i++) a[i] = val[t, p, i]; return median(a, n) }
    function cell(t, p,   m) { m = med(t, p); return m ? commas(m) : "n/a" }
    END {
      split("full handshake keepalive h2", T, " ")
      for (i = 1; i <= 4; i++) {
        t = T[i]
        printf "| %s | %s | %s | %s | %s | %s |\n", t == "full" ? "new connections/s, full handshakes (ab)" : t == "handshake" ? "new connections/s, wrk Connection: close" : t == "h2" ? "HTTP/2 requests/s over TLS (h2load)" : "keep-alive HTTPS requests/s (wrk)",
          cell(t, "corral"), cell(t, "haproxy"), cell(t, "nginx"), times(med(t, "corral"), med(t, "haproxy")), times(med(t, "corral"), med(t, "nginx"))
      }
    }' "$RESULTS"
  if [[ $PERF == 1 ]]; then
    echo
    echo "CPU per connection (handshake rows) or request (perf stat task-clock of the proxy's process tree over a recorded run / what the client counted; median of the rounds):"
    echo
    echo "| test | corral µs | HAProxy µs | nginx µs | corral / HAProxy |"
    echo "|---|---|---|---|---|"
    awk -F'\t' "$AWK_STATS"'
      $5 != "NA" && $5 != "" { k = ++cnt[$1, $2]; val[$1, $2, k] = $5 }
      function med(t, p,   a, i, n) { n = cnt[t, p]; if (!n) return 0; for (i = 1; i <= n; i++) a[i] = val[t, p, i]; return median(a, n) }
      function cell(t, p,   m) { m = med(t, p); return m ? sprintf("%.1f", m) : "n/a" }
      END {
        split("full handshake keepalive h2", T, " ")
        for (i = 1; i <= 4; i++) {
          t = T[i]
          printf "| %s | %s | %s | %s | %s |\n", t, cell(t, "corral"), cell(t, "haproxy"), cell(t, "nginx"), times(med(t, "corral"), med(t, "haproxy"))
        }
      }' "$RESULTS"
  fi
  if [[ -s $IDLE ]]; then
    echo
    echo "Idle TLS connections ($IDLE_CONNS asked, one request each, then idle); RSS of the proxy's process tree:"
    echo
    echo "| proxy | held | RSS before | RSS after | per connection |"
    echo "|---|---|---|---|---|"
    awk -F'\t' "$AWK_STATS"'{
      per = $3 > 0 ? commas(($5 - $4) * 1024 / $3) " B" : "n/a"
      printf "| %s | %s | %.1f MiB | %.1f MiB | %s |\n", $1, commas($3), $4 / 1024, $5 / 1024, per
    }' "$IDLE"
  fi
}

publish_report tls md
[[ -s $IDLE ]] && cp "$IDLE" "$SAVED-idle.tsv"
STATUS=ok
