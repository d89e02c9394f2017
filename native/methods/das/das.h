// DAS: parallel adapters beside every sub-layer of the adapted layers and a skip adapter in every
// skippable layer, at the sizes the architecture's configuration gives (the paper's: RoBERTa 16 / 32,
// ViLT 96 / 192, METER 96 / 288) unless the spec overrides them. Trains its adapters, the task parts
// and the head; the pre-trained backbone stays frozen.
#pragma once

#include "methods/method.h"

namespace das::methods {

class DasMethod : public Method {
 public:
  using Method::Method;
  blocks::LayerAttachments Plan(const models::LayerDescriptor& layer) const override;
  bool Trains(const models::ParameterFacts& parameter) const override { return TrainsOwnAndTask(parameter); }
};

}  // namespace das::methods
