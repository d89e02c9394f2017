// The communication backends of this build: Gloo (CPU tensors, any machine) and NCCL (CUDA
// tensors). Each is compiled in when libtorch exports it and its headers were found at build time
// (scripts/find-c10d.mjs sets DAS_WITH_GLOO / DAS_WITH_NCCL).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "dist/c10d_compat.h"

namespace das::dist {

// "gloo", "nccl": the backends this build can create.
std::vector<std::string> AvailableBackends();

struct BackendOptions {
  std::string name;  // "gloo" or "nccl"
  int rank = 0;
  int world_size = 1;
  // Where rank 0 listens: a loopback master keeps Gloo's own connections on loopback too.
  std::string master_addr;
  std::chrono::milliseconds timeout{1800000};
  int cuda_device = -1;  // NCCL: this rank's GPU
};

// Connects every rank to every other one (blocks until all ranks call it, or the timeout).
c10::intrusive_ptr<CommBackend> CreateBackend(const StorePtr& store, const BackendOptions& options);

}  // namespace das::dist
