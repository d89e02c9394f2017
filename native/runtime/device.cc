#include "runtime/device.h"

#include <torch/cuda.h>

#include "runtime/cuda_info.h"

#include <cctype>
#include <stdexcept>

namespace das {

namespace {

bool AllDigits(const std::string& text) {
  if (text.empty() || text.size() > 4) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

c10::Device ParseDevice(const std::string& spec) {
  if (spec == "cpu") return c10::Device(c10::kCPU);
  const bool bare_cuda = spec == "cuda";
  const bool indexed_cuda = spec.rfind("cuda:", 0) == 0 && AllDigits(spec.substr(5));
  if (!bare_cuda && !indexed_cuda) {
    throw std::invalid_argument("Expected a device of the form 'cpu', 'cuda' or 'cuda:N' but received '" + spec + "'");
  }
  if (!torch::cuda::is_available()) {
    if (!LoadedTorchCudaLibrary().empty()) {
      throw std::invalid_argument("Device '" + spec +
                                  "' is not available: this libtorch has no usable CUDA: it is built with CUDA, but no GPU is "
                                  "visible (no NVIDIA driver, no device, or CUDA_VISIBLE_DEVICES hides them). Use --device cpu, "
                                  "or run on a machine with a GPU.");
    }
    throw std::invalid_argument("Device '" + spec +
                                "' is not available: this libtorch has no usable CUDA: it is a CPU-only build. Use --device cpu, "
                                "or build das-torch against a CUDA libtorch (README: How libtorch is found).");
  }
  const int index = bare_cuda ? 0 : std::stoi(spec.substr(5));
  const auto count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    throw std::invalid_argument("Device '" + spec + "' does not exist: " + std::to_string(count) +
                                " CUDA device(s) visible (cuda:0..cuda:" + std::to_string(count - 1) + ")");
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::string DeviceName(const c10::Device& device) {
  if (device.is_cpu()) return "cpu";
  return "cuda:" + std::to_string(device.has_index() ? device.index() : 0);
}

}  // namespace das
