// LoRA: a low-rank delta (rank r, scaling alpha / r, dropout on its input) on the target
// projections of every adapted layer (roles: query, key, value, attn_out, ffn_in, ffn_out and the
// cross_* of METER's fusion layers; ViLT's fused qkv gets one delta per targeted slice). B starts
// at zero, so the model starts as the pre-trained one; deltas merge into the weights at export.
#pragma once

#include "methods/method.h"

namespace das::methods {

class LoraMethod : public Method {
 public:
  using Method::Method;
  blocks::LayerAttachments Plan(const models::LayerDescriptor& layer) const override;
  bool Trains(const models::ParameterFacts& parameter) const override { return TrainsOwnAndTask(parameter); }
};

}  // namespace das::methods
