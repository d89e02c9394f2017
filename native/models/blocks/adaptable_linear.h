// A Linear layer (parameters `weight`, `bias`, as torch::nn::Linear, initialised the same way) that
// can carry low-rank deltas: y = x W^T + b + scaling * B(A(dropout(x))) on all of its outputs, or on
// one slice of them (ViLT's fused qkv: a delta per q, k or v). The deltas' parameters follow PEFT's
// names: `lora_A.weight` [r, in] and `lora_B.weight` [out, r] (a slice's: `lora_A_q.weight`, ...).
// Merging folds the deltas into `weight` so inference costs nothing extra.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <string>
#include <vector>

#include "models/blocks/attachments.h"

namespace das::blocks {

struct LoraDelta {
  std::string suffix;  // "" (whole output) or "_q" / "_k" / "_v"
  torch::nn::Linear A{nullptr}, B{nullptr};
  torch::nn::Dropout dropout{nullptr};
  double scaling = 1.0;
  int64_t offset = 0, size = 0;  // the output slice it adds to
};

struct AdaptableLinearImpl : torch::nn::Module {
  AdaptableLinearImpl(int64_t in_features, int64_t out_features);

  // A delta on outputs [offset, offset + size) named by `suffix`; A as a default Linear, B zero,
  // so the layer starts unchanged (PEFT's initialisation).
  void AddLora(const LoraSpec& spec, int64_t offset, int64_t size, const std::string& suffix);
  at::Tensor forward(const at::Tensor& x);
  // weight += scaling * B A on each delta's slice; the deltas are removed afterwards.
  void MergeLora();
  const std::vector<LoraDelta>& deltas() const { return deltas_; }

  at::Tensor weight, bias;

 private:
  std::vector<LoraDelta> deltas_;
};
TORCH_MODULE(AdaptableLinear);

}  // namespace das::blocks
