#include "runtime/cuda_info.h"

#include "common/strings.h"

#include <dlfcn.h>
#include <link.h>

#include <climits>
#include <cstdlib>
#include <cstring>

#ifdef DAS_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace das {

namespace {

std::string LoadedNcclVersion() {
  // NCCL is a dependency of libtorch_cuda, so it is loaded when CUDA is; no device is needed to ask.
  using GetVersion = int (*)(int*);
  const auto get_version = reinterpret_cast<GetVersion>(dlsym(RTLD_DEFAULT, "ncclGetVersion"));
  int code = 0;
  if (get_version == nullptr || get_version(&code) != 0 || code <= 0) return "";
  // NCCL >= 2.9 encodes major * 10000 + minor * 100 + patch, older ones major * 1000 + minor * 100 + patch
  const int major = code >= 10000 ? code / 10000 : code / 1000;
  const int rest = code >= 10000 ? code % 10000 : code % 1000;
  return std::to_string(major) + "." + std::to_string(rest / 100) + "." + std::to_string(rest % 100);
}

}  // namespace

std::string LoadedTorchCudaLibrary() {
  std::string found;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        const char* name = info->dlpi_name;
        if (name == nullptr || std::strstr(name, "libtorch_cuda.so") == nullptr) return 0;
        char resolved[PATH_MAX];
        *static_cast<std::string*>(data) = realpath(name, resolved) != nullptr ? resolved : name;
        return 1;
      },
      &found);
  return found;
}

CudaLibraries CollectCudaLibraries(const std::string& config, bool cuda_available) {
  CudaLibraries info;
  // "  - CUDA Runtime 13.0" / "  - CuDNN 91400" appear when libtorch_cuda is loaded; the build
  // settings' CUDA_VERSION / CUDNN_VERSION are what it was compiled with.
  info.runtime = ValueAfter(config, "CUDA Runtime ");
  if (info.runtime.empty()) info.runtime = ValueAfter(config, "CUDA_VERSION=");
  info.cudnn = ValueAfter(config, "CuDNN ");
  if (info.cudnn.empty()) info.cudnn = ValueAfter(config, "CUDNN_VERSION=");
  info.nccl = LoadedNcclVersion();
#ifdef DAS_WITH_CUDA
  info.device_details = true;
  int count = 0;
  if (cuda_available && cudaGetDeviceCount(&count) == cudaSuccess) {
    for (int index = 0; index < count; ++index) {
      cudaDeviceProp props{};
      if (cudaGetDeviceProperties(&props, index) != cudaSuccess) continue;
      info.devices.push_back({props.name, props.major, props.minor, static_cast<int64_t>(props.totalGlobalMem), props.major >= 8});
    }
  }
#endif
  return info;
}

}  // namespace das
