// Checkpoint rewrites that span tensors or change shapes, shared by the models' AdaptCheckpoint:
//  - fusing split query/key/value projections (HF ViLT) into one fused `qkv` (ours, timm's);
//  - growing a modality table from 2 rows to 3 for NLVR2 (row 2 starts as a copy of row 1);
//  - resizing a ViT position table to another patch grid (METER: bicubic, once at load time).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "models/task_model.h"

namespace das::models {

// Marks a name as one part of a fused projection: Part("x.qkv.weight", 'q') = "x.qkv.weight[q]".
std::string QkvPart(const std::string& fused_name, char part);

// Joins every complete q/k/v triple of QkvPart names into one tensor (q, k, v stacked on dim 0).
// Incomplete triples stay as they are, so loading reports them by name.
void FuseQkvParts(std::vector<MappedTensor>& tensors);

// Appends copies of the last row of `name` until it has `rows` rows (no-op when it has them).
void GrowRows(std::vector<MappedTensor>& tensors, const std::string& name, int64_t rows);

// Resizes `name` ([1 + g*g, D] or [1, 1 + g*g, D]: class position first, then a g x g grid) to
// `tokens` = 1 + g'*g' rows with bicubic interpolation (align_corners = false), as METER does.
void ResizePositionGrid(std::vector<MappedTensor>& tensors, const std::string& name, int64_t tokens);

}  // namespace das::models
