// Owns one model and its optimizer, and runs the steps TypeScript drives: train step (forward,
// loss, backward; gradients accumulate), optimizer step (AdamW, learning rate per step from the
// caller), eval step. Not thread-safe: TypeScript runs one operation per model at a time.
#pragma once

#include <torch/optim/adamw.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/precision.h"
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
  std::optional<double> loss;  // none when the batch has no targets
  std::vector<std::pair<std::string, double>> parts;
  at::Tensor logits;  // host tensor, only when asked for
};

struct OptimizerStepResult {
  bool applied = true;      // false when fp16 gradients overflowed and the update was skipped
  double grad_scale = 1.0;  // the gradient scale for the next step (1 without gradient scaling)
};

class ModelRunner {
 public:
  explicit ModelRunner(std::shared_ptr<models::TaskModel> model);

  models::TaskModel& model() { return *model_; }
  c10::Device device() const { return device_; }
  void To(c10::Device device);

  // The forward passes' autocast dtype and fp16's gradient scaling (engine/precision.h). Checked
  // against the device; reconfiguring drops the scaler's state.
  void ConfigurePrecision(const PrecisionConfig& config);
  Precision precision() const { return precision_; }

  // Forward (under the precision's autocast) + backward in train mode; gradients add up until
  // OptimizerStep. `accumulation_weight` (1 / micro-batches per optimizer step) weighs this
  // micro-batch's loss; it is not the fp16 gradient scale, which the runner applies itself.
  StepResult TrainStep(const models::Batch& batch, const std::vector<std::string>& skip, double accumulation_weight);
  // Forward in eval mode without autograd, under the precision's autocast.
  StepResult EvalStep(const models::Batch& batch, const std::vector<std::string>& skip, bool want_logits);

  void ConfigureOptimizer(const OptimizerConfig& config);
  // Averages the gradients over the ranks (data parallel), unscales and checks fp16 gradients, then
  // one AdamW update at learning rate `lr` (times each group's multiplier) unless they overflowed;
  // zeroes the gradients either way.
  OptimizerStepResult OptimizerStep(double lr);
  void ZeroGrad();

  // Data-parallel training: from now on every OptimizerStep averages the gradients over `group`'s
  // ranks first, and the trainable parameters start as rank 0's. Null detaches.
  void AttachProcessGroup(std::shared_ptr<dist::ProcessGroup> group);

  // Resume support: the optimizer's moments and step counts (and the gradient scaler's state) as an
  // opaque byte blob (libtorch's archive format), restored into an optimizer configured the same way.
  std::string SaveOptimizerState() const;
  void LoadOptimizerState(const std::string& bytes);

 private:
  // The model's forward pass (and loss) under the precision's autocast.
  models::ModelOutput Forward(const models::Batch& batch, const std::vector<bool>& skipped);
  StepResult Collect(const models::ModelOutput& output, bool want_logits) const;

  std::shared_ptr<models::TaskModel> model_;
  c10::Device device_{c10::kCPU};
  std::unique_ptr<torch::optim::AdamW> optimizer_;
  std::vector<double> group_multipliers_;
  Precision precision_ = Precision::kFp32;
  std::optional<GradScaler> scaler_;
  std::shared_ptr<dist::ProcessGroup> process_group_;
};

}  // namespace das::engine
