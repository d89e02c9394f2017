#include "methods/method.h"

#include <algorithm>
#include <stdexcept>

#include "methods/adapter/adapter.h"
#include "methods/bitfit/bitfit.h"
#include "methods/das/das.h"
#include "methods/full/full.h"
#include "methods/lora/lora.h"
#include "methods/mam/mam.h"
#include "methods/prefix/prefix.h"

namespace das::methods {

blocks::AdapterSpec Method::SkipAdapter(const models::LayerDescriptor& layer) const {
  blocks::AdapterSpec skip;
  if (!layer.skippable) return skip;
  const auto& only = spec_.skip_layers;
  if (only && std::find(only->begin(), only->end(), layer.name) == only->end()) return skip;
  skip.bottleneck = spec_.skip_bottleneck.value_or(layer.sizes.skip);
  skip.scale = layer.sizes.scale;
  return skip;  // DAS's adapter: affine LayerNorm, normal(0, 0.02) start
}

bool Method::TrainsOwnAndTask(const models::ParameterFacts& p) {
  return p.role == models::ParameterRole::kMethod || p.role == models::ParameterRole::kTask || p.role == models::ParameterRole::kHead;
}

std::shared_ptr<const Method> MakeMethod(const MethodSpec& spec) {
  if (spec.name == "das") return std::make_shared<DasMethod>(spec);
  if (spec.name == "full") return std::make_shared<FullMethod>(spec);
  if (spec.name == "bitfit") return std::make_shared<BitFitMethod>(spec);
  if (spec.name == "lora") return std::make_shared<LoraMethod>(spec);
  if (spec.name == "adapter") return std::make_shared<AdapterMethod>(spec);
  if (spec.name == "prefix") return std::make_shared<PrefixMethod>(spec);
  if (spec.name == "mam") return std::make_shared<MamMethod>(spec);
  throw std::invalid_argument("unknown method '" + spec.name + "' (expected full, bitfit, lora, adapter, prefix, mam or das)");
}

models::MethodHooks HooksOf(std::shared_ptr<const Method> method) {
  return {[method](const models::LayerDescriptor& layer) { return method->Plan(layer); },
          [method](const models::ParameterFacts& parameter) { return method->Trains(parameter); }};
}

}  // namespace das::methods
