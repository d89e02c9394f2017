// What `das doctor` reports about the native side: libtorch, devices, BLAS, threads, build.
#pragma once

#include "runtime/blas_probe.h"
#include "runtime/cuda_info.h"

#include <string>

namespace das {

struct RuntimeInfo {
  std::string torch_header_version;   // version of the headers the addon was compiled against
  std::string torch_runtime_version;  // version the loaded libtorch reports about itself
  std::string torch_library;          // resolved path of the loaded libtorch_cpu
  std::string torch_found_via;        // which rule of scripts/find-libtorch.mjs found it at build time
  std::string torch_cmake_dir;
  bool cuda_built = false;            // libtorch has CUDA support compiled in (and loaded)
  std::string cuda_library;           // the libtorch_cuda that provides it
  bool cuda_available = false;        // ... and a driver and device are usable now
  int cuda_device_count = 0;
  CudaLibraries cuda_libraries;       // CUDA runtime, cuDNN, NCCL versions; devices
  bool mkldnn = false;
  std::string parallel_backend;
  int intra_op_threads = 0;
  int inter_op_threads = 0;
  std::string build_blas;             // BLAS_INFO libtorch was built with
  BlasProbe blas;                     // the BLAS actually called
  std::string build_system;           // "cmake-js" or "node-gyp"
  std::string compiler;
  std::string build_type;
  bool cxx11_abi = false;
  int napi_version = 0;
};

RuntimeInfo CollectRuntimeInfo();

// Sets libtorch's intra-op thread count (OpenMP and the BLAS it drives follow it).
void SetNumThreads(int threads);

// Makes the calling thread use the process-wide intra-op thread count. OpenMP's thread count is
// per calling thread, so every worker thread that runs libtorch calls this first.
void UseGlobalThreadCountOnThisThread();

}  // namespace das
