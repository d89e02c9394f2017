#include "runtime/runtime_info.h"

#include "common/strings.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <dlfcn.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <stdexcept>

#ifndef DAS_BUILD_SYSTEM
#define DAS_BUILD_SYSTEM "unknown"
#endif
#ifndef DAS_TORCH_SOURCE
#define DAS_TORCH_SOURCE "unknown"
#endif
#ifndef DAS_TORCH_CMAKE_DIR
#define DAS_TORCH_CMAKE_DIR ""
#endif

namespace das {

namespace {

std::string FirstLineContaining(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  if (at == std::string::npos) return "";
  const auto begin = at + needle.size();
  const auto end = text.find('\n', begin);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

std::string LoadedTorchLibrary() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&at::get_num_threads), &info) == 0 || info.dli_fname == nullptr) return "";
  char resolved[PATH_MAX];
  return realpath(info.dli_fname, resolved) != nullptr ? resolved : info.dli_fname;
}

}  // namespace

RuntimeInfo CollectRuntimeInfo() {
  RuntimeInfo info;
  info.torch_header_version = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                              std::to_string(TORCH_VERSION_PATCH);
  const std::string config = at::show_config();
  info.torch_runtime_version = ValueAfter(config, "TORCH_VERSION=");
  info.build_blas = ValueAfter(config, "BLAS_INFO=");
  info.torch_library = LoadedTorchLibrary();
  info.torch_found_via = DAS_TORCH_SOURCE;
  info.torch_cmake_dir = DAS_TORCH_CMAKE_DIR;
  info.cuda_library = LoadedTorchCudaLibrary();
  info.cuda_built = !info.cuda_library.empty() || at::hasCUDA();
  info.cuda_available = torch::cuda::is_available();
  info.cuda_device_count = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
  if (info.cuda_built) info.cuda_libraries = CollectCudaLibraries(config, info.cuda_available);
  info.mkldnn = at::hasMKLDNN();
  info.parallel_backend = FirstLineContaining(at::get_parallel_info(), "ATen parallel backend: ");
  UseGlobalThreadCountOnThisThread();
  info.intra_op_threads = at::get_num_threads();
  info.inter_op_threads = at::get_num_interop_threads();
  info.blas = ProbeBlas();
  info.build_system = DAS_BUILD_SYSTEM;
#if defined(__clang__)
  info.compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  info.compiler = std::string("g++ ") + __VERSION__;
#else
  info.compiler = "unknown";
#endif
#ifdef NDEBUG
  info.build_type = "release";
#else
  info.build_type = "debug";
#endif
#if defined(_GLIBCXX_USE_CXX11_ABI) && _GLIBCXX_USE_CXX11_ABI
  info.cxx11_abi = true;
#endif
#ifdef NAPI_VERSION
  info.napi_version = NAPI_VERSION;
#endif
  return info;
}

namespace {
std::atomic<int> requested_threads{0};
}  // namespace

void SetNumThreads(int threads) {
  if (threads < 1) throw std::invalid_argument("Expected a thread count of at least 1 but received " + std::to_string(threads));
  at::set_num_threads(threads);
  requested_threads.store(threads);
}

void UseGlobalThreadCountOnThisThread() {
  // at::init_num_threads also rebuilds libtorch's pthreadpool (milliseconds), so apply it once per
  // thread and thread-count change, not on every call.
  thread_local int applied = -1;
  const int wanted = requested_threads.load();
  if (applied != wanted) {
    at::init_num_threads();
    applied = wanted;
  }
}

}  // namespace das
