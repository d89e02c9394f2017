#!/usr/bin/env bash
# One command from a fresh Debian 12 (or Ubuntu) machine to a built das-torch checkout:
# installs the system packages (with sudo when not root), then the npm dependencies, which builds
# the native addon (cmake-js) and compiles the TypeScript.
#
#   scripts/setup-debian.sh            system packages + npm ci + build
#   scripts/setup-debian.sh --system   system packages only
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache python3 # native build (cmake-js, node-gyp)
  libtorch-dev               # libtorch 1.13 (CPU) headers, libraries and CMake files
  libopenblas0-openmp        # fast BLAS: without it libtorch's GEMM runs on reference BLAS (~40x slower)
  libblas3                   # the reference BLAS, kept beside OpenBLAS so tests can check doctor's warning
  python3-torch              # the same libtorch from Python: reference results, benchmarks, checkpoint fixtures
  python3-venv               # scripts/setup-torch2.sh: a venv with PyTorch 2.x (second build, Python peer in benchmarks)
  nlohmann-json3-dev         # JSON parser (header-only) for safetensors headers
  libgloo-dev                # Gloo's headers: libtorch's collective backend on CPU (data-parallel runs)
  chromium                   # headless browser: the test that report.html draws its charts
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

echo "das-torch setup: installing system packages: ${PACKAGES[*]}"
as_root apt-get update -q
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"

if [ "${1:-}" = "--system" ]; then exit 0; fi

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "das-torch setup: Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none))." >&2
  echo "  Install it from your distribution or nodejs.org, then run this script again." >&2
  exit 1
fi

echo "das-torch setup: installing npm dependencies and building"
if [ -f package-lock.json ]; then npm ci; else npm install; fi
