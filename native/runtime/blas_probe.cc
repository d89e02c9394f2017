#include "runtime/blas_probe.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <climits>
#include <cstdlib>
#include <memory>

namespace das {

namespace {

std::string RealPath(const char* path) {
  char resolved[PATH_MAX];
  return realpath(path, resolved) != nullptr ? std::string(resolved) : std::string(path);
}

// Path of the shared object that holds `address`.
std::string ObjectPathOf(const void* address) {
  Dl_info info{};
  if (dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "";
  return RealPath(info.dli_fname);
}

template <typename Fn>
Fn Lookup(void* handle, const char* name) {
  return reinterpret_cast<Fn>(dlsym(handle, name));
}

struct HandleCloser {
  void operator()(void* handle) const {
    if (handle != nullptr) dlclose(handle);
  }
};

}  // namespace

BlasProbe ProbeBlas() {
  BlasProbe probe;
  probe.vendor = "unknown";
  // Resolve sgemm_ the way libtorch_cpu does: from libtorch_cpu's own handle, which searches it and
  // its dependency tree. dlopen with RTLD_NOLOAD only takes a reference to the already loaded object.
  const std::string torch_cpu = ObjectPathOf(reinterpret_cast<const void*>(&at::get_num_threads));
  std::unique_ptr<void, HandleCloser> torch_handle(
      torch_cpu.empty() ? nullptr : dlopen(torch_cpu.c_str(), RTLD_LAZY | RTLD_NOLOAD));
  void* scope = torch_handle ? torch_handle.get() : RTLD_DEFAULT;
  void* sgemm = dlsym(scope, "sgemm_");
  if (sgemm == nullptr) {
    // No exported sgemm_: BLAS is linked statically into libtorch (pip wheels bundle MKL this way).
    probe.vendor = "bundled";
    probe.library = torch_cpu;
    return probe;
  }
  probe.library = ObjectPathOf(sgemm);
  if (probe.library == torch_cpu) probe.vendor = "bundled";

  std::unique_ptr<void, HandleCloser> blas_handle(dlopen(probe.library.c_str(), RTLD_LAZY | RTLD_NOLOAD));
  void* blas = blas_handle ? blas_handle.get() : scope;

  if (auto config = Lookup<char* (*)()>(blas, "openblas_get_config")) {
    probe.vendor = "openblas";
    probe.detail = config();
    if (auto threads = Lookup<int (*)()>(blas, "openblas_get_num_threads")) probe.threads = threads();
    if (auto parallel = Lookup<int (*)()>(blas, "openblas_get_parallel")) {
      const int mode = parallel();
      probe.threading = mode == 2 ? "openmp" : mode == 1 ? "pthreads" : "sequential";
    }
  } else if (auto mkl_version = Lookup<void (*)(char*, int)>(blas, "mkl_get_version_string")) {
    probe.vendor = "mkl";
    char buffer[256] = {0};
    mkl_version(buffer, sizeof(buffer) - 1);
    probe.detail = buffer;
    if (auto threads = Lookup<int (*)()>(blas, "mkl_get_max_threads")) probe.threads = threads();
  } else if (auto blis_version = Lookup<const char* (*)()>(blas, "bli_info_get_version_str")) {
    probe.vendor = "blis";
    probe.detail = blis_version();
  } else if (Lookup<void*>(blas, "flexiblas_current_backend") != nullptr) {
    probe.vendor = "flexiblas";
  } else if (probe.vendor != "bundled") {
    // A libblas.so.3 that exports none of the optimised libraries' entry points is the netlib
    // reference implementation (Debian's libblas3 package): single-threaded, about 40x slower.
    probe.vendor = "reference";
  }
  return probe;
}

}  // namespace das
