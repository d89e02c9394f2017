// model.safetensors: an 8-byte little-endian header length, a JSON header, then the data section.
// https://github.com/huggingface/safetensors describes the format; the reader validates everything
// the header claims before any data is touched. Plain C++ (no torch).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint/binary_file.h"
#include "checkpoint/checkpoint_index.h"

namespace das::checkpoint {

// The reference implementation's bound: larger headers are refused before they are allocated.
constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

// Validates the header (length, JSON, __metadata__, dtypes, shapes, offsets, sizes, coverage of the
// data section) and indexes every tensor. Throws CheckpointError naming the file and the field.
CheckpointIndex IndexSafetensors(const BinaryFile& file);

// One tensor to write: contiguous little-endian bytes of `ElementSize(dtype) * numel(shape)`.
struct RawTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  uint64_t nbytes = 0;
};

// Writes atomically: a temporary file in the same folder, fsync, rename over `path`, fsync of the
// folder. Tensors are stored in the given order; names must be unique and not "__metadata__".
void WriteSafetensorsFile(const std::string& path, const std::vector<RawTensor>& tensors,
                          const std::vector<std::pair<std::string, std::string>>& metadata);

}  // namespace das::checkpoint
