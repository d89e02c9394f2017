#include "engine/precision.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/library.h>
#include <torch/version.h>

#include <mutex>
#include <stdexcept>

// libtorch 2.4 replaced the per-device autocast functions by ones that take the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define DAS_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace das::engine {

Precision ParsePrecision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  if (name == "fp16") return Precision::kFp16;
  throw std::invalid_argument("Expected 'fp32', 'bf16' or 'fp16' for precision but received '" + name + "'");
}

const char* PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kBf16: return "bf16";
    case Precision::kFp16: return "fp16";
    case Precision::kFp32: break;
  }
  return "fp32";
}

void CheckPrecisionSupported(Precision precision, c10::Device device) {
  if (precision == Precision::kFp16 && !device.is_cuda()) {
    throw std::invalid_argument(
        "precision fp16 needs a CUDA device (autocast to float16 with gradient scaling runs on GPUs only); on " + device.str() +
        " use bf16 (fast on CPUs with AVX512-BF16 or AMX, see das doctor) or fp32");
  }
}

namespace {

at::ScalarType LowPrecisionDtype(Precision precision) { return precision == Precision::kFp16 ? at::kHalf : at::kBFloat16; }

bool AutocastEnabled(c10::DeviceType type) {
#ifdef DAS_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

void SetAutocastEnabled(c10::DeviceType type, bool enabled) {
#ifdef DAS_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (type == c10::DeviceType::CUDA) at::autocast::set_enabled(enabled);
  else at::autocast::set_cpu_enabled(enabled);
#endif
}

at::ScalarType AutocastDtype(c10::DeviceType type) {
#ifdef DAS_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

void SetAutocastDtype(c10::DeviceType type, at::ScalarType dtype) {
#ifdef DAS_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (type == c10::DeviceType::CUDA) at::autocast::set_autocast_gpu_dtype(dtype);
  else at::autocast::set_autocast_cpu_dtype(dtype);
#endif
}

// CUDA autocast runs layer_norm in fp32; CPU autocast leaves it alone, so a bf16 activation reaches
// an fp32 LayerNorm (an error on libtorch 1.13, a bf16 result on 2.x). This kernel gives CPU the
// CUDA policy: every floating-point tensor argument in fp32, then layer_norm below autocast.
void LayerNormInFp32(const c10::OperatorHandle& op, c10::DispatchKeySet, torch::jit::Stack* stack) {
  const size_t arguments = op.schema().arguments().size();
  for (size_t i = stack->size() - arguments; i < stack->size(); ++i) {
    c10::IValue& value = (*stack)[i];
    if (!value.isTensor()) continue;
    const at::Tensor& tensor = value.toTensor();
    if (tensor.is_floating_point() && tensor.scalar_type() != at::kFloat && tensor.scalar_type() != at::kDouble) {
      value = tensor.to(at::kFloat);
    }
  }
  c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::DispatchKey::AutocastCPU);
  op.callBoxed(stack);
}

void RegisterCpuLayerNormPolicy() {
  static std::once_flag once;
  std::call_once(once, [] {
    const auto op = c10::Dispatcher::singleton().findSchema({"aten::layer_norm", ""});
    // a libtorch that already has a CPU autocast rule for layer_norm keeps its own
    if (!op || op->hasKernelForDispatchKey(c10::DispatchKey::AutocastCPU)) return;
    static auto* library = new torch::Library(torch::Library::IMPL, "aten", c10::DispatchKey::AutocastCPU, __FILE__, __LINE__);
    library->impl("layer_norm", torch::CppFunction::makeFromBoxedFunction<&LayerNormInFp32>());
  });
}

}  // namespace

AutocastScope::AutocastScope(Precision precision, c10::Device device) {
  if (precision == Precision::kFp32) return;
  CheckPrecisionSupported(precision, device);
  device_type_ = device.type();
  if (device_type_ == c10::DeviceType::CPU) RegisterCpuLayerNormPolicy();
  previous_enabled_ = AutocastEnabled(device_type_);
  previous_dtype_ = AutocastDtype(device_type_);
  SetAutocastEnabled(device_type_, true);
  SetAutocastDtype(device_type_, LowPrecisionDtype(precision));
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  SetAutocastEnabled(device_type_, previous_enabled_);
  SetAutocastDtype(device_type_, previous_dtype_);
}

GradScaler::GradScaler(const GradScalerOptions& options) : options_(options), scale_(options.init_scale) {
  if (!(options.init_scale > 0.0) || !(options.growth_factor > 1.0) || !(options.backoff_factor > 0.0 && options.backoff_factor < 1.0) ||
      options.growth_interval < 1) {
    throw std::invalid_argument(
        "gradient scaler: expected initScale > 0, growthFactor > 1, 0 < backoffFactor < 1 and growthInterval >= 1");
  }
}

bool GradScaler::UnscaleAndCheck(const std::vector<at::Tensor>& gradients) const {
  if (gradients.empty()) return true;
  const auto options = gradients.front().options().dtype(at::kFloat);
  at::Tensor found_inf = at::zeros({1}, options);
  const at::Tensor inv_scale = at::full({1}, 1.0 / scale_, options);
  if (gradients.front().is_cuda()) {
    // one fused kernel over all gradients, and a single device-to-host copy below
    at::_amp_foreach_non_finite_check_and_unscale_(gradients, found_inf, inv_scale);
  } else {
    for (const at::Tensor& gradient : gradients) {
      found_inf.add_(gradient.isfinite().all().logical_not());
      gradient.mul_(inv_scale);
    }
  }
  return found_inf.item<float>() == 0.0f;
}

void GradScaler::Update(bool finite) {
  if (!finite) {
    scale_ *= options_.backoff_factor;
    growth_tracker_ = 0;
  } else if (++growth_tracker_ == options_.growth_interval) {
    scale_ *= options_.growth_factor;
    growth_tracker_ = 0;
  }
}

namespace {
constexpr const char* kScaleKey = "das.grad_scaler.scale";
constexpr const char* kTrackerKey = "das.grad_scaler.growth_tracker";
}  // namespace

void GradScaler::Save(torch::serialize::OutputArchive& archive) const {
  archive.write(kScaleKey, at::full({}, scale_, at::kDouble));
  archive.write(kTrackerKey, at::full({}, growth_tracker_, at::kLong));
}

void GradScaler::Load(torch::serialize::InputArchive& archive) {
  at::Tensor scale, tracker;
  // a checkpoint written without gradient scaling starts from the initial scale
  if (!archive.try_read(kScaleKey, scale) || !archive.try_read(kTrackerKey, tracker)) return;
  scale_ = scale.item<double>();
  growth_tracker_ = tracker.item<int64_t>();
}

}  // namespace das::engine
