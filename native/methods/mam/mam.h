// MAM adapter (He et al., "Towards a unified view of parameter-efficient transfer learning"):
// prefix tuning at the self-attention and a scaled parallel adapter beside the feed-forward
// sub-layer of every adapted layer. The adapter's up-projection starts at zero.
#pragma once

#include "methods/adapter/adapter.h"
#include "methods/method.h"

namespace das::methods {

class MamMethod : public Method {
 public:
  using Method::Method;
  blocks::LayerAttachments Plan(const models::LayerDescriptor& layer) const override {
    blocks::LayerAttachments a;
    a.skip = SkipAdapter(layer);
    if (!layer.adapted) return a;
    a.prefix = spec().prefix;
    blocks::SiteSpec(a.parallel, blocks::Site::kFfn) = ZeroStartAdapter(spec());
    return a;
  }
  bool Trains(const models::ParameterFacts& parameter) const override { return TrainsOwnAndTask(parameter); }
};

}  // namespace das::methods
