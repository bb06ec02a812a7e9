#!/usr/bin/env bash
# Builds corral and runs it on the demo config (deploy/demo/corral.yaml): corral forks two copies
# of the demo app and fronts them on http://127.0.0.1:8080. Ctrl-C stops everything.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
deploy/scripts/install-deps.sh test
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build corral
echo "demo: try  curl http://127.0.0.1:8080/  and  build/corral status -c deploy/demo/corral.yaml"
exec build/corral run -c deploy/demo/corral.yaml
