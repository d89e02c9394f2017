// BitFit: the bias terms of the adapted layers' pre-trained parameters train (every projection's
// and LayerNorm's bias), with the task parts and the head; nothing is attached but skip adapters.
#pragma once

#include "methods/method.h"

namespace das::methods {

class BitFitMethod : public Method {
 public:
  using Method::Method;
  blocks::LayerAttachments Plan(const models::LayerDescriptor& layer) const override {
    blocks::LayerAttachments a;
    a.skip = SkipAdapter(layer);
    return a;
  }
  bool Trains(const models::ParameterFacts& p) const override {
    return TrainsOwnAndTask(p) || (p.role == models::ParameterRole::kPretrained && p.bias && p.layer && p.layer->adapted);
  }
};

}  // namespace das::methods
