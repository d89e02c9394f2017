#include "models/blocks/layers.h"

#include <ATen/ATen.h>

namespace das::blocks {

at::Tensor Activate(Activation activation, const at::Tensor& x) {
  switch (activation) {
    case Activation::kQuickGelu: return x * at::sigmoid(1.702 * x);
    case Activation::kGelu: break;
  }
  return at::gelu(x);
}

namespace {

Adapter MakeAdapter(torch::nn::Module& owner, const char* name, int64_t dim, int64_t bottleneck, double scale) {
  if (bottleneck <= 0) return Adapter(nullptr);
  return owner.register_module(name, Adapter(dim, bottleneck, scale));
}

}  // namespace

BertIntermediateImpl::BertIntermediateImpl(int64_t hidden, int64_t intermediate, Activation activation)
    : dense(register_module("dense", torch::nn::Linear(hidden, intermediate))), activation(activation) {}

at::Tensor BertIntermediateImpl::forward(const at::Tensor& x) { return Activate(activation, dense(x)); }

BertLayerImpl::BertLayerImpl(const BertLayerOptions& o)
    : attention(register_module("attention", BertAttention(o.hidden, o.heads, o.eps, o.dropout, o.attention_dropout))),
      intermediate(register_module("intermediate", BertIntermediate(o.hidden, o.intermediate, o.activation))),
      output(register_module("output", DenseResidualNorm(o.intermediate, o.hidden, o.eps, o.dropout))) {
  if (o.cross_attention) {
    crossattention = register_module("crossattention", BertAttention(o.hidden, o.heads, o.eps, o.dropout, o.attention_dropout));
  }
  attn_adapter = MakeAdapter(*this, "attn_adapter", o.hidden, o.adapters.parallel, o.adapters.scale);
  if (o.cross_attention) cross_adapter = MakeAdapter(*this, "cross_adapter", o.hidden, o.adapters.parallel, o.adapters.scale);
  ffn_adapter = MakeAdapter(*this, "ffn_adapter", o.hidden, o.adapters.parallel, o.adapters.scale);
  skip_adapter = MakeAdapter(*this, "skip_adapter", o.hidden, o.adapters.skip, o.adapters.scale);
}

at::Tensor BertLayerImpl::forward(const at::Tensor& x, const at::Tensor& additive_mask, const at::Tensor& context,
                                  const at::Tensor& context_mask) {
  // Parallel adapters take the sub-layer's input and add to its output, before the residual LayerNorm.
  at::Tensor h = attention(x, x, additive_mask, MaybeAdapt(attn_adapter, x));
  if (crossattention) h = crossattention(h, context, context_mask, MaybeAdapt(cross_adapter, h));
  return output(intermediate(h), h, MaybeAdapt(ffn_adapter, h));
}

at::Tensor BertLayerImpl::Skip(const at::Tensor& x) {
  TORCH_CHECK(skip_adapter, "this layer has no skip adapter and cannot be skipped");
  return x + skip_adapter(x);
}

VitMlpImpl::VitMlpImpl(int64_t hidden, int64_t mlp, Activation activation, double dropout)
    : fc1(register_module("fc1", torch::nn::Linear(hidden, mlp))),
      fc2(register_module("fc2", torch::nn::Linear(mlp, hidden))),
      drop(register_module("drop", torch::nn::Dropout(dropout))),
      activation(activation) {}

at::Tensor VitMlpImpl::forward(const at::Tensor& x) { return drop(fc2(drop(Activate(activation, fc1(x))))); }

VitBlockImpl::VitBlockImpl(const VitBlockOptions& o)
    : norm1(register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden}).eps(o.eps)))),
      norm2(register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden}).eps(o.eps)))),
      attn(register_module("attn", FusedAttention(o.hidden, o.heads, o.attention_dropout))),
      mlp(register_module("mlp", VitMlp(o.hidden, o.mlp, o.activation, o.dropout))),
      drop(register_module("drop", torch::nn::Dropout(o.dropout))) {
  attn_adapter = MakeAdapter(*this, "attn_adapter", o.hidden, o.adapters.parallel, o.adapters.scale);
  mlp_adapter = MakeAdapter(*this, "mlp_adapter", o.hidden, o.adapters.parallel, o.adapters.scale);
  skip_adapter = MakeAdapter(*this, "skip_adapter", o.hidden, o.adapters.skip, o.adapters.scale);
}

at::Tensor VitBlockImpl::forward(const at::Tensor& x, const at::Tensor& additive_mask) {
  at::Tensor h = PlusIfDefined(x + drop(attn(norm1(x), additive_mask)), MaybeAdapt(attn_adapter, x));
  return PlusIfDefined(h + mlp(norm2(h)), MaybeAdapt(mlp_adapter, h));
}

at::Tensor VitBlockImpl::Skip(const at::Tensor& x) {
  TORCH_CHECK(skip_adapter, "this layer has no skip adapter and cannot be skipped");
  return x + skip_adapter(x);
}

PoolerImpl::PoolerImpl(int64_t hidden) : dense(register_module("dense", torch::nn::Linear(hidden, hidden))) {}

at::Tensor PoolerImpl::forward(const at::Tensor& x) { return at::tanh(dense(x.select(1, 0))); }

}  // namespace das::blocks

namespace das::blocks {

LayerScope::LayerScope(const std::string& layer_name) : guard_(at::RecordScope::USER_SCOPE) {
  if (guard_.isActive()) guard_.before(std::string(kPrefix) + layer_name);
}

}  // namespace das::blocks
