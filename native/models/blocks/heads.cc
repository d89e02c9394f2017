#include "models/blocks/heads.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>

namespace das::blocks {

torch::nn::Sequential ClassifierHead(int64_t in, int64_t hidden, int64_t out) {
  torch::nn::Sequential head(torch::nn::Linear(in, hidden), torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})), torch::nn::GELU(),
                             torch::nn::Linear(hidden, out));
  InitBertWeights(*head);
  return head;
}

ItmHeadImpl::ItmHeadImpl(int64_t hidden) : fc(register_module("fc", torch::nn::Linear(hidden, 2))) { InitBertWeights(*this); }

namespace {

void InitOne(torch::nn::Module& module) {
  if (auto* linear = module.as<torch::nn::Linear>()) {
    torch::nn::init::normal_(linear->weight, 0.0, 0.02);
    if (linear->bias.defined()) torch::nn::init::zeros_(linear->bias);
  } else if (auto* embedding = module.as<torch::nn::Embedding>()) {
    torch::nn::init::normal_(embedding->weight, 0.0, 0.02);
  } else if (auto* norm = module.as<torch::nn::LayerNorm>()) {
    torch::nn::init::ones_(norm->weight);
    torch::nn::init::zeros_(norm->bias);
  }
}

}  // namespace

void InitBertWeights(torch::nn::Module& module) {
  // self first, then descendants (modules(true) would need `module` to be held by a shared_ptr)
  torch::NoGradGuard no_grad;
  InitOne(module);
  for (const auto& child : module.modules(/*include_self=*/false)) InitOne(*child);
}

void InitRankFromItm(torch::nn::Linear& rank, const ItmHead& itm) {
  torch::NoGradGuard no_grad;
  rank->weight.copy_(itm->fc->weight.slice(0, 1, 2));
  rank->bias.copy_(itm->fc->bias.slice(0, 1, 2));
}

at::Tensor VqaLoss(const at::Tensor& logits, const at::Tensor& targets) {
  TORCH_CHECK(targets.sizes() == logits.sizes(), "targets must be [batch, answers] = ", logits.sizes(), ", got ", targets.sizes());
  return at::binary_cross_entropy_with_logits(logits, targets.to(logits.scalar_type())) * static_cast<double>(logits.size(1));
}

at::Tensor RankLoss(const at::Tensor& scores, const at::Tensor& labels) {
  return at::cross_entropy_loss(scores, ClassLabels(labels, scores.size(0), scores.size(1), "labels"));
}

at::Tensor ClassLabels(const at::Tensor& labels, int64_t batch, int64_t classes, const char* field) {
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == batch, field, " must be [", batch, "], got ", labels.sizes());
  const at::Tensor values = labels.to(at::kLong);
  if (batch > 0) {
    const int64_t low = values.min().item<int64_t>(), high = values.max().item<int64_t>();
    TORCH_CHECK(low >= 0 && high < classes, field, " must lie in [0, ", classes, "), got values from ", low, " to ", high);
  }
  return values;
}

}  // namespace das::blocks
