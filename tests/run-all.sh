#!/usr/bin/env bash
# Builds corral and runs the whole test suite: the unit and integration tests against a build
# under AddressSanitizer + UndefinedBehaviorSanitizer (reported; SANITIZE=0 skips it,
# SANITIZE_STRICT=1 makes its failures fatal), then every test in the release build, whose result
# is the suite's result.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
deploy/scripts/install-deps.sh test
# Installed just above: a Redis test that cannot find redis-server or openssl fails, never skips.
export CORRAL_REQUIRE_REDIS=1
jobs=$(nproc)
# A compiler cache when the machine has one (not installed by this script): rebuilds of another
# checkout of the same sources hit it, as paths are taken relative to the checkout.
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
fi

# Each phase's wall time, so a slow run shows where it went.
phase() { echo "== run-all: $1 (${SECONDS}s since the start)"; }
phase "release build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
ninja -C build -j"$jobs"

if [ "${SANITIZE:-1}" = 1 ]; then
  # What runs under the sanitizers is corral's own code: the binary (every integration test starts
  # it, so those tests run from the release build against the instrumented binary) and the unit
  # tests, which link the library. -O0: the instrumented build compiles in about 55 % of -O1's
  # time, which is more than the tests lose running slower; NDEBUG as in release (Beast 1.81
  # asserts on a valid split chunk terminator). The GiB streams shrink to 128 MiB and the bound
  # on corral's RSS while relaying them grows to 512 MiB (freed memory waits in ASan's
  # quarantine), and so does the bound per idle connection (1 MiB): the release run checks the
  # memory bounds. The load tests measure throughput, which a sanitizer build cannot show.
  phase "sanitizer build"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORRAL_SANITIZE=ON "${launcher[@]}" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O0 -g1 -DNDEBUG" >/dev/null
  ninja -C build-asan -j"$jobs" corral corral_unit_tests
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
  sanitized=0
  phase "unit tests under the sanitizers"
  timeout 600 ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 300 -L unit \
    -E '^RequestAllocations' || sanitized=1
  phase "integration tests against the sanitized binary"
  CORRAL_TEST_BINARY="$root/build-asan/corral" CORRAL_IT_BIG_BYTES=134217728 CORRAL_IT_RSS_LIMIT_MIB=512 \
    CORRAL_IT_IDLE_TLS_BYTES=1048576 CORRAL_IT_IDLE_BYTES=1048576 \
    timeout 1200 ctest --test-dir build --output-on-failure -j"$jobs" --timeout 300 -L integration \
    || sanitized=1
  unset ASAN_OPTIONS UBSAN_OPTIONS
  if [ "$sanitized" = 1 ]; then
    echo "sanitizer pass: the failures above need a look"
    [ "${SANITIZE_STRICT:-0}" = 1 ] && exit 1
  fi
fi

phase "the release suite"
status=0
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 300 || status=$?
phase "done"
exit "$status"
