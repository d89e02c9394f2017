#!/usr/bin/env bash
# Creates a Python virtual environment with PyTorch 2.x inside the checkout, for building the addon
# against a modern libtorch (DAS_PYTHON=<venv>/bin/python npm run build:native), for the tests that
# compare with Python torch 2.x / transformers / peft, and for the benchmarks' Python peer.
#
#   scripts/setup-torch2.sh          .venv/torch2-cpu:  torch 2.13.0+cpu, transformers, peft, safetensors
#   scripts/setup-torch2.sh --cuda   .venv/torch2-cuda: torch 2.14.1 (CUDA 13 build with its nvidia-* wheels)
#                                    and safetensors: for building and linking the addon against CUDA
#
# Wheels come from the machine's local wheel index when it has one (/opt/pypi, /opt/wheels: no
# network used), else from PyPI and download.pytorch.org. DAS_PIP_ARGS replaces the index options;
# DAS_TORCH2_VERSION the torch version. Exits 3 (and says so) when the wheels are not available, so
# CI can tell "not here" from "broken".
set -euo pipefail
cd "$(dirname "$0")/.."

flavour=cpu
for arg in "$@"; do
  case "$arg" in
    --cuda) flavour=cuda ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup-torch2: unknown option '$arg' (expected --cuda or --help)" >&2; exit 2 ;;
  esac
done

if [ "$flavour" = cuda ]; then
  version="${DAS_TORCH2_VERSION:-2.14.1}"
  online_index="https://download.pytorch.org/whl/cu130"
else
  version="${DAS_TORCH2_VERSION:-2.13.0+cpu}"
  online_index="https://download.pytorch.org/whl/cpu"
fi
venv=".venv/torch2-$flavour"

if [ -n "${DAS_PIP_ARGS:-}" ]; then
  read -r -a pip_args <<<"$DAS_PIP_ARGS"
elif [ -d /opt/pypi/simple ] || [ -d /opt/wheels ]; then
  # the local index, named explicitly so that pip does not also try (and retry) the network
  pip_args=(--index-url file:///opt/pypi/simple)
  [ -d /opt/pypi-more/simple ] && pip_args+=(--extra-index-url file:///opt/pypi-more/simple)
  [ -d /opt/wheels ] && pip_args+=(--find-links /opt/wheels)
else
  pip_args=(--extra-index-url "$online_index")
fi

python="${DAS_SETUP_PYTHON:-python3}"
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  echo "setup-torch2: $python cannot create virtual environments (Debian/Ubuntu: apt-get install python3-venv)" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "setup-torch2: creating $venv with $("$python" --version 2>&1)"
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

# Resolve torch alone first: a missing wheel is reported as such, not as a wall of pip output.
if ! resolve=$("${pip[@]}" install --dry-run --no-deps "${pip_args[@]}" "torch==$version" 2>&1); then
  echo "setup-torch2: the torch==$version wheel is not available here ($("$venv/bin/python" --version 2>&1), indexes: ${pip_args[*]})." >&2
  echo "  pip said: $(printf '%s\n' "$resolve" | grep -m1 -E 'ERROR|No matching' || printf '%s\n' "$resolve" | tail -n1)" >&2
  echo "  Set DAS_PIP_ARGS to an index that has it, or DAS_TORCH2_VERSION to a version it has." >&2
  exit 3
fi

# (a local "simple" index lists every project; pip warns about each one that it lacks)
quiet_install() { "${pip[@]}" install -q "${pip_args[@]}" "$@" 2> >(grep -v 'is neither a file nor a directory' >&2); }

if [ "$flavour" = cuda ]; then
  # The CUDA wheel also requires cuda-bindings and triton, Python-side GPU tools that libtorch and
  # das-torch do not use (and that wheel mirrors often lack): install torch alone, then the rest of
  # its requirements (the nvidia-* libraries libtorch_cuda links) without those two. Nothing that
  # depends on torch is installed after it: pip would swap in another torch whose requirements it
  # can satisfy.
  echo "setup-torch2: installing torch==$version and safetensors into $venv"
  quiet_install --no-deps "torch==$version"
  mapfile -t requirements < <("$venv/bin/python" - <<'PY'
import importlib.metadata as metadata
from pip._vendor.packaging.requirements import Requirement
for line in metadata.requires("torch") or []:
    requirement = Requirement(line)
    if requirement.name in ("cuda-bindings", "triton"):
        continue
    if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
        requirement.marker = None
        print(requirement)
PY
)
  quiet_install "${requirements[@]}" safetensors
else
  echo "setup-torch2: installing torch==$version transformers peft safetensors into $venv"
  quiet_install "torch==$version" transformers peft safetensors
fi

"$venv/bin/python" - "$version" <<'EOF'
import importlib.metadata as metadata, sys
import torch
# a wheel's __version__ may add a local tag (2.14.1 -> 2.14.1+cu130)
if torch.__version__ != sys.argv[1] and ("+" in sys.argv[1] or torch.__version__.split("+")[0] != sys.argv[1]):
    sys.exit(f"setup-torch2: expected torch {sys.argv[1]} but {torch.__version__} got installed")
found = ", ".join(f"{name} {metadata.version(name)}" for name in ("transformers", "peft", "safetensors")
                  if any(d.metadata["Name"] == name for d in metadata.distributions()))
print(f"setup-torch2: ready: torch {torch.__version__} (CUDA {torch.version.cuda or 'none'}), {found}")
EOF
echo "  build the addon against it:  DAS_PYTHON=$venv/bin/python DAS_BUILD_DIR=build-torch2-$flavour npm run build:native"
