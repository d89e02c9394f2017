#include "models/blocks/attention.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/dropout.h>
#include <torch/version.h>

#include <cmath>
#include <limits>
#include <utility>

namespace das::blocks {

namespace {

// [B, T, H*D] -> [B, H, T, D]
at::Tensor SplitHeads(const at::Tensor& x, int64_t heads) {
  return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}

}  // namespace

at::Tensor AdditiveMask(const at::Tensor& keep_mask, c10::ScalarType dtype) {
  if (!keep_mask.defined()) return {};
  const at::Tensor keep = keep_mask.to(at::kBool).unsqueeze(1).unsqueeze(2);
  // the lowest finite value of the compute dtype: -inf would turn fully masked rows into NaN
  const double lowest = dtype == at::kHalf ? -65504.0 : static_cast<double>(std::numeric_limits<float>::lowest());
  return at::zeros(keep.sizes(), keep_mask.options().dtype(dtype)).masked_fill(keep.logical_not(), lowest);
}

at::Tensor Attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads, const at::Tensor& additive_mask,
                  double dropout, bool training) {
  const at::Tensor qh = SplitHeads(q, heads), kh = SplitHeads(k, heads), vh = SplitHeads(v, heads);
  const double p = training ? dropout : 0.0;
#if TORCH_VERSION_MAJOR >= 2
  // Fused kernels (flash / memory-efficient) where libtorch has them.
  at::Tensor context = at::scaled_dot_product_attention(qh, kh, vh, additive_mask.defined() ? c10::optional<at::Tensor>(additive_mask) : c10::nullopt, p);
#else
  at::Tensor scores = at::matmul(qh, kh.transpose(-1, -2)) * (1.0 / std::sqrt(static_cast<double>(qh.size(-1))));
  if (additive_mask.defined()) scores = scores + additive_mask;
  at::Tensor probs = at::softmax(scores, -1);
  if (p > 0.0) probs = at::dropout(probs, p, true);
  at::Tensor context = at::matmul(probs, vh);
#endif
  return context.transpose(1, 2).reshape({q.size(0), q.size(1), q.size(2)});
}

BertSelfAttentionImpl::BertSelfAttentionImpl(int64_t hidden, int64_t heads, double dropout)
    : query(register_module("query", AdaptableLinear(hidden, hidden))),
      key(register_module("key", AdaptableLinear(hidden, hidden))),
      value(register_module("value", AdaptableLinear(hidden, hidden))),
      heads(heads),
      dropout(dropout) {}

void BertSelfAttentionImpl::AddPrefix(const PrefixSpec& spec) {
  prefix = register_module("prefix", KeyValuePrefix(query->weight.size(1), spec));
}

at::Tensor BertSelfAttentionImpl::forward(const at::Tensor& x, const at::Tensor& context, const at::Tensor& additive_mask) {
  if (!prefix) return Attend(query(x), key(context), value(context), heads, additive_mask, dropout, is_training());
  const PrefixedKeys kv = WithPrefix(prefix, key(context), value(context), additive_mask,
                                     [this](const at::Tensor& t) { return std::make_pair(key(t), value(t)); });
  return Attend(query(x), kv.k, kv.v, heads, kv.mask, dropout, is_training());
}

DenseResidualNormImpl::DenseResidualNormImpl(int64_t in, int64_t out, double eps, double dropout)
    : dense(register_module("dense", AdaptableLinear(in, out))),
      LayerNorm(register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({out}).eps(eps)))),
      drop(register_module("dropout", torch::nn::Dropout(dropout))) {}

at::Tensor DenseResidualNormImpl::forward(const at::Tensor& h, const at::Tensor& residual, const at::Tensor& extra, Adapter& sequential) {
  at::Tensor sum = MaybeResidualAdapt(sequential, drop(dense(h))) + residual;
  if (extra.defined()) sum = sum + extra;
  return LayerNorm(sum);
}

BertAttentionImpl::BertAttentionImpl(int64_t hidden, int64_t heads, double eps, double dropout, double attention_dropout)
    : self(register_module("self", BertSelfAttention(hidden, heads, attention_dropout))),
      output(register_module("output", DenseResidualNorm(hidden, hidden, eps, dropout))) {}

at::Tensor BertAttentionImpl::forward(const at::Tensor& x, const at::Tensor& context, const at::Tensor& additive_mask,
                                      const at::Tensor& extra, Adapter& sequential) {
  return output(self(x, context, additive_mask), x, extra, sequential);
}

FusedAttentionImpl::FusedAttentionImpl(int64_t hidden, int64_t heads, double attention_dropout)
    : qkv(register_module("qkv", AdaptableLinear(hidden, 3 * hidden))),
      proj(register_module("proj", AdaptableLinear(hidden, hidden))),
      heads(heads),
      dropout(attention_dropout) {}

void FusedAttentionImpl::AddPrefix(const PrefixSpec& spec) {
  prefix = register_module("prefix", KeyValuePrefix(proj->weight.size(0), spec));
}

at::Tensor FusedAttentionImpl::forward(const at::Tensor& x, const at::Tensor& additive_mask) {
  const auto parts = qkv(x).chunk(3, -1);
  if (!prefix) return proj(Attend(parts[0], parts[1], parts[2], heads, additive_mask, dropout, is_training()));
  // the projected form runs the virtual tokens through the same (fused) projection
  const PrefixedKeys kv = WithPrefix(prefix, parts[1], parts[2], additive_mask, [this](const at::Tensor& t) {
    const auto projected = qkv(t).chunk(3, -1);
    return std::make_pair(projected[1], projected[2]);
  });
  return proj(Attend(parts[0], kv.k, kv.v, heads, kv.mask, dropout, is_training()));
}

}  // namespace das::blocks
