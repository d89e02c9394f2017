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

// Adds the LoRA deltas `attachments` asks for to the layer's projections (found by module name).
void AddLoraDeltas(torch::nn::Module& layer, const std::vector<ProjectionInfo>& projections, const LayerAttachments& attachments) {
  for (const auto& [role, spec] : attachments.lora) {
    if (spec.rank <= 0) continue;
    const ProjectionInfo* found = nullptr;
    for (const ProjectionInfo& p : projections) {
      if (p.role == role) found = &p;
    }
    TORCH_CHECK(found, "this layer has no projection with the role '", role, "'");
    auto module = layer.named_modules("", false)[found->module];
    auto* linear = module->as<AdaptableLinearImpl>();
    TORCH_CHECK(linear, found->module, " is not an adaptable projection");
    linear->AddLora(spec, found->offset, found->out, found->suffix);
  }
}

}  // namespace

std::vector<ProjectionInfo> BertLayerProjections(const BertLayerOptions& o) {
  const int64_t h = o.hidden;
  std::vector<ProjectionInfo> out = {
      {"query", "attention.self.query", h, h}, {"key", "attention.self.key", h, h}, {"value", "attention.self.value", h, h},
      {"attn_out", "attention.output.dense", h, h},
  };
  if (o.cross_attention) {
    out.insert(out.end(), {{"cross_query", "crossattention.self.query", h, h},
                           {"cross_key", "crossattention.self.key", h, h},
                           {"cross_value", "crossattention.self.value", h, h},
                           {"cross_out", "crossattention.output.dense", h, h}});
  }
  out.push_back({"ffn_in", "intermediate.dense", h, o.intermediate});
  out.push_back({"ffn_out", "output.dense", o.intermediate, h});
  return out;
}

std::vector<ProjectionInfo> VitBlockProjections(const VitBlockOptions& o) {
  const int64_t h = o.hidden;
  return {
      {"query", "attn.qkv", h, h, 0, "_q"}, {"key", "attn.qkv", h, h, h, "_k"}, {"value", "attn.qkv", h, h, 2 * h, "_v"},
      {"attn_out", "attn.proj", h, h},       {"ffn_in", "mlp.fc1", h, o.mlp},    {"ffn_out", "mlp.fc2", o.mlp, h},
  };
}

BertIntermediateImpl::BertIntermediateImpl(int64_t hidden, int64_t intermediate, Activation activation)
    : dense(register_module("dense", AdaptableLinear(hidden, intermediate))), activation(activation) {}

at::Tensor BertIntermediateImpl::forward(const at::Tensor& x) { return Activate(activation, dense(x)); }

BertLayerImpl::BertLayerImpl(const BertLayerOptions& o)
    : attention(register_module("attention", BertAttention(o.hidden, o.heads, o.eps, o.dropout, o.attention_dropout))),
      intermediate(register_module("intermediate", BertIntermediate(o.hidden, o.intermediate, o.activation))),
      output(register_module("output", DenseResidualNorm(o.intermediate, o.hidden, o.eps, o.dropout))) {
  if (o.cross_attention) {
    crossattention = register_module("crossattention", BertAttention(o.hidden, o.heads, o.eps, o.dropout, o.attention_dropout));
  }
  const LayerAttachments& a = o.attachments;
  attn_adapter = MakeAdapter(*this, "attn_adapter", o.hidden, SiteSpec(a.parallel, Site::kAttention));
  if (o.cross_attention) cross_adapter = MakeAdapter(*this, "cross_adapter", o.hidden, SiteSpec(a.parallel, Site::kCross));
  ffn_adapter = MakeAdapter(*this, "ffn_adapter", o.hidden, SiteSpec(a.parallel, Site::kFfn));
  skip_adapter = MakeAdapter(*this, "skip_adapter", o.hidden, a.skip);
  attn_seq_adapter = MakeAdapter(*this, "attn_seq_adapter", o.hidden, SiteSpec(a.sequential, Site::kAttention));
  if (o.cross_attention) cross_seq_adapter = MakeAdapter(*this, "cross_seq_adapter", o.hidden, SiteSpec(a.sequential, Site::kCross));
  ffn_seq_adapter = MakeAdapter(*this, "ffn_seq_adapter", o.hidden, SiteSpec(a.sequential, Site::kFfn));
  if (a.prefix.length > 0) attention->self->AddPrefix(a.prefix);
  AddLoraDeltas(*this, BertLayerProjections(o), a);
}

at::Tensor BertLayerImpl::forward(const at::Tensor& x, const at::Tensor& additive_mask, const at::Tensor& context,
                                  const at::Tensor& context_mask) {
  // Parallel adapters take the sub-layer's input and add to its output, before the residual LayerNorm.
  at::Tensor h = attention(x, x, additive_mask, MaybeAdapt(attn_adapter, x), attn_seq_adapter);
  if (crossattention) h = crossattention(h, context, context_mask, MaybeAdapt(cross_adapter, h), cross_seq_adapter);
  return output(intermediate(h), h, MaybeAdapt(ffn_adapter, h), ffn_seq_adapter);
}

at::Tensor BertLayerImpl::Skip(const at::Tensor& x) {
  TORCH_CHECK(skip_adapter, "this layer has no skip adapter and cannot be skipped");
  return x + skip_adapter(x);
}

VitMlpImpl::VitMlpImpl(int64_t hidden, int64_t mlp, Activation activation, double dropout)
    : fc1(register_module("fc1", AdaptableLinear(hidden, mlp))),
      fc2(register_module("fc2", AdaptableLinear(mlp, hidden))),
      drop(register_module("drop", torch::nn::Dropout(dropout))),
      activation(activation) {}

at::Tensor VitMlpImpl::forward(const at::Tensor& x) { return drop(fc2(drop(Activate(activation, fc1(x))))); }

VitBlockImpl::VitBlockImpl(const VitBlockOptions& o)
    : norm1(register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden}).eps(o.eps)))),
      norm2(register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden}).eps(o.eps)))),
      attn(register_module("attn", FusedAttention(o.hidden, o.heads, o.attention_dropout))),
      mlp(register_module("mlp", VitMlp(o.hidden, o.mlp, o.activation, o.dropout))),
      drop(register_module("drop", torch::nn::Dropout(o.dropout))) {
  const LayerAttachments& a = o.attachments;
  attn_adapter = MakeAdapter(*this, "attn_adapter", o.hidden, SiteSpec(a.parallel, Site::kAttention));
  mlp_adapter = MakeAdapter(*this, "mlp_adapter", o.hidden, SiteSpec(a.parallel, Site::kFfn));
  skip_adapter = MakeAdapter(*this, "skip_adapter", o.hidden, a.skip);
  attn_seq_adapter = MakeAdapter(*this, "attn_seq_adapter", o.hidden, SiteSpec(a.sequential, Site::kAttention));
  mlp_seq_adapter = MakeAdapter(*this, "mlp_seq_adapter", o.hidden, SiteSpec(a.sequential, Site::kFfn));
  TORCH_CHECK(SiteSpec(a.parallel, Site::kCross).bottleneck == 0 && SiteSpec(a.sequential, Site::kCross).bottleneck == 0,
              "a ViT block has no cross-attention to put an adapter at");
  if (a.prefix.length > 0) attn->AddPrefix(a.prefix);
  AddLoraDeltas(*this, VitBlockProjections(o), a);
}

at::Tensor VitBlockImpl::forward(const at::Tensor& x, const at::Tensor& additive_mask) {
  // a sequential adapter sits on the sub-layer's output before the residual (Houlsby)
  at::Tensor h = PlusIfDefined(x + MaybeResidualAdapt(attn_seq_adapter, drop(attn(norm1(x), additive_mask))), MaybeAdapt(attn_adapter, x));
  return PlusIfDefined(h + MaybeResidualAdapt(mlp_seq_adapter, mlp(norm2(h))), MaybeAdapt(mlp_adapter, h));
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
