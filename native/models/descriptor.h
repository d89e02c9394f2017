// The architecture descriptor: what methods (native/methods/) and TypeScript (lib/models/
// architecture.ts) need to know about a model's transformer layers, computed from its
// configuration without building it: paper names, parameter prefixes, regions, attachment points
// (projections by role, adapter sites), the configuration's adapter sizes, and the search scopes.
// Every model builds its layers from its own descriptor, so the two never disagree.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "models/blocks/attachments.h"
#include "models/blocks/layers.h"

namespace das::models {

struct LayerDescriptor {
  std::string name;    // paper name: En3, FL0, FV2, LEn7
  std::string prefix;  // its parameters' prefix: "roberta.encoder.layer.3."
  std::string region;  // "encoder" (RoBERTa, ViLT), "fusion" and "text" (METER)
  std::string norm;    // "post" (BERT-style) or "pre" (ViT-style)
  std::string stream;  // the tokens it runs on: "text", "image" or "joint" (ViLT's concatenation)
  std::string context; // the stream its cross-attention reads ("" without one)
  bool skippable = true;  // a search candidate (it owns a skip adapter when the method gives sizes)
  bool adapted = true;    // methods attach their modules here (METER's language encoder: skip adapters only)
  int64_t hidden = 0, heads = 0, intermediate = 0;
  bool cross_attention = false;
  int64_t layer_norms = 0;  // LayerNorms of width `hidden` inside the layer
  std::vector<blocks::ProjectionInfo> projections;
  std::vector<blocks::Site> sites;  // sub-layers with adapter sites
  blocks::AdapterSizes sizes;       // the configuration's adapter sizes for this layer
};

struct ArchitectureDescriptor {
  std::string architecture;
  std::vector<LayerDescriptor> layers;  // forward order; LayerNames() of the model
  std::vector<std::pair<std::string, std::vector<std::string>>> scopes;  // "global" first
  // Module name of the skip adapter inside a layer: the only part of a skipped layer that runs.
  std::string skip_adapter = "skip_adapter";

  std::vector<std::string> LayerNames() const;
  const std::vector<std::string>& Scope(const std::string& scope) const;  // throws naming the scopes
  // The layer whose prefix starts `parameter`, or nullptr.
  const LayerDescriptor* LayerOf(const std::string& parameter) const;
};

// A descriptor entry for a BERT-style (post-LN) or ViT-style (pre-LN) layer.
// `where` names the layer: paper name, parameter prefix, region, streams.
struct LayerPlace {
  std::string name, prefix, region, stream, context;
};
LayerDescriptor BertLayerDescriptor(const LayerPlace& where, const blocks::BertLayerOptions& options, const blocks::AdapterSizes& sizes);
LayerDescriptor VitBlockDescriptor(const LayerPlace& where, const blocks::VitBlockOptions& options, const blocks::AdapterSizes& sizes);

}  // namespace das::models
