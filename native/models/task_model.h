// The one interface every model implements (RoBERTa, ViLT, METER), so that the engine and the
// DAS policy never need to know which model they drive: named skippable layers, forward + loss
// with a skip set, the trainable/frozen split of DAS, and state loading by name.
#pragma once

#include <torch/nn/module.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

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

struct ParameterInfo {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numel = 0;
  bool trainable = false;
  bool head = false;   // task head: counted apart, as the paper's tables do
  bool decay = false;  // AdamW weight decay applies (not biases, not LayerNorm weights)
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

// DAS adapters (parallel and skip) are named `<slot>_adapter.*` in every model.
bool IsAdapterParameter(const std::string& name);

class TaskModel : public torch::nn::Module {
 public:
  ~TaskModel() override = default;

  virtual std::string Architecture() const = 0;
  // Every skippable layer, in forward order (the paper's names: En0.., FL0.., LEn0..).
  virtual std::vector<std::string> LayerNames() const = 0;
  // Candidate layers of a search scope; "global" is every skippable layer unless a model says otherwise.
  virtual std::vector<std::string> Scope(const std::string& scope) const;
  // Forward pass and, when the batch carries targets, the task loss. skipped[i] replaces layer i
  // (of LayerNames()) by its skip adapter.
  virtual ModelOutput Run(const Batch& batch, const std::vector<bool>& skipped) = 0;
  // DAS: adapters, heads, poolers, modality embeddings train; the pre-trained rest is frozen.
  virtual bool IsTrainable(const std::string& name) const = 0;
  virtual bool IsHead(const std::string& name) const = 0;
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
  void ApplyFreezing();
  // Makes exactly `names` trainable (pre-training a small model, other PETL methods); unknown names
  // are an error. ApplyFreezing() restores the DAS split.
  void SetTrainable(const std::vector<std::string>& names);
  std::vector<ParameterInfo> Parameters() const;
  // Copies tensors into parameters/buffers by (mapped) name. Strict: throws, naming them, on
  // mismatched shapes, unexpected names, or missing names of the expected kind.
  LoadReport LoadState(const std::vector<std::pair<std::string, at::Tensor>>& tensors, bool strict, LoadExpectation expect);
};

}  // namespace das::models
