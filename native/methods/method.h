// A parameter-efficient method as the native side sees it: what it attaches at each layer's
// attachment points (models/blocks/attachments.h) and which parameters it trains. One folder per
// method: das/, full/, bitfit/, lora/, adapter/, prefix/, mam/. Models receive a method only as
// MethodHooks and never learn which one it was. Option defaults are resolved in TypeScript
// (lib/methods/); a spec arrives complete.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/blocks/attachments.h"
#include "models/task_model.h"

namespace das::methods {

struct MethodSpec {
  std::string name = "das";
  // Skip adapters (any method): bottleneck (unset: each layer's configured size; 0: none) and the
  // layers that get one (unset: every skippable layer).
  std::optional<int64_t> skip_bottleneck;
  std::optional<std::vector<std::string>> skip_layers;
  // Bottleneck adapters (das: parallel at every site; adapter: sequential; mam: parallel at the FFN).
  std::optional<int64_t> bottleneck;  // unset (das): each layer's configured size
  std::optional<double> scale;        // unset (das): each layer's configured scale
  blocks::AdapterNorm adapter_norm = blocks::AdapterNorm::kAffine;
  // LoRA
  blocks::LoraSpec lora;
  std::vector<std::string> lora_targets;  // projection roles
  // Prefix
  blocks::PrefixSpec prefix;
};

class Method {
 public:
  explicit Method(MethodSpec spec) : spec_(std::move(spec)) {}
  virtual ~Method() = default;

  const MethodSpec& spec() const { return spec_; }
  // What `layer` carries. The skip adapter is the same for every method (SkipAdapter).
  virtual blocks::LayerAttachments Plan(const models::LayerDescriptor& layer) const = 0;
  virtual bool Trains(const models::ParameterFacts& parameter) const = 0;

 protected:
  // The skip adapter `layer` gets from this spec (bottleneck 0 = none).
  blocks::AdapterSpec SkipAdapter(const models::LayerDescriptor& layer) const;
  // The method's own modules, the task parts and the task head: what every method trains.
  static bool TrainsOwnAndTask(const models::ParameterFacts& parameter);

 private:
  MethodSpec spec_;
};

// Throws std::invalid_argument naming an unknown method.
std::shared_ptr<const Method> MakeMethod(const MethodSpec& spec);

// The hooks a model is built with (they keep the method alive).
models::MethodHooks HooksOf(std::shared_ptr<const Method> method);

}  // namespace das::methods
