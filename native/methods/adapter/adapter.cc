#include "methods/adapter/adapter.h"

#include <stdexcept>

namespace das::methods {

blocks::AdapterSpec ZeroStartAdapter(const MethodSpec& spec) {
  if (!spec.bottleneck || !spec.scale) throw std::invalid_argument("method " + spec.name + " needs a bottleneck and a scale");
  blocks::AdapterSpec adapter;
  adapter.bottleneck = *spec.bottleneck;
  adapter.scale = *spec.scale;
  adapter.norm = spec.adapter_norm;
  adapter.init = blocks::AdapterInit::kZeroUp;
  return adapter;
}

blocks::LayerAttachments AdapterMethod::Plan(const models::LayerDescriptor& layer) const {
  blocks::LayerAttachments a;
  a.skip = SkipAdapter(layer);
  if (!layer.adapted) return a;
  const blocks::AdapterSpec adapter = ZeroStartAdapter(spec());
  for (blocks::Site site : layer.sites) blocks::SiteSpec(a.sequential, site) = adapter;
  return a;
}

}  // namespace das::methods
