#include "models/task_model.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/normalization.h>

#include "common/strings.h"
#include "models/blocks/adaptable_linear.h"
#include "models/blocks/adapter.h"
#include "models/blocks/prefix.h"

#include <set>
#include <sstream>
#include <stdexcept>

namespace das::models {

namespace {

std::string Join(const std::vector<std::string>& items, size_t limit = 12) {
  std::string text;
  for (size_t i = 0; i < items.size() && i < limit; ++i) text += (i ? ", " : "") + items[i];
  if (items.size() > limit) text += ", ... (" + std::to_string(items.size()) + " in all)";
  return text;
}

std::string ShapeText(at::IntArrayRef shape) {
  std::ostringstream out;
  out << shape;
  return out.str();
}

}  // namespace

const char* RoleName(ParameterRole role) {
  switch (role) {
    case ParameterRole::kTask: return "task";
    case ParameterRole::kHead: return "head";
    case ParameterRole::kFrozenHead: return "frozen_head";
    case ParameterRole::kMethod: return "method";
    case ParameterRole::kPretrained: break;
  }
  return "pretrained";
}

const at::Tensor& Batch::Require(const std::string& name) const {
  const auto it = tensors.find(name);
  if (it == tensors.end()) throw std::invalid_argument("batch is missing the field '" + name + "'");
  return it->second;
}

at::Tensor Batch::Optional(const std::string& name) const {
  const auto it = tensors.find(name);
  return it == tensors.end() ? at::Tensor() : it->second;
}

Batch Batch::To(c10::Device device) const {
  Batch moved;
  for (const auto& [name, tensor] : tensors) moved.tensors[name] = tensor.to(device);
  return moved;
}

std::vector<bool> TaskModel::SkipMask(const std::vector<std::string>& names) const {
  const std::vector<std::string> layers = LayerNames();
  std::vector<bool> mask(layers.size(), false);
  for (const std::string& name : names) {
    bool found = false;
    for (size_t i = 0; i < layers.size(); ++i) {
      if (layers[i] == name) mask[i] = found = true;
    }
    if (!found) throw std::invalid_argument("unknown layer '" + name + "' for " + Architecture() + " (layers: " + Join(layers, 40) + ")");
  }
  return mask;
}

std::set<std::string> TaskModel::MethodParameterNames() const {
  std::set<std::string> names;
  for (const auto& item : named_modules("", false)) {
    const torch::nn::Module& module = *item.value();
    const std::string prefix = item.key() + ".";
    if (module.as<blocks::AdapterImpl>() || module.as<blocks::KeyValuePrefixImpl>()) {
      for (const auto& param : module.named_parameters(true)) names.insert(prefix + param.key());
    } else if (const auto* linear = module.as<blocks::AdaptableLinearImpl>()) {
      for (const blocks::LoraDelta& delta : linear->deltas()) {
        names.insert(prefix + "lora_A" + delta.suffix + ".weight");
        names.insert(prefix + "lora_B" + delta.suffix + ".weight");
      }
    }
  }
  return names;
}

ParameterRole TaskModel::Role(const std::string& name) const { return RoleOf(name, MethodParameterNames()); }

ParameterRole TaskModel::RoleOf(const std::string& name, const std::set<std::string>& method) const {
  if (method.count(name)) return ParameterRole::kMethod;
  if (IsFrozenHead(name)) return ParameterRole::kFrozenHead;
  if (IsHead(name)) return ParameterRole::kHead;
  if (IsTaskPart(name)) return ParameterRole::kTask;
  return ParameterRole::kPretrained;
}

void TaskModel::SetTrainable(const std::vector<std::string>& names) {
  auto params = named_parameters(true);
  for (const std::string& name : names) {
    if (params.find(name) == nullptr) throw std::invalid_argument("setTrainable: " + Architecture() + " has no parameter '" + name + "'");
  }
  const std::set<std::string> wanted(names.begin(), names.end());
  for (auto& item : params) item.value().set_requires_grad(wanted.count(item.key()) > 0);
  OnTrainableChanged();
}

void TaskModel::ApplyFreezing() {
  TORCH_CHECK(hooks_.trains, Architecture(), " was built without a trainable rule");
  const std::set<std::string> method = MethodParameterNames();
  const ArchitectureDescriptor& descriptor = Descriptor();
  for (auto& item : named_parameters(true)) {
    const std::string& name = item.key();
    const ParameterRole role = RoleOf(name, method);
    const ParameterFacts facts{name, role, EndsWith(name, ".bias"), descriptor.LayerOf(name)};
    item.value().set_requires_grad(hooks_.trains(facts));
  }
  OnTrainableChanged();
}

int64_t TaskModel::MergeLora() {
  int64_t merged = 0;
  for (const auto& item : named_modules("", false)) {
    if (auto* linear = item.value()->as<blocks::AdaptableLinearImpl>()) {
      merged += static_cast<int64_t>(linear->deltas().size());
      linear->MergeLora();
    }
  }
  return merged;
}

std::vector<ParameterInfo> TaskModel::Parameters() const {
  // LayerNorm weights never decay; find them by module type rather than by name.
  std::set<std::string> layer_norm_params;
  for (const auto& item : named_modules("", false)) {
    if (item.value()->as<torch::nn::LayerNorm>() == nullptr && item.value()->as<blocks::ScaleNormImpl>() == nullptr) continue;
    for (const auto& param : item.value()->named_parameters(false)) layer_norm_params.insert(item.key() + "." + param.key());
  }
  const std::set<std::string> method = MethodParameterNames();
  std::vector<ParameterInfo> infos;
  for (const auto& item : named_parameters(true)) {
    const std::string& name = item.key();
    const at::Tensor& value = item.value();
    const bool is_bias = EndsWith(name, ".bias");
    infos.push_back({name, value.sizes().vec(), value.numel(), value.requires_grad(), IsHead(name),
                     !is_bias && layer_norm_params.count(name) == 0, RoleOf(name, method)});
  }
  return infos;
}

LoadReport TaskModel::LoadState(const std::vector<std::pair<std::string, at::Tensor>>& tensors, bool strict, LoadExpectation expect) {
  LoadReport report;
  auto params = named_parameters(true);
  auto buffers = named_buffers(true);
  std::set<std::string> seen;
  torch::NoGradGuard no_grad;
  std::vector<MappedTensor> mapped;
  mapped.reserve(tensors.size());
  for (const auto& [source_name, tensor] : tensors) mapped.push_back({source_name, MapCheckpointName(source_name), tensor});
  AdaptCheckpoint(mapped);
  for (const auto& [source_name, name, tensor] : mapped) {
    if (name.empty()) {
      report.ignored.push_back(source_name);
      continue;
    }
    at::Tensor* target = params.find(name);
    if (target == nullptr) target = buffers.find(name);
    if (target == nullptr) {
      report.unexpected.push_back(name == source_name ? name : source_name + " (as " + name + ")");
      continue;
    }
    if (target->sizes() != tensor.sizes()) {
      report.mismatched.push_back({name, target->sizes().vec(), tensor.sizes().vec()});
      seen.insert(name);  // reported as mismatched, not again as missing
      continue;
    }
    target->copy_(tensor);
    report.loaded.push_back(name);
    seen.insert(name);
  }
  for (const auto& item : params) {
    if (seen.count(item.key())) continue;
    report.missing.push_back(item.key());
  }
  AfterLoad(report);
  if (strict) {
    std::vector<std::string> problems;
    for (const auto& mismatch : report.mismatched) {
      problems.push_back("shape of " + mismatch.name + ": expected " + ShapeText(mismatch.expected) + ", checkpoint has " +
                         ShapeText(mismatch.received));
    }
    if (!report.unexpected.empty()) problems.push_back("unexpected keys: " + Join(report.unexpected));
    std::vector<std::string> missing_expected;
    for (const std::string& name : report.missing) {
      const bool trainable = params[name].requires_grad();
      if (expect == LoadExpectation::kAll || (expect == LoadExpectation::kTrainable) == trainable) missing_expected.push_back(name);
    }
    if (!missing_expected.empty()) problems.push_back("missing keys: " + Join(missing_expected));
    if (!problems.empty()) {
      std::string message = "checkpoint does not fit the " + Architecture() + " model:";
      for (const std::string& problem : problems) message += "\n  - " + problem;
      throw std::invalid_argument(message);
    }
  }
  return report;
}

}  // namespace das::models
