// Transformer layers with the attachment points of attachments.h, and the small heads the models share.
//  - BertLayer: post-LN (BERT/RoBERTa, METER fusion with cross-attention), HF parameter names.
//  - VitBlock: pre-LN (timm ViT as in ViLT; CLIP after name mapping).
// A layer builds what its LayerAttachments ask for: LoRA deltas on its projections, parallel and
// sequential adapters, a key/value prefix, and a skip adapter; Skip(x) = x + adapter(x) stands in
// for the whole layer.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "models/blocks/adapter.h"
#include "models/blocks/attachments.h"
#include "models/blocks/attention.h"

#include <ATen/record_function.h>

#include <string>
#include <utility>
#include <vector>

namespace das::blocks {

enum class Activation { kGelu, kQuickGelu };
at::Tensor Activate(Activation activation, const at::Tensor& x);

// The adapter sizes an architecture's configuration gives for a group of layers (the paper's per
// model sizes); methods that add adapters start from them.
struct AdapterSizes {
  int64_t parallel = 0;  // bottleneck of the parallel adapters; 0 = none
  int64_t skip = 0;      // bottleneck of the skip adapter; 0 = none (the layer cannot be skipped)
  double scale = 1.0;
};

// One projection a LoRA delta can attach to: its role (attachments.h), the module that holds it
// (relative to the layer), its shape, and the slice of that module's outputs it covers.
struct ProjectionInfo {
  ProjectionInfo(std::string role, std::string module, int64_t in, int64_t out, int64_t offset = 0, std::string suffix = "")
      : role(std::move(role)), module(std::move(module)), in(in), out(out), offset(offset), suffix(std::move(suffix)) {}
  std::string role;
  std::string module;
  int64_t in = 0, out = 0;
  int64_t offset = 0;  // first output of the slice (fused qkv)
  std::string suffix;  // parameter name suffix of a slice's delta ("_q"), "" for a whole module
};

struct BertLayerOptions {
  int64_t hidden = 768;
  int64_t heads = 12;
  int64_t intermediate = 3072;
  double eps = 1e-12;
  double dropout = 0.1;
  double attention_dropout = 0.1;
  bool cross_attention = false;
  Activation activation = Activation::kGelu;
  LayerAttachments attachments;
};

std::vector<ProjectionInfo> BertLayerProjections(const BertLayerOptions& options);

struct BertIntermediateImpl : torch::nn::Module {
  BertIntermediateImpl(int64_t hidden, int64_t intermediate, Activation activation);
  at::Tensor forward(const at::Tensor& x);
  AdaptableLinear dense{nullptr};
  Activation activation;
};
TORCH_MODULE(BertIntermediate);

struct BertLayerImpl : torch::nn::Module {
  explicit BertLayerImpl(const BertLayerOptions& options);
  // `context`/`context_mask` feed the cross-attention (METER); ignored without one.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& additive_mask, const at::Tensor& context = {},
                     const at::Tensor& context_mask = {});
  at::Tensor Skip(const at::Tensor& x);

  BertAttention attention{nullptr};
  BertAttention crossattention{nullptr};
  BertIntermediate intermediate{nullptr};
  DenseResidualNorm output{nullptr};
  Adapter attn_adapter{nullptr}, cross_adapter{nullptr}, ffn_adapter{nullptr}, skip_adapter{nullptr};
  Adapter attn_seq_adapter{nullptr}, cross_seq_adapter{nullptr}, ffn_seq_adapter{nullptr};
};
TORCH_MODULE(BertLayer);

struct VitBlockOptions {
  int64_t hidden = 768;
  int64_t heads = 12;
  int64_t mlp = 3072;
  double eps = 1e-6;
  double dropout = 0.1;
  double attention_dropout = 0.0;
  Activation activation = Activation::kGelu;
  LayerAttachments attachments;
};

std::vector<ProjectionInfo> VitBlockProjections(const VitBlockOptions& options);

struct VitMlpImpl : torch::nn::Module {
  VitMlpImpl(int64_t hidden, int64_t mlp, Activation activation, double dropout);
  at::Tensor forward(const at::Tensor& x);
  AdaptableLinear fc1{nullptr}, fc2{nullptr};
  torch::nn::Dropout drop{nullptr};
  Activation activation;
};
TORCH_MODULE(VitMlp);

struct VitBlockImpl : torch::nn::Module {
  explicit VitBlockImpl(const VitBlockOptions& options);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& additive_mask);
  at::Tensor Skip(const at::Tensor& x);

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  FusedAttention attn{nullptr};
  VitMlp mlp{nullptr};
  torch::nn::Dropout drop{nullptr};
  Adapter attn_adapter{nullptr}, mlp_adapter{nullptr}, skip_adapter{nullptr};
  Adapter attn_seq_adapter{nullptr}, mlp_seq_adapter{nullptr};
};
TORCH_MODULE(VitBlock);

// dense + tanh on token 0.
struct PoolerImpl : torch::nn::Module {
  explicit PoolerImpl(int64_t hidden);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Linear dense{nullptr};
};
TORCH_MODULE(Pooler);

}  // namespace das::blocks

namespace das::blocks {

// Marks the ops run inside one named layer for the FLOP profile (engine/flop_profile); costs
// nothing when no profiler is active.
class LayerScope {
 public:
  explicit LayerScope(const std::string& layer_name);
  static constexpr const char* kPrefix = "das_layer:";

 private:
  at::RecordFunction guard_;
};

}  // namespace das::blocks
