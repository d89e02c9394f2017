#!/usr/bin/env bash
# Coverage-guided fuzzing of the checkpoint readers with libFuzzer (Debian's clang), under
# AddressSanitizer + UBSan, for a fixed budget per target:
#   scripts/test/fuzz-checkpoints.sh [seconds per target, default 300]
#   checkpoint_fuzzer  whole files through ReadCheckpoint (safetensors, torch.save zip and legacy,
#                      the unpickler, storage reads and tensor views, with libtorch)
#   pickle_fuzzer      pickles wrapped in a well-formed torch.save archive (the unpickler and index)
# Seeds: the real torch.save / safetensors fixtures (test/fixtures/torch_checkpoints.py, needs
# python3-torch) and their pickles. The corpus grows in $DAS_FUZZ_DIR (default .cache/fuzz), so a
# later run goes on from it; inputs that crash, leak, hang or allocate too much are kept in
# $DAS_FUZZ_DIR/findings/<date>. Needs: apt-get install clang libclang-rt-14-dev
set -euo pipefail
cd "$(dirname "$0")/../.."
budget="${1:-300}"
work="${DAS_FUZZ_DIR:-$PWD/.cache/fuzz}"
findings="$work/findings/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$work/bin" "$findings" "$work/corpus/checkpoint" "$work/corpus/pickle" "$work/seeds/checkpoint" "$work/seeds/pickle"
clang="${CLANGXX:-clang++}"
command -v "$clang" >/dev/null || { echo "fuzz-checkpoints: $clang not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

# libtorch as the addon's build finds it
torch_json="$(node scripts/find-libtorch.mjs --json)"
field() { node -e "const t = JSON.parse(process.argv[1]); const v = t[process.argv[2]]; console.log(Array.isArray(v) ? v.join(' ') : v)" "$torch_json" "$1"; }
torch_includes=""
# (the compiler's own /usr/include must stay last in the search order, or libstdc++'s include_next breaks)
for dir in $(field includeDirs); do [ "$dir" = /usr/include ] || torch_includes+=" -isystem $dir"; done
torch_lib="$(field libDir)"
abi=$([ "$(field cxx11Abi)" = true ] && echo 1 || echo 0)

flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
  -D_GLIBCXX_USE_CXX11_ABI="$abi" -Inative -Itest/native/fuzz)
readers=(native/checkpoint/{binary_file,dtype,safetensors,zip_archive,pickle_value,pickle_globals,pickle_reader,torch_save}.cc)
echo "== building the fuzzers with $clang"
nice "$clang" "${flags[@]}" "${readers[@]}" test/native/fuzz/pickle_fuzzer.cc -o "$work/bin/pickle_fuzzer"
# shellcheck disable=SC2086
nice "$clang" "${flags[@]}" $torch_includes "${readers[@]}" native/checkpoint/checkpoint.cc test/native/fuzz/checkpoint_fuzzer.cc \
  -L"$torch_lib" -Wl,-rpath,"$torch_lib" -ltorch -ltorch_cpu -lc10 -o "$work/bin/checkpoint_fuzzer"

echo "== seeds from real torch.save / safetensors files"
fixtures="$work/seeds/fixtures"
rm -rf "$fixtures"
"${DAS_PYTHON:-/usr/bin/python3}" test/fixtures/torch_checkpoints.py make "$fixtures" >/dev/null
find "$fixtures" -maxdepth 1 -type f ! -name '*.expected.*' -size -4M -exec cp {} "$work/seeds/checkpoint/" \;
"${DAS_PYTHON:-/usr/bin/python3}" - "$work/seeds/checkpoint" "$work/seeds/pickle" <<'PY'
import os, sys, zipfile
source, target = sys.argv[1], sys.argv[2]
for name in os.listdir(source):
    path = os.path.join(source, name)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for record in archive.namelist():
                if record.endswith("/data.pkl"):
                    with open(os.path.join(target, name + ".pkl"), "wb") as out:
                        out.write(archive.read(record))
PY

run() {
  local target="$1"
  local log="$work/$target.log"
  echo "== $target for $budget s"
  ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0:${ASAN_OPTIONS:-}" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    nice -n 19 "$work/bin/${target}_fuzzer" -max_total_time="$budget" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=1024 -max_len=1048576 -dict=test/native/fuzz/checkpoint.dict -artifact_prefix="$findings/$target-" \
    -close_fd_mask=1 "$work/corpus/$target" "$work/seeds/$target" >"$log" 2>&1 || true
  local execs corpus found
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  corpus="$(find "$work/corpus/$target" -type f | wc -l)"
  found="$(find "$findings" -name "$target-*" -type f | wc -l)"
  printf '%-12s execs %-10s corpus %-6s findings %s   (log: %s)\n' "$target" "${execs:-?}" "$corpus" "$found" "$log"
  [ "$found" = 0 ] || { grep -m5 -E "ERROR|SUMMARY|terminate|leak" "$log" || true; return 1; }
}

status=0
run checkpoint || status=1
run pickle || status=1
exit "$status"
