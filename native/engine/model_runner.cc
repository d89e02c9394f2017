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
  model_->to(device);
  device_ = device;
  if (optimizer_) throw std::logic_error("move the model before configuring its optimizer");
}

StepResult ModelRunner::Collect(const models::ModelOutput& output, bool want_logits) const {
  StepResult result;
  if (output.loss.defined()) result.loss = output.loss.item<double>();
  for (const auto& [name, value] : output.loss_parts) result.parts.emplace_back(name, value.item<double>());
  if (want_logits) result.logits = output.logits.detach().to(c10::kCPU, at::kFloat).contiguous();
  return result;
}

StepResult ModelRunner::TrainStep(const models::Batch& batch, const std::vector<std::string>& skip, double loss_scale) {
  const std::vector<bool> mask = model_->SkipMask(skip);
  model_->train();
  torch::AutoGradMode grad(true);
  const models::ModelOutput output = model_->Run(batch.To(device_), mask);
  if (!output.loss.defined()) throw std::invalid_argument("train step: the batch has no targets (labels) to compute a loss from");
  (loss_scale == 1.0 ? output.loss : output.loss * loss_scale).backward();
  return Collect(output, false);
}

StepResult ModelRunner::EvalStep(const models::Batch& batch, const std::vector<std::string>& skip, bool want_logits) {
  const std::vector<bool> mask = model_->SkipMask(skip);
  model_->eval();
  torch::NoGradGuard no_grad;
  return Collect(model_->Run(batch.To(device_), mask), want_logits);
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

void ModelRunner::OptimizerStep(double lr) {
  if (!optimizer_) throw std::logic_error("optimizer step before the optimizer was configured");
  if (!(lr >= 0.0)) throw std::invalid_argument("learning rate must be >= 0, got " + std::to_string(lr));
  auto& groups = optimizer_->param_groups();
  if (process_group_) {
    std::vector<at::Tensor> trainable;
    for (auto& group : groups) trainable.insert(trainable.end(), group.params().begin(), group.params().end());
    dist::AverageGradients(*process_group_, trainable);
  }
  for (size_t g = 0; g < groups.size(); ++g) static_cast<torch::optim::AdamWOptions&>(groups[g].options()).lr(lr * group_multipliers_[g]);
  optimizer_->step();
  ZeroGrad();
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
}

}  // namespace das::engine
