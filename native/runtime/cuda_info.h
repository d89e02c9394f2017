// What das doctor reports about CUDA beyond "is it there": the CUDA runtime, cuDNN and NCCL that
// libtorch brought, and each visible GPU with whether it computes bf16 at full speed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace das {

struct CudaDeviceInfo {
  std::string name;
  int major = 0, minor = 0;  // compute capability
  int64_t memory_bytes = 0;
  bool fast_bf16 = false;    // compute capability >= 8.0 (Ampere and later have bf16 tensor cores)
};

// Path of the loaded libtorch_cuda, "" when this libtorch has no CUDA. (at::hasCUDA() also needs a
// GPU: on a machine without one it cannot tell a CUDA build from a CPU one.)
std::string LoadedTorchCudaLibrary();

struct CudaLibraries {
  std::string runtime;  // CUDA runtime version, "" when libtorch has no CUDA
  std::string cudnn;
  std::string nccl;     // of the libnccl loaded with libtorch_cuda, "" when none is loaded
  // Empty without a GPU, and in builds that were compiled without the CUDA headers (node-gyp).
  std::vector<CudaDeviceInfo> devices;
  bool device_details = false;  // this build can read device properties
};

// `config` is at::show_config()'s text.
CudaLibraries CollectCudaLibraries(const std::string& config, bool cuda_available);

}  // namespace das
