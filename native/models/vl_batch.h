// Reading and checking the batch fields the models share (text for all, images for ViLT and METER),
// with errors that name the field and the shape expected. TypeScript checks batches first
// (lib/models/batch-check.ts); these checks are the backstop for direct calls of the addon.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "models/task_model.h"

namespace das::models {

struct TextInput {
  at::Tensor ids;   // [B, T] int64
  at::Tensor keep;  // [B, T] bool (all true when the batch has no attention_mask)
};

// input_ids (int32/int64 [B, T], T <= max_tokens) and attention_mask (optional, [B, T]).
TextInput ReadText(const Batch& batch, int64_t max_tokens);

// `field` float [N, 3, H, W] and its optional uint8/bool mask `mask_field` [N, H, W]; H, W >= min_side.
struct ImageInput {
  at::Tensor pixels;
  at::Tensor mask;  // undefined when absent
};
ImageInput ReadImage(const Batch& batch, const std::string& field, const std::string& mask_field, int64_t min_side);

// Example keys for the feature cache (int64 [rows]); undefined when the batch has none.
at::Tensor ReadKeys(const Batch& batch, const std::string& field, int64_t rows);

}  // namespace das::models
