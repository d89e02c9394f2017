// Full fine-tuning: every parameter trains (the matching head that only initialises the rank head
// excepted); nothing is attached but the skip adapters of skipped layers.
#pragma once

#include "methods/method.h"

namespace das::methods {

class FullMethod : public Method {
 public:
  using Method::Method;
  blocks::LayerAttachments Plan(const models::LayerDescriptor& layer) const override {
    blocks::LayerAttachments a;
    a.skip = SkipAdapter(layer);
    return a;
  }
  bool Trains(const models::ParameterFacts& parameter) const override { return parameter.role != models::ParameterRole::kFrozenHead; }
};

}  // namespace das::methods
