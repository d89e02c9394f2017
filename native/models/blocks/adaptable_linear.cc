#include "models/blocks/adaptable_linear.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <algorithm>

namespace das::blocks {

AdaptableLinearImpl::AdaptableLinearImpl(int64_t in_features, int64_t out_features) {
  // a torch::nn::Linear gives the same start (and draws the same random numbers) as before
  torch::nn::Linear reference(in_features, out_features);
  weight = register_parameter("weight", reference->weight);
  bias = register_parameter("bias", reference->bias);
}

void AdaptableLinearImpl::AddLora(const LoraSpec& spec, int64_t offset, int64_t size, const std::string& suffix) {
  TORCH_CHECK(spec.rank > 0, "a LoRA delta needs a rank >= 1, got ", spec.rank);
  TORCH_CHECK(offset >= 0 && size > 0 && offset + size <= weight.size(0), "LoRA slice [", offset, ", ", offset + size,
              ") is outside the ", weight.size(0), " outputs");
  for (const LoraDelta& delta : deltas_) TORCH_CHECK(delta.suffix != suffix, "this projection already has a LoRA delta", suffix);
  LoraDelta delta;
  delta.suffix = suffix;
  delta.A = register_module("lora_A" + suffix, torch::nn::Linear(torch::nn::LinearOptions(weight.size(1), spec.rank).bias(false)));
  delta.B = register_module("lora_B" + suffix, torch::nn::Linear(torch::nn::LinearOptions(spec.rank, size).bias(false)));
  delta.dropout = register_module("lora_dropout" + suffix, torch::nn::Dropout(spec.dropout));
  delta.scaling = spec.alpha / static_cast<double>(spec.rank);
  delta.offset = offset;
  delta.size = size;
  {
    torch::NoGradGuard no_grad;
    torch::nn::init::zeros_(delta.B->weight);
  }
  deltas_.push_back(delta);
  std::sort(deltas_.begin(), deltas_.end(), [](const LoraDelta& a, const LoraDelta& b) { return a.offset < b.offset; });
}

at::Tensor AdaptableLinearImpl::forward(const at::Tensor& x) {
  at::Tensor out = at::linear(x, weight, bias);
  if (deltas_.empty()) return out;
  const int64_t width = weight.size(0);
  if (deltas_.size() == 1 && deltas_[0].size == width) {
    LoraDelta& d = deltas_[0];
    return out + d.B(d.A(d.dropout(x))) * d.scaling;
  }
  // slices of a fused projection: one [.., width] update, zero where no delta writes
  std::vector<at::Tensor> pieces;
  int64_t at_column = 0;
  for (LoraDelta& d : deltas_) {
    if (d.offset > at_column) pieces.push_back(at::zeros_like(out.narrow(-1, at_column, d.offset - at_column)));
    pieces.push_back(d.B(d.A(d.dropout(x))) * d.scaling);
    at_column = d.offset + d.size;
  }
  if (at_column < width) pieces.push_back(at::zeros_like(out.narrow(-1, at_column, width - at_column)));
  return out + at::cat(pieces, -1);
}

void AdaptableLinearImpl::MergeLora() {
  torch::NoGradGuard no_grad;
  for (const LoraDelta& d : deltas_) {
    const at::Tensor update = at::matmul(d.B->weight.to(at::kFloat), d.A->weight.to(at::kFloat)) * d.scaling;
    weight.narrow(0, d.offset, d.size).add_(update.to(weight.scalar_type()));
    unregister_module("lora_A" + d.suffix);
    unregister_module("lora_B" + d.suffix);
    unregister_module("lora_dropout" + d.suffix);
  }
  deltas_.clear();
}

}  // namespace das::blocks
