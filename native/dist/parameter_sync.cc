#include "dist/parameter_sync.h"

#include <ATen/core/grad_mode.h>

namespace das::dist {

namespace {

// Consecutive tensors of one dtype and device, about kBucketBytes per bucket.
std::vector<std::vector<at::Tensor>> Buckets(const std::vector<at::Tensor>& tensors) {
  std::vector<std::vector<at::Tensor>> buckets;
  int64_t bytes = 0;
  for (const auto& tensor : tensors) {
    const bool fits = !buckets.empty() && bytes < kBucketBytes && buckets.back().front().scalar_type() == tensor.scalar_type() &&
                      buckets.back().front().device() == tensor.device();
    if (!fits) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(tensor);
    bytes += static_cast<int64_t>(tensor.nbytes());
  }
  return buckets;
}

at::Tensor Flatten(const std::vector<at::Tensor>& tensors) {
  std::vector<at::Tensor> flat;
  flat.reserve(tensors.size());
  for (const auto& tensor : tensors) flat.push_back(tensor.reshape({-1}));
  return at::cat(flat);
}

void Unflatten(const at::Tensor& flat, const std::vector<at::Tensor>& tensors) {
  int64_t offset = 0;
  for (const auto& tensor : tensors) {
    const int64_t n = tensor.numel();
    tensor.copy_(flat.narrow(0, offset, n).view_as(tensor));
    offset += n;
  }
}

// Runs `collective` over flat copies of `tensors`, one per bucket (all launched together), and copies
// the results (divided by `divisor`) back.
template <typename Collective>
void OverBuckets(const std::vector<at::Tensor>& tensors, Collective collective, int64_t divisor = 1) {
  const auto buckets = Buckets(tensors);
  std::vector<at::Tensor> flats;
  flats.reserve(buckets.size());
  for (const auto& bucket : buckets) flats.push_back(Flatten(bucket));
  collective(flats);
  for (size_t b = 0; b < buckets.size(); ++b) {
    if (divisor != 1) flats[b].div_(divisor);
    Unflatten(flats[b], buckets[b]);
  }
}

}  // namespace

void AverageGradients(ProcessGroup& group, const std::vector<at::Tensor>& params) {
  if (group.size() == 1 || params.empty()) return;
  at::NoGradGuard no_grad;
  // which parameters have a gradient on at least one rank
  at::Tensor present = at::empty({static_cast<int64_t>(params.size())}, at::kFloat);
  auto flags = present.accessor<float, 1>();
  for (size_t i = 0; i < params.size(); ++i) flags[i] = params[i].grad().defined() ? 1.0f : 0.0f;
  std::vector<at::Tensor> counts{present.to(group.device())};
  group.AllReduce(counts);
  const at::Tensor anywhere = counts[0].to(at::kCPU);
  const auto any = anywhere.accessor<float, 1>();
  std::vector<at::Tensor> grads;
  for (size_t i = 0; i < params.size(); ++i) {
    if (any[i] == 0.0f) continue;
    at::Tensor param = params[i];
    if (!param.grad().defined()) param.mutable_grad() = at::zeros_like(param);
    grads.push_back(param.grad());
  }
  OverBuckets(grads, [&](std::vector<at::Tensor>& flats) { group.AllReduce(flats); }, group.size());
}

void BroadcastParameters(ProcessGroup& group, const std::vector<at::Tensor>& params, int root) {
  if (group.size() == 1 || params.empty()) return;
  at::NoGradGuard no_grad;
  OverBuckets(params, [&](std::vector<at::Tensor>& flats) { group.Broadcast(flats, root); });
}

}  // namespace das::dist
