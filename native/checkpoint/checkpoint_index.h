// What every format reader produces before any tensor data is read: where each storage lies in
// the file and how each named tensor views a storage. checkpoint.cc turns an index into tensors,
// reading only the storages that the requested tensors use. Plain C++, no torch.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint/dtype.h"

namespace das::checkpoint {

enum class Format { kSafetensors, kTorchZip, kTorchLegacy };

const char* FormatName(Format format);  // "safetensors", "torch-zip", "torch-legacy"

// A contiguous run of bytes in the file holding one storage.
struct StorageSpan {
  std::string id;  // the record or key name, for messages
  DType dtype = DType::kU8;
  uint64_t file_offset = 0;
  uint64_t nbytes = 0;
};

struct TensorRecord {
  std::string name;
  size_t storage = 0;  // index into CheckpointIndex::storages
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;  // in elements
  int64_t storage_offset = 0;    // in elements
};

struct CheckpointIndex {
  Format format = Format::kSafetensors;
  std::vector<StorageSpan> storages;
  std::vector<TensorRecord> tensors;  // in file order
  std::vector<std::pair<std::string, std::string>> metadata;
};

}  // namespace das::checkpoint
