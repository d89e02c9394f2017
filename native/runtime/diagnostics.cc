#include "runtime/diagnostics.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace das {

namespace {

void WaitForDevice(c10::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

}  // namespace

at::Tensor EchoThroughDevice(const at::Tensor& input, c10::Device device, std::optional<c10::ScalarType> dtype) {
  at::Tensor on_device = input.to(device, dtype.value_or(input.scalar_type()));
  return on_device.to(c10::kCPU).contiguous();
}

at::Tensor MatmulOnDevice(const at::Tensor& a, const at::Tensor& b, c10::Device device) {
  return at::matmul(a.to(device), b.to(device)).to(c10::kCPU).contiguous();
}

GemmTiming TimeGemm(int64_t n, int iterations, int warmup, c10::ScalarType dtype, c10::Device device) {
  if (n < 1 || iterations < 1 || warmup < 0) {
    throw std::invalid_argument("TimeGemm: expected n >= 1, iterations >= 1, warmup >= 0 but received n=" + std::to_string(n) +
                                ", iterations=" + std::to_string(iterations) + ", warmup=" + std::to_string(warmup));
  }
  const auto options = at::TensorOptions().dtype(dtype).device(device);
  const at::Tensor a = at::randn({n, n}, options);
  const at::Tensor b = at::randn({n, n}, options);
  for (int i = 0; i < warmup; ++i) at::mm(a, b);
  WaitForDevice(device);
  GemmTiming timing;
  timing.n = n;
  for (int i = 0; i < iterations; ++i) {
    const auto start = std::chrono::steady_clock::now();
    at::Tensor product = at::mm(a, b);
    WaitForDevice(device);
    timing.seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return timing;
}

}  // namespace das
