// Task heads and losses shared by ViLT and METER, under the official checkpoints'
// names: `xxx_classifier.{0,1,3}` (Linear, LayerNorm, GELU, Linear), `itm_score.fc`, `rank_output`.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>

namespace das::blocks {

// Linear(in, hidden), LayerNorm(hidden), GELU, Linear(hidden, out); BERT initialisation.
torch::nn::Sequential ClassifierHead(int64_t in, int64_t hidden, int64_t out);

// Image-text matching: Linear(hidden, 2) on the pooled features (class 1 = "matches").
struct ItmHeadImpl : torch::nn::Module {
  explicit ItmHeadImpl(int64_t hidden);
  at::Tensor forward(const at::Tensor& x) { return fc(x); }
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(ItmHead);

// What the original `objectives.init_weights` does for modules a checkpoint may not provide:
// Linear and Embedding weights normal(0, 0.02), biases 0, LayerNorm (1, 0). Recurses.
void InitBertWeights(torch::nn::Module& module);

// Copies the "matches" row of the ITM head into a Linear(hidden, 1) rank head.
void InitRankFromItm(torch::nn::Linear& rank, const ItmHead& itm);

// VQA: binary cross-entropy with logits (mean over every answer) times the number of answers.
at::Tensor VqaLoss(const at::Tensor& logits, const at::Tensor& targets);

// Retrieval: cross-entropy over each group's scores [groups, group_size], the positive at `labels`.
at::Tensor RankLoss(const at::Tensor& scores, const at::Tensor& labels);

// Checks a labels field of a classification task: [batch] integers in [0, classes).
at::Tensor ClassLabels(const at::Tensor& labels, int64_t batch, int64_t classes, const char* field);

}  // namespace das::blocks
