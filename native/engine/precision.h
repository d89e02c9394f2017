// Mixed precision for the step pipeline: which dtype the forward pass computes in (autocast), and
// the dynamic gradient scaling that fp16 needs. Master weights, gradients and optimizer state stay
// fp32 in every precision; only activations and matrix products run in bf16/fp16.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <optional>
#include <string>
#include <vector>

namespace das::engine {

enum class Precision { kFp32, kBf16, kFp16 };

// "fp32" | "bf16" | "fp16"; anything else throws, listing the choices.
Precision ParsePrecision(const std::string& name);
const char* PrecisionName(Precision precision);

// Throws std::invalid_argument when `precision` cannot run on `device`: fp16 autocast is CUDA-only.
void CheckPrecisionSupported(Precision precision, c10::Device device);

// Autocast for the forward pass of one step, in the precision's dtype; does nothing for fp32.
// Restores the thread's previous autocast state on exit and drops the cached weight casts, so that
// the next step casts the updated weights afresh.
class AutocastScope {
 public:
  AutocastScope(Precision precision, c10::Device device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType device_type_ = c10::DeviceType::CPU;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
};

// PyTorch GradScaler's defaults.
struct GradScalerOptions {
  double init_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

// Dynamic loss scaling: the loss is multiplied by scale() before backward so that small fp16
// gradients do not flush to zero; before the update the gradients are divided by it again. A step
// whose gradients overflowed is skipped and the scale halves; after growth_interval clean steps in
// a row it doubles.
class GradScaler {
 public:
  explicit GradScaler(const GradScalerOptions& options);

  double scale() const { return scale_; }
  int64_t growth_tracker() const { return growth_tracker_; }

  // Divides the gradients by the scale in place; true when every one is finite.
  bool UnscaleAndCheck(const std::vector<at::Tensor>& gradients) const;
  // Adjusts the scale after a step that was applied (finite) or skipped.
  void Update(bool finite);

  // Scale and growth tracker, kept beside the optimizer state in training checkpoints.
  void Save(torch::serialize::OutputArchive& archive) const;
  void Load(torch::serialize::InputArchive& archive);

 private:
  GradScalerOptions options_;
  double scale_;
  int64_t growth_tracker_ = 0;
};

struct PrecisionConfig {
  Precision precision = Precision::kFp32;
  // Dynamic gradient scaling; on for fp16 unless turned off, off otherwise unless asked for.
  std::optional<bool> grad_scaling;
  GradScalerOptions scaler;
};

}  // namespace das::engine
