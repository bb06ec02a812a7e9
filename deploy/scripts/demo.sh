#!/usr/bin/env bash
# Builds corral and runs it on the demo config (deploy/demo/corral.yaml) in front of the demo
# app. Ctrl-C stops everything it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
deploy/scripts/install-deps.sh test
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCORRAL_TESTS=OFF >/dev/null
ninja -C build corral
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM
for port in 3000 3001; do PORT=$port node deploy/demo/server.js & pids+=($!); done
echo "demo: try  curl http://127.0.0.1:8080/  and  curl http://127.0.0.1:9901/metrics"
build/corral run -c deploy/demo/corral.yaml
