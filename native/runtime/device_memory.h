// Free and total memory of a CUDA device, as the CUDA runtime that libtorch loaded reports it. The
// runtime is found among the process's loaded libraries, so the addon needs no CUDA headers to
// build and asks nothing of a CPU-only libtorch.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <optional>

namespace das {

struct DeviceMemory {
  uint64_t free = 0;
  uint64_t total = 0;
};

// nullopt for the CPU, and where the CUDA runtime is not loaded as a shared library (or the query fails).
std::optional<DeviceMemory> QueryDeviceMemory(const c10::Device& device);

}  // namespace das
