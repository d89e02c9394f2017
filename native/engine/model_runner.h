// Owns one model and its optimizer, and runs the steps TypeScript drives: train step (forward,
// loss, backward; gradients accumulate), optimizer step (AdamW, learning rate per step from the
// caller), eval step. Not thread-safe: TypeScript runs one operation per model at a time.
#pragma once

#include <torch/optim/adamw.h>

#include <memory>
#include <string>
#include <vector>

#include "models/task_model.h"

namespace das::dist {
class ProcessGroup;
}  // namespace das::dist

namespace das::engine {

struct OptimizerConfig {
  double weight_decay = 0.01;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double head_lr_multiplier = 1.0;  // task heads learn faster (ViLT 10, METER 5-50)
};

struct StepResult {
  double loss = 0.0;
  std::vector<std::pair<std::string, double>> parts;
  at::Tensor logits;  // host tensor, only when asked for
};

class ModelRunner {
 public:
  explicit ModelRunner(std::shared_ptr<models::TaskModel> model);

  models::TaskModel& model() { return *model_; }
  c10::Device device() const { return device_; }
  void To(c10::Device device);

  // Forward + backward in train mode; gradients add up until OptimizerStep. `loss_scale` divides
  // the loss for gradient accumulation (1 / micro-batches).
  StepResult TrainStep(const models::Batch& batch, const std::vector<std::string>& skip, double loss_scale);
  // Forward in eval mode without autograd.
  StepResult EvalStep(const models::Batch& batch, const std::vector<std::string>& skip, bool want_logits);

  void ConfigureOptimizer(const OptimizerConfig& config);
  // One AdamW update at learning rate `lr` (times each group's multiplier), then zero gradients.
  void OptimizerStep(double lr);
  void ZeroGrad();

  // Data-parallel training: from now on every OptimizerStep averages the gradients over `group`'s
  // ranks first, and the trainable parameters start as rank 0's. Null detaches.
  void AttachProcessGroup(std::shared_ptr<dist::ProcessGroup> group);

  // Resume support: the optimizer's moments and step counts as an opaque byte blob (libtorch's
  // archive format), restored into an optimizer configured the same way.
  std::string SaveOptimizerState() const;
  void LoadOptimizerState(const std::string& bytes);

 private:
  StepResult Collect(const models::ModelOutput& output, bool want_logits) const;

  std::shared_ptr<models::TaskModel> model_;
  c10::Device device_{c10::kCPU};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::vector<double> group_multipliers_;
  std::shared_ptr<dist::ProcessGroup> process_group_;
};

}  // namespace das::engine
