// Multi-head attention in the two parameter layouts the published checkpoints use:
//  - BERT/RoBERTa/METER: separate query/key/value projections (`attention.self.*`) and an
//    output block (`attention.output.{dense,LayerNorm}`); also used for cross-attention;
//  - timm ViT (ViLT) and CLIP (mapped at load time): one fused `qkv` projection and `proj`.
// Projections are AdaptableLinear (LoRA attachment points); an optional `prefix` adds key/value
// positions in front of the keys and values.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/normalization.h>

#include "models/blocks/adaptable_linear.h"
#include "models/blocks/adapter.h"
#include "models/blocks/prefix.h"

namespace das::blocks {

// [B, Tk] keep-mask (1 = real token, 0 = padding; any dtype) -> additive mask [B, 1, 1, Tk] in
// `dtype`: 0 where kept, the dtype's lowest value where masked. Undefined in, undefined out.
at::Tensor AdditiveMask(const at::Tensor& keep_mask, c10::ScalarType dtype);

// softmax(q k^T / sqrt(d) + mask) v over `heads` heads; q [B, Tq, H*D], k/v [B, Tk, H*D].
at::Tensor Attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads, const at::Tensor& additive_mask,
                  double dropout, bool training);

struct BertSelfAttentionImpl : torch::nn::Module {
  BertSelfAttentionImpl(int64_t hidden, int64_t heads, double dropout);
  // Queries from `x`; keys and values from `context` (self-attention when context is `x`).
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context, const at::Tensor& additive_mask);

  AdaptableLinear query{nullptr}, key{nullptr}, value{nullptr};
  KeyValuePrefix prefix{nullptr};  // registered by AddPrefix
  int64_t heads;
  double dropout;
  void AddPrefix(const PrefixSpec& spec);
};
TORCH_MODULE(BertSelfAttention);

// dense -> dropout -> sequential adapter -> + residual (+ extra) -> LayerNorm: the post-LN end of a
// BERT sub-layer. `sequential` may be empty.
struct DenseResidualNormImpl : torch::nn::Module {
  DenseResidualNormImpl(int64_t in, int64_t out, double eps, double dropout);
  at::Tensor forward(const at::Tensor& h, const at::Tensor& residual, const at::Tensor& extra, Adapter& sequential);

  AdaptableLinear dense{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout drop{nullptr};
};
TORCH_MODULE(DenseResidualNorm);

struct BertAttentionImpl : torch::nn::Module {
  BertAttentionImpl(int64_t hidden, int64_t heads, double eps, double dropout, double attention_dropout);
  // LayerNorm(x + seq(dense(attention(x, context))) + extra); `extra` is a parallel adapter's output.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context, const at::Tensor& additive_mask, const at::Tensor& extra,
                     Adapter& sequential);

  BertSelfAttention self{nullptr};
  DenseResidualNorm output{nullptr};
};
TORCH_MODULE(BertAttention);

struct FusedAttentionImpl : torch::nn::Module {
  FusedAttentionImpl(int64_t hidden, int64_t heads, double attention_dropout);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& additive_mask);

  AdaptableLinear qkv{nullptr}, proj{nullptr};
  KeyValuePrefix prefix{nullptr};  // registered by AddPrefix
  int64_t heads;
  double dropout;
  void AddPrefix(const PrefixSpec& spec);
};
TORCH_MODULE(FusedAttention);

}  // namespace das::blocks
