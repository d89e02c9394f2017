#include "runtime/device_memory.h"

#if defined(__linux__)
#include <dlfcn.h>
#include <link.h>
#endif

#include <string>

namespace das {

#if defined(__linux__)
namespace {

int FindCudaRuntime(struct dl_phdr_info* info, size_t, void* found) {
  const std::string name = info->dlpi_name != nullptr ? info->dlpi_name : "";
  if (name.find("libcudart.so") == std::string::npos) return 0;
  *static_cast<std::string*>(found) = name;
  return 1;
}

// cudaError_t is an int-sized enum; 0 is cudaSuccess.
using GetDeviceFn = int (*)(int*);
using SetDeviceFn = int (*)(int);
using MemGetInfoFn = int (*)(size_t*, size_t*);

}  // namespace

std::optional<DeviceMemory> QueryDeviceMemory(const c10::Device& device) {
  if (!device.is_cuda()) return std::nullopt;
  std::string path;
  dl_iterate_phdr(FindCudaRuntime, &path);
  if (path.empty()) return std::nullopt;
  void* library = dlopen(path.c_str(), RTLD_LAZY | RTLD_NOLOAD);  // already loaded: only a handle
  if (library == nullptr) return std::nullopt;
  const auto get_device = reinterpret_cast<GetDeviceFn>(dlsym(library, "cudaGetDevice"));
  const auto set_device = reinterpret_cast<SetDeviceFn>(dlsym(library, "cudaSetDevice"));
  const auto mem_get_info = reinterpret_cast<MemGetInfoFn>(dlsym(library, "cudaMemGetInfo"));
  std::optional<DeviceMemory> memory;
  int previous = 0;
  if (get_device != nullptr && set_device != nullptr && mem_get_info != nullptr && get_device(&previous) == 0 &&
      set_device(device.has_index() ? device.index() : 0) == 0) {
    size_t free = 0, total = 0;
    if (mem_get_info(&free, &total) == 0) memory = DeviceMemory{free, total};
    set_device(previous);  // the calling thread keeps its current device
  }
  dlclose(library);
  return memory;
}
#else
std::optional<DeviceMemory> QueryDeviceMemory(const c10::Device&) { return std::nullopt; }
#endif

}  // namespace das
