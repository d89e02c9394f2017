#include "runtime/rng_state.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>

#include <mutex>

namespace das {

at::Tensor GetCpuRngState() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void SetCpuRngState(const at::Tensor& state) {
  TORCH_CHECK(state.scalar_type() == at::kByte && state.dim() == 1, "RNG state must be a 1-D uint8 tensor, got ", state.scalar_type(), " ",
              state.sizes());
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state.clone());
}

}  // namespace das
