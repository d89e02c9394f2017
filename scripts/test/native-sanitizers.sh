#!/usr/bin/env bash
# Runs the test suite against an AddressSanitizer + UndefinedBehaviorSanitizer build of the addon.
#   scripts/test/native-sanitizers.sh [mocha spec...]     (default: every test file)
# Builds the instrumented addon into build-asan/ (g++, the same flags as the normal build plus the
# sanitizers; ccache makes rebuilds cheap), then runs mocha with the sanitizer runtime preloaded
# into node (libtorch itself is not instrumented: what is checked is the addon's own code and every
# access it makes). Child processes the tests start (the CLI, worker-thread scenarios) inherit the
# preload and the addon path. Any sanitizer report aborts the process it happens in, which fails
# the test; the summary line gives the time taken and the suite's result.
# Leak detection is off for node (V8 and libtorch keep their allocations until exit by design); the
# checkpoint-reader fuzzers (scripts/test/fuzz-checkpoints.sh) run with it on.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)

jobs="${DAS_BUILD_JOBS:-2}"
# cmake-js sets CMAKE_CXX_FLAGS itself: the sanitizers go into the Release flags (which drop -DNDEBUG:
# the asserts check too)
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
echo "== building the addon with AddressSanitizer + UBSan into build-asan/ ($jobs jobs)"
CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1 nice node node_modules/cmake-js/bin/cmake-js compile --out build-asan --parallel "$jobs" \
  --CDCMAKE_CXX_FLAGS_RELEASE="$flags" --CDCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
built=$(date +%s)
npx tsc -p tsconfig.json

runtime="$(g++ -print-file-name=libasan.so)"
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=('dist/test/**/*.test.js')
echo "== mocha ${specs[*]} with $runtime preloaded"
status=0
LD_PRELOAD="$runtime" \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:detect_odr_violation=0:allocator_may_return_null=1:${ASAN_OPTIONS:-}" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}" \
  DAS_ADDON_PATH="$PWD/build-asan/Release/das_torch.node" \
  npx mocha --no-config --timeout 600000 --reporter ./scripts/test/summary-reporter.cjs "${specs[@]}" || status=$?
end=$(date +%s)
echo "native sanitizers: build $((built - start)) s, tests $((end - built)) s, exit status $status"
exit "$status"
