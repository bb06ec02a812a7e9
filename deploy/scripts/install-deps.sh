#!/usr/bin/env bash
# Installs what corral needs to build, test and benchmark on Debian 12, by package name.
# Idempotent: installs only what is missing. Run as root (or with sudo available).
set -euo pipefail
build=(cmake ninja-build g++ pkg-config libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
       libssl-dev libyaml-cpp-dev libhiredis-dev libnghttp2-dev libspdlog-dev libfmt-dev libcli11-dev libmimalloc-dev)
# kubernetes-client: kubectl, whose `kubectl kustomize` renders deploy/kubernetes/ in the tests.
test=(libgtest-dev libgmock-dev nodejs redis-server curl openssl chromium kubernetes-client
      nghttp2-client)
bench=(wrk apache2-utils haproxy nginx-light)
want=("${build[@]}")
case "${1:-build}" in
  build) ;;
  test) want+=("${test[@]}") ;;
  bench) want+=("${test[@]}" "${bench[@]}") ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
  if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
  # Any kubectl will do (a newer one from Kubernetes' own packages, too).
  if [ "$p" = kubernetes-client ] && command -v kubectl >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  echo "installing: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
