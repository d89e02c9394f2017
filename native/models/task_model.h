// The one interface every model implements (RoBERTa, ViLT, METER), so that the engine, the DAS
// policy and the methods never need to know which model they drive: an architecture descriptor
// (named layers, scopes, attachment points), forward + loss with a skip set, parameter roles, and
// state loading by name. A model is built with MethodHooks: what to attach at each layer and which
// parameters train. It never learns which method that was.
#pragma once

#include <torch/nn/module.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "models/descriptor.h"

namespace das::models {

// Named input tensors of one batch (input_ids, attention_mask, pixel_values, labels, ...).
struct Batch {
  std::map<std::string, at::Tensor> tensors;

  const at::Tensor& Require(const std::string& name) const;  // throws naming the missing field
  at::Tensor Optional(const std::string& name) const;        // undefined when absent
  Batch To(c10::Device device) const;
};

struct ModelOutput {
  at::Tensor logits;
  at::Tensor loss;  // undefined when the batch has no targets
  std::vector<std::pair<std::string, at::Tensor>> loss_parts;
};

// What a parameter is to the methods:
//  - pretrained: the published backbone (what parameter-efficient methods freeze);
//  - task: parts every method trains because the task needs them new (poolers, modality tables,
//    METER's cross-modal transforms and token4classifier);
//  - head: the task head (counted apart, as the paper's tables do);
//  - frozen_head: a head kept only to initialise another (the image-text matching head);
//  - method: a method's own modules (adapters, LoRA deltas, prefixes, skip adapters).
enum class ParameterRole { kPretrained, kTask, kHead, kFrozenHead, kMethod };
const char* RoleName(ParameterRole role);

// What a method's trainable rule sees of one parameter.
struct ParameterFacts {
  const std::string& name;
  ParameterRole role;
  bool bias = false;
  const LayerDescriptor* layer = nullptr;  // the descriptor layer it belongs to, if any
};

using AttachmentPlanner = std::function<blocks::LayerAttachments(const LayerDescriptor&)>;
using TrainableRule = std::function<bool(const ParameterFacts&)>;

struct MethodHooks {
  AttachmentPlanner plan;  // what each layer carries
  TrainableRule trains;    // which parameters train
};

struct ParameterInfo {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numel = 0;
  bool trainable = false;  // requires_grad: the one definition every consumer uses
  bool head = false;   // task head: counted apart, as the paper's tables do
  bool decay = false;  // AdamW weight decay applies (not biases, not LayerNorm weights)
  ParameterRole role = ParameterRole::kPretrained;
};

struct ShapeMismatch {
  std::string name;
  std::vector<int64_t> expected, received;
};

struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;     // parameters the checkpoint did not provide
  std::vector<std::string> unexpected;  // checkpoint names (after mapping) the model does not have
  std::vector<std::string> ignored;     // checkpoint names the name map drops on purpose
  std::vector<ShapeMismatch> mismatched;
};

enum class LoadExpectation { kPretrained, kTrainable, kAll };

// One checkpoint tensor on its way into the model: its name in the file, our name for it ("" =
// dropped on purpose), and the tensor (possibly reshaped or fused by AdaptCheckpoint).
struct MappedTensor {
  std::string source;
  std::string name;
  at::Tensor tensor;
};

class TaskModel : public torch::nn::Module {
 public:
  explicit TaskModel(MethodHooks hooks) : hooks_(std::move(hooks)) {}
  ~TaskModel() override = default;

  virtual std::string Architecture() const = 0;
  virtual const ArchitectureDescriptor& Descriptor() const = 0;
  // Every skippable layer, in forward order (the paper's names: En0.., FL0.., LEn0..).
  std::vector<std::string> LayerNames() const { return Descriptor().LayerNames(); }
  // Candidate layers of a search scope.
  std::vector<std::string> Scope(const std::string& scope) const { return Descriptor().Scope(scope); }
  // Forward pass and, when the batch carries targets, the task loss. skipped[i] replaces layer i
  // (of LayerNames()) by its skip adapter.
  virtual ModelOutput Run(const Batch& batch, const std::vector<bool>& skipped) = 0;
  virtual bool IsHead(const std::string& name) const = 0;
  // Task parts (see ParameterRole); none by default.
  virtual bool IsTaskPart(const std::string& name) const { return false; }
  // Heads that never train (the matching head that only initialises the rank head).
  virtual bool IsFrozenHead(const std::string& name) const { return false; }
  // Translates a name of a published checkpoint into ours; "" drops it on purpose.
  virtual std::string MapCheckpointName(const std::string& name) const { return name; }
  // Rewrites what no single-name map can: split q/k/v fused into qkv, a modality table grown for
  // NLVR2, a position grid resized to this model's image size. Runs after MapCheckpointName.
  virtual void AdaptCheckpoint(std::vector<MappedTensor>& tensors) const {}
  // Initialisations that depend on loaded weights (a rank head from the matching head, METER's
  // token4classifier from the text embeddings) when the checkpoint did not provide them.
  virtual void AfterLoad(const LoadReport& report) {}
  // Model-specific counters (feature cache hits, ...), for reports and tests.
  virtual std::vector<std::pair<std::string, double>> Counters() const { return {}; }

  std::vector<bool> SkipMask(const std::vector<std::string>& names) const;
  ParameterRole Role(const std::string& name) const;
  // requires_grad from the method's trainable rule.
  void ApplyFreezing();
  // Makes exactly `names` trainable (pre-training a small model); unknown names are an error.
  // ApplyFreezing() restores the method's split.
  void SetTrainable(const std::vector<std::string>& names);
  std::vector<ParameterInfo> Parameters() const;
  // Folds every LoRA delta into its projection's weight (and removes the deltas): same outputs,
  // no extra inference cost. Returns how many deltas were merged.
  int64_t MergeLora();
  // Copies tensors into parameters/buffers by (mapped) name. Strict: throws, naming them, on
  // mismatched shapes, unexpected names, or missing names of the expected kind.
  LoadReport LoadState(const std::vector<std::pair<std::string, at::Tensor>>& tensors, bool strict, LoadExpectation expect);

 protected:
  // Called after the trainable set changed (models that keep frozen regions out of autograd).
  virtual void OnTrainableChanged() {}
  const MethodHooks& hooks() const { return hooks_; }

 private:
  // Names of the parameters of the method's own modules (adapters, prefixes, LoRA deltas).
  std::set<std::string> MethodParameterNames() const;
  ParameterRole RoleOf(const std::string& name, const std::set<std::string>& method) const;

  MethodHooks hooks_;
};

}  // namespace das::models
