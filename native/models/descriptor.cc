#include "models/descriptor.h"

#include <set>
#include <stdexcept>

#include "common/strings.h"

namespace das::models {

std::vector<std::string> ArchitectureDescriptor::LayerNames() const {
  std::vector<std::string> names;
  for (const LayerDescriptor& layer : layers) names.push_back(layer.name);
  return names;
}

const std::vector<std::string>& ArchitectureDescriptor::Scope(const std::string& scope) const {
  std::set<std::string> names;
  for (const auto& [name, layers] : scopes) {
    if (name == scope) return layers;
    names.insert(name);
  }
  std::string known;
  for (const std::string& name : names) known += (known.empty() ? "" : ", ") + name;
  throw std::invalid_argument("unknown scope '" + scope + "' for " + architecture + " (expected: " + known + ")");
}

const LayerDescriptor* ArchitectureDescriptor::LayerOf(const std::string& parameter) const {
  for (const LayerDescriptor& layer : layers) {
    if (StartsWith(parameter, layer.prefix)) return &layer;
  }
  return nullptr;
}

namespace {

LayerDescriptor Placed(const LayerPlace& where) {
  LayerDescriptor d;
  d.name = where.name;
  d.prefix = where.prefix;
  d.region = where.region;
  d.stream = where.stream;
  d.context = where.context;
  return d;
}

}  // namespace

LayerDescriptor BertLayerDescriptor(const LayerPlace& where, const blocks::BertLayerOptions& o, const blocks::AdapterSizes& sizes) {
  LayerDescriptor d = Placed(where);
  d.norm = "post";
  d.hidden = o.hidden;
  d.heads = o.heads;
  d.intermediate = o.intermediate;
  d.cross_attention = o.cross_attention;
  d.layer_norms = o.cross_attention ? 3 : 2;
  d.projections = blocks::BertLayerProjections(o);
  d.sites = o.cross_attention ? std::vector<blocks::Site>{blocks::Site::kAttention, blocks::Site::kCross, blocks::Site::kFfn}
                              : std::vector<blocks::Site>{blocks::Site::kAttention, blocks::Site::kFfn};
  d.sizes = sizes;
  return d;
}

LayerDescriptor VitBlockDescriptor(const LayerPlace& where, const blocks::VitBlockOptions& o, const blocks::AdapterSizes& sizes) {
  LayerDescriptor d = Placed(where);
  d.norm = "pre";
  d.hidden = o.hidden;
  d.heads = o.heads;
  d.intermediate = o.mlp;
  d.layer_norms = 2;
  d.projections = blocks::VitBlockProjections(o);
  d.sites = {blocks::Site::kAttention, blocks::Site::kFfn};
  d.sizes = sizes;
  return d;
}

}  // namespace das::models
