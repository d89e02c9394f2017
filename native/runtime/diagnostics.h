// Small real libtorch operations used to check the boundary and to measure the machine:
// a device round trip, a matrix product and a GEMM timing loop.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <optional>
#include <vector>

namespace das {

// Copies `input` to `device` (converting to `dtype` when given) and back to the host.
at::Tensor EchoThroughDevice(const at::Tensor& input, c10::Device device, std::optional<c10::ScalarType> dtype);

// a @ b on `device`, result on the host.
at::Tensor MatmulOnDevice(const at::Tensor& a, const at::Tensor& b, c10::Device device);

struct GemmTiming {
  int64_t n = 0;
  std::vector<double> seconds;  // one entry per timed product
};

// Times `iterations` products of two random n x n matrices after `warmup` untimed ones.
GemmTiming TimeGemm(int64_t n, int iterations, int warmup, c10::ScalarType dtype, c10::Device device);

}  // namespace das
