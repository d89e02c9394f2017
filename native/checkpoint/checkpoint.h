// Weights-only checkpoint reading and our safetensors writing: the API the models call.
//   ReadCheckpoint    model.safetensors, torch.save zip (pytorch_model.bin, Lightning .ckpt) or
//                     legacy torch.save files, told apart by content, never by extension
//   IndexCheckpoint   names, dtypes and shapes only, without reading tensor data
//   WriteSafetensors  atomic write of named tensors with string metadata
// Malformed files raise CheckpointError (code DAS_CHECKPOINT), unreadable ones FileError (DAS_FILE).
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checkpoint/checkpoint_index.h"

namespace das::checkpoint {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;
using Metadata = std::vector<std::pair<std::string, std::string>>;

struct Checkpoint {
  Format format = Format::kSafetensors;
  // In file order. CPU tensors that own their memory; tensors that shared a storage in the file
  // share one here too (views, as torch.load gives them).
  NamedTensors tensors;
  // safetensors: __metadata__; torch formats: a Lightning checkpoint's scalar top-level fields.
  Metadata metadata;
};

// `names`: read only these tensors (absent names are skipped; the caller reports missing keys).
Checkpoint ReadCheckpoint(const std::string& path, const std::optional<std::vector<std::string>>& names = std::nullopt);

CheckpointIndex IndexCheckpoint(const std::string& path);

c10::ScalarType ToScalarType(DType dtype);

// Writes CPU or device tensors (copied to contiguous CPU memory first) atomically.
void WriteSafetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata);

}  // namespace das::checkpoint
