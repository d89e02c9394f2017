#!/usr/bin/env bash
# Builds the torch-free checkpoint readers with AddressSanitizer + UBSan and sweeps them over every
# truncation and thousands of corruptions of real torch.save / safetensors fixtures.
#   scripts/test/checkpoint-sanitizers.sh      (needs g++ and python3-torch for the fixtures)
set -euo pipefail
cd "$(dirname "$0")/../.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"${DAS_PYTHON:-/usr/bin/python3}" test/fixtures/torch_checkpoints.py make "$work/fixtures" >/dev/null
g++ -std=c++17 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -Wall -Wextra -Inative \
  native/checkpoint/{binary_file,dtype,safetensors,zip_archive,pickle_value,pickle_globals,pickle_reader,torch_save}.cc \
  test/native/sanitize/checkpoint_fuzz.cc -o "$work/checkpoint_fuzz"
cd "$work/fixtures"
ASAN_OPTIONS=detect_leaks=1 "$work/checkpoint_fuzz" "$work/scratch.bin" \
  hf.bin hf-protocol4.bin hf-legacy.bin lightning.ckpt lightning-legacy.ckpt zip64.bin python.safetensors
echo "checkpoint readers: clean under ASan + UBSan"
