#include "methods/das/das.h"

namespace das::methods {

blocks::LayerAttachments DasMethod::Plan(const models::LayerDescriptor& layer) const {
  blocks::LayerAttachments a;
  blocks::AdapterSpec parallel;
  // a layer that is not adapted (METER's language encoder) keeps what its configuration says (none)
  parallel.bottleneck = layer.adapted ? spec().bottleneck.value_or(layer.sizes.parallel) : layer.sizes.parallel;
  parallel.scale = spec().scale.value_or(layer.sizes.scale);
  parallel.norm = spec().adapter_norm;
  for (blocks::Site site : layer.sites) blocks::SiteSpec(a.parallel, site) = parallel;
  a.skip = SkipAdapter(layer);
  return a;
}

}  // namespace das::methods
