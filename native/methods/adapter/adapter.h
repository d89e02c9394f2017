// Adapter (Houlsby et al.): a sequential bottleneck adapter after every sub-layer (attention,
// cross-attention, feed-forward) of the adapted layers, before the residual: y + adapter(y). The
// up-projection starts at zero, so the model starts as the pre-trained one.
#pragma once

#include "methods/method.h"

namespace das::methods {

class AdapterMethod : public Method {
 public:
  using Method::Method;
  blocks::LayerAttachments Plan(const models::LayerDescriptor& layer) const override;
  bool Trains(const models::ParameterFacts& parameter) const override { return TrainsOwnAndTask(parameter); }
};

// The adapter of a spec's bottleneck, scale and norm that starts as a no-op.
blocks::AdapterSpec ZeroStartAdapter(const MethodSpec& spec);

}  // namespace das::methods
