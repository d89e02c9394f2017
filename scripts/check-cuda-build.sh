#!/usr/bin/env bash
# Compiles and links the addon against the CUDA build of libtorch (pip's torch, CUDA 13) on any
# machine, GPU or not, then checks that build: it really links libtorch_cuda, `das doctor` reports
# CUDA (compiled in, with its runtime/cuDNN/NCCL versions, and whether a GPU is visible), a CUDA
# device without a GPU is a clear error, and the native test suite passes on the CPU.
#
#   scripts/check-cuda-build.sh          build + checks + native tests (test/native, test/models)
#   scripts/check-cuda-build.sh --full   build + checks + the whole test suite on the CUDA build
#
# Needs the CUDA toolkit (nvcc and headers: TorchConfig.cmake of a CUDA libtorch looks for them)
# and the wheels scripts/setup-torch2.sh --cuda installs. Exits 3, saying so, when either is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

suite=native
case "${1:-}" in
  '') ;;
  --full) suite=full ;;
  *) echo "check-cuda-build: unknown option '$1' (expected --full)" >&2; exit 2 ;;
esac

venv=.venv/torch2-cuda
build=build-torch2-cuda
addon="$build/Release/das_torch.node"
started=$SECONDS
say() { echo "check-cuda-build: $*"; }

for dir in "${CUDA_HOME:-}" /usr/local/cuda; do
  if [ -n "$dir" ] && [ -x "$dir/bin/nvcc" ]; then export CUDA_HOME="$dir" PATH="$dir/bin:$PATH"; break; fi
done
if ! command -v nvcc >/dev/null; then
  say "SKIPPED: no CUDA toolkit (nvcc) found in CUDA_HOME, /usr/local/cuda or PATH"
  exit 3
fi
say "CUDA toolkit: $(nvcc --version | grep -o 'release [0-9.]*')"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import torch, sys; sys.exit(torch.version.cuda is None)' 2>/dev/null; then
  scripts/setup-torch2.sh --cuda || { status=$?; [ "$status" -eq 3 ] && say "SKIPPED: the CUDA torch wheels are not available"; exit "$status"; }
fi

say "building $addon against $("$venv/bin/python" -c 'import torch; print(f"torch {torch.__version__}, CUDA {torch.version.cuda}")')"
DAS_PYTHON="$PWD/$venv/bin/python" DAS_BUILD_DIR="$build" npm run -s build:native
[ -d dist ] || npm run -s build:ts

fail() { say "FAILED: $*"; exit 1; }
linked=$(ldd "$addon")
for library in libtorch_cuda.so libc10_cuda.so; do
  grep -q "$library => /" <<<"$linked" || fail "$addon does not link $library:"$'\n'"$linked"
done
say "links: $(grep -oE '(libtorch_cuda|libc10_cuda|libcudart)[^ ]* => [^ ]*' <<<"$linked" | tr '\n' ' ')"

export DAS_ADDON_PATH="$addon"
doctor=$(node dist/lib/cli/main.js doctor --json | tail -n 1)
node - "$doctor" <<'EOF' || fail "das doctor does not report the CUDA build correctly"
const report = JSON.parse(process.argv[2]);
const { cuda, torch } = report;
const problems = [];
if (!cuda.built) problems.push('cuda.built is false');
if (!cuda.library.includes('libtorch_cuda')) problems.push(`cuda.library is "${cuda.library}"`);
if (!cuda.runtimeVersion) problems.push('no CUDA runtime version');
if (!cuda.cudnnVersion) problems.push('no cuDNN version');
if (!cuda.ncclVersion) problems.push('no NCCL version');
if (!torch.fusedAttention) problems.push('attention does not use scaled_dot_product_attention');
if (!cuda.available && !report.warnings.some((w) => /CUDA/.test(w))) problems.push('no warning that no GPU is visible');
console.log(`check-cuda-build: doctor: libtorch ${torch.version}, CUDA ${cuda.runtimeVersion}, cuDNN ${cuda.cudnnVersion}, NCCL ${cuda.ncclVersion}, ` +
  (cuda.available ? `${cuda.deviceCount} GPU(s): ${cuda.devices.map((d) => `${d.name} (sm ${d.capability}${d.fastBf16 ? ', bf16' : ''})`).join(', ')}` : 'no GPU visible'));
if (problems.length) { console.error(problems.join('\n')); process.exit(1); }
EOF

if ! node -e 'process.exit(JSON.parse(process.argv[1]).cuda.available ? 0 : 1)' "$doctor"; then
  set +e
  message=$(node dist/lib/cli/main.js predict --model roberta --checkpoint /nonexistent --input /nonexistent --device cuda 2>&1)
  set -e
  grep -q "built with CUDA, but no GPU is visible" <<<"$message" || fail "--device cuda without a GPU gave: $message"
  say "--device cuda without a GPU: $(head -n 1 <<<"$message")"
fi

if [ "$suite" = full ]; then
  npx mocha
else
  npx mocha --no-config --timeout 120000 'dist/test/native/**/*.test.js' 'dist/test/models/**/*.test.js'
fi
say "passed in $((SECONDS - started)) s"
