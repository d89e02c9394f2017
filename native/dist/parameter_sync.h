// What keeps the replicas of a data-parallel job identical: every rank starts from rank 0's
// trainable parameters, and every optimizer update sees the gradient averaged over all ranks.
#pragma once

#include <ATen/ATen.h>

#include <vector>

#include "dist/process_group.h"

namespace das::dist {

// Gradients travel in flat buckets of about this size, as in PyTorch's DistributedDataParallel.
constexpr int64_t kBucketBytes = 25 << 20;

// Averages the gradients of `params` (the same list, in the same order, on every rank). A parameter
// without a gradient on this rank counts as zeros, so every rank reduces the same buckets; one
// without a gradient on every rank keeps none, and the optimizer skips it as a single process would.
void AverageGradients(ProcessGroup& group, const std::vector<at::Tensor>& params);

// Overwrites `params` with rank `root`'s values.
void BroadcastParameters(ProcessGroup& group, const std::vector<at::Tensor>& params, int root);

}  // namespace das::dist
