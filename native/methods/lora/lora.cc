#include "methods/lora/lora.h"

namespace das::methods {

blocks::LayerAttachments LoraMethod::Plan(const models::LayerDescriptor& layer) const {
  blocks::LayerAttachments a;
  a.skip = SkipAdapter(layer);
  if (!layer.adapted) return a;
  for (const blocks::ProjectionInfo& projection : layer.projections) {
    for (const std::string& target : spec().lora_targets) {
      if (projection.role == target) a.lora[target] = spec().lora;
    }
  }
  return a;
}

}  // namespace das::methods
