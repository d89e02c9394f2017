#include "engine/model_runner.h"

#include <ATen/ATen.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/utils.h>

#include <sstream>

#include <stdexcept>

#include "dist/parameter_sync.h"

namespace das::engine {

ModelRunner::ModelRunner(std::shared_ptr<models::TaskModel> model) : model_(std::move(model)) {}

void ModelRunner::To(c10::Device device) {
  if (optimizer_) throw std::logic_error("move the model before configuring its optimizer");
  CheckPrecisionSupported(precision_, device);
  model_->to(device);
  device_ = device;
}

void ModelRunner::ConfigurePrecision(const PrecisionConfig& config) {
  CheckPrecisionSupported(config.precision, device_);
  precision_ = config.precision;
  const bool scaling = config.grad_scaling.value_or(config.precision == Precision::kFp16);
  if (scaling) scaler_.emplace(config.scaler);
  else scaler_.reset();
}

StepResult ModelRunner::Collect(const models::ModelOutput& output, bool want_logits) const {
  StepResult result;
  if (output.loss.defined()) result.loss = output.loss.item<double>();
  for (const auto& [name, value] : output.loss_parts) result.parts.emplace_back(name, value.item<double>());
  if (want_logits) result.logits = output.logits.detach().to(c10::kCPU, at::kFloat).contiguous();
  return result;
}

models::ModelOutput ModelRunner::Forward(const models::Batch& batch, const std::vector<bool>& skipped) {
  models::ModelOutput output;
  {
    AutocastScope autocast(precision_, device_);
    output = model_->Run(batch.To(device_), skipped);
  }
  // A loss reduced in bf16/fp16 would round away the small differences DAS rewards compare.
  if (output.loss.defined() && output.loss.scalar_type() != at::kFloat && output.loss.scalar_type() != at::kDouble) {
    throw std::logic_error(std::string("the ") + model_->Architecture() + " loss came out in " + c10::toString(output.loss.scalar_type()) +
                           "; losses must be reduced in float32");
  }
  return output;
}

StepResult ModelRunner::TrainStep(const models::Batch& batch, const std::vector<std::string>& skip, double accumulation_weight) {
  const std::vector<bool> mask = model_->SkipMask(skip);
  model_->train();
  torch::AutoGradMode grad(true);
  const models::ModelOutput output = Forward(batch, mask);
  if (!output.loss.defined()) throw std::invalid_argument("train step: the batch has no targets (labels) to compute a loss from");
  // backward outside autocast, as PyTorch prescribes: gradients reach the fp32 master weights in fp32
  const double multiplier = accumulation_weight * (scaler_ ? scaler_->scale() : 1.0);
  (multiplier == 1.0 ? output.loss : output.loss * multiplier).backward();
  return Collect(output, false);
}

StepResult ModelRunner::EvalStep(const models::Batch& batch, const std::vector<std::string>& skip, bool want_logits) {
  const std::vector<bool> mask = model_->SkipMask(skip);
  model_->eval();
  torch::NoGradGuard no_grad;
  return Collect(Forward(batch, mask), want_logits);
}

void ModelRunner::ConfigureOptimizer(const OptimizerConfig& config) {
  // Four groups: {body, head} x {decay, no decay}; the learning rate is set on every step.
  std::vector<at::Tensor> groups[4];
  const auto infos = model_->Parameters();
  auto params = model_->named_parameters(true);
  for (const auto& info : infos) {
    if (!info.trainable) continue;
    groups[(info.head ? 2 : 0) + (info.decay ? 0 : 1)].push_back(params[info.name]);
  }
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  group_multipliers_.clear();
  for (int g = 0; g < 4; ++g) {
    if (groups[g].empty()) continue;
    auto options = std::make_unique<torch::optim::AdamWOptions>(0.0);
    options->betas({config.beta1, config.beta2}).eps(config.eps).weight_decay(g % 2 == 0 ? config.weight_decay : 0.0);
    param_groups.emplace_back(groups[g], std::move(options));
    group_multipliers_.push_back(g >= 2 ? config.head_lr_multiplier : 1.0);
  }
  if (param_groups.empty()) throw std::invalid_argument("the model has no trainable parameters");
  optimizer_ = std::make_unique<torch::optim::AdamW>(param_groups, torch::optim::AdamWOptions(0.0));
}

OptimizerStepResult ModelRunner::OptimizerStep(double lr) {
  if (!optimizer_) throw std::logic_error("optimizer step before the optimizer was configured");
  if (!(lr >= 0.0)) throw std::invalid_argument("learning rate must be >= 0, got " + std::to_string(lr));
  auto& groups = optimizer_->param_groups();
  // stage 1, data parallel: every rank steps with the gradients averaged over the ranks
  if (process_group_) {
    std::vector<at::Tensor> trainable;
    for (auto& group : groups) trainable.insert(trainable.end(), group.params().begin(), group.params().end());
    dist::AverageGradients(*process_group_, trainable);
  }
  // stage 2, fp16: unscale and check for overflow (after averaging, every rank sees the same gradients)
  OptimizerStepResult result;
  if (scaler_) {
    std::vector<at::Tensor> gradients;
    for (const auto& param : model_->parameters()) {
      if (param.requires_grad() && param.grad().defined()) gradients.push_back(param.grad());
    }
    result.applied = scaler_->UnscaleAndCheck(gradients);
  }
  if (result.applied) {
    for (size_t g = 0; g < groups.size(); ++g) static_cast<torch::optim::AdamWOptions&>(groups[g].options()).lr(lr * group_multipliers_[g]);
    optimizer_->step();
  }
  if (scaler_) {
    scaler_->Update(result.applied);
    result.grad_scale = scaler_->scale();
  }
  ZeroGrad();
  return result;
}

void ModelRunner::AttachProcessGroup(std::shared_ptr<dist::ProcessGroup> group) {
  process_group_ = std::move(group);
  if (!process_group_) return;
  std::vector<at::Tensor> trainable;
  for (const auto& param : model_->parameters()) {
    if (param.requires_grad()) trainable.push_back(param);
  }
  dist::BroadcastParameters(*process_group_, trainable, 0);
}

void ModelRunner::ZeroGrad() {
  for (auto& param : model_->parameters()) {
    if (param.grad().defined()) param.mutable_grad() = at::Tensor();
  }
}

}  // namespace das::engine

namespace das::engine {

std::string ModelRunner::SaveOptimizerState() const {
  if (!optimizer_) throw std::logic_error("no optimizer state: the optimizer is not configured");
  torch::serialize::OutputArchive archive;
  optimizer_->save(archive);
  if (scaler_) scaler_->Save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void ModelRunner::LoadOptimizerState(const std::string& bytes) {
  if (!optimizer_) throw std::logic_error("configure the optimizer before loading its state");
  std::istringstream in(bytes);
  torch::serialize::InputArchive archive;
  archive.load_from(in, device_);
  optimizer_->load(archive);
  if (scaler_) scaler_->Load(archive);
}

}  // namespace das::engine
