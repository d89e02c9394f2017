// FLOPs gathered while really running a forward pass: libtorch's profiler counts the matrix
// products (mm, addmm, bmm, conv2d) with their shapes; ops are attributed to the layer whose
// LayerScope encloses them. Attention runs through its explicit path here, whose two products the
// profiler sees (it does not count scaled_dot_product_attention's fused kernels). Reported as multiply-accumulates (fvcore's convention: 1 MAC = 1 FLOP).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "models/task_model.h"

namespace das::engine {

struct FlopProfile {
  int64_t total = 0;
  std::map<std::string, int64_t> layers;  // by layer name; ops outside any layer under ""
};

FlopProfile ProfileForwardFlops(models::TaskModel& model, const models::Batch& batch, const std::vector<std::string>& skip);

}  // namespace das::engine
