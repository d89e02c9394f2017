// Prefix tuning: `length` learned key/value positions in front of every adapted layer's
// self-attention keys and values (separate keys and values, or virtual tokens through the layer's
// own key and value projections; see models/blocks/attachments.h).
#pragma once

#include "methods/method.h"

namespace das::methods {

class PrefixMethod : public Method {
 public:
  using Method::Method;
  blocks::LayerAttachments Plan(const models::LayerDescriptor& layer) const override {
    blocks::LayerAttachments a;
    a.skip = SkipAdapter(layer);
    if (layer.adapted) a.prefix = spec().prefix;
    return a;
  }
  bool Trains(const models::ParameterFacts& parameter) const override { return TrainsOwnAndTask(parameter); }
};

}  // namespace das::methods
