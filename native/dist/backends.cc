#include "dist/backends.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>

#include <cstdlib>
#include <sstream>
#include <stdexcept>

// The backend headers compile only with libtorch's own switches on; this file alone sees them.
#if defined(DAS_WITH_GLOO)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(DAS_WITH_NCCL)
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace das::dist {

namespace {

[[maybe_unused]] bool IsLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

#if defined(DAS_WITH_GLOO)
c10::intrusive_ptr<CommBackend> CreateGloo(const StorePtr& store, const BackendOptions& o) {
  auto options = c10d::ProcessGroupGloo::Options::create(o.timeout);
  // Like PyTorch: GLOO_SOCKET_IFNAME names the interfaces (comma-separated); otherwise the address
  // this host's name resolves to. A loopback master means a one-machine job: stay on loopback.
  const char* interfaces = std::getenv("GLOO_SOCKET_IFNAME");
  if (interfaces != nullptr && *interfaces != '\0') {
    std::stringstream list(interfaces);
    for (std::string name; std::getline(list, name, ',');) {
      if (!name.empty()) options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
    }
  } else if (IsLoopback(o.master_addr)) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, o.rank, o.world_size, options);
}
#endif

#if defined(DAS_WITH_NCCL)
c10::intrusive_ptr<CommBackend> CreateNccl(const StorePtr& store, const BackendOptions& o) {
  // A wait that times out throws (instead of NCCL's watchdog ending the process), so that the
  // failure reaches the caller, which names the lost rank. 1.13 reads the second name.
  setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
  setenv("NCCL_BLOCKING_WAIT", "1", 0);
  if (o.cuda_device < 0) throw std::invalid_argument("the nccl backend needs a CUDA device (--device cuda:N)");
  c10::cuda::set_device(static_cast<c10::DeviceIndex>(o.cuda_device));  // the compute thread's device
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = o.timeout;
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, o.rank, o.world_size, options);
}
#endif

}  // namespace

std::vector<std::string> AvailableBackends() {
  std::vector<std::string> names;
#if defined(DAS_WITH_GLOO)
  names.emplace_back("gloo");
#endif
#if defined(DAS_WITH_NCCL)
  names.emplace_back("nccl");
#endif
  return names;
}

c10::intrusive_ptr<CommBackend> CreateBackend(const StorePtr& store, const BackendOptions& options) {
  // the backend's own rendezvous keys stay apart from ours
  const StorePtr prefixed = c10::make_intrusive<c10d::PrefixStore>(options.name + "/", store);
#if defined(DAS_WITH_GLOO)
  if (options.name == "gloo") return CreateGloo(prefixed, options);
#endif
#if defined(DAS_WITH_NCCL)
  if (options.name == "nccl") return CreateNccl(prefixed, options);
#endif
  std::string built;
  for (const auto& name : AvailableBackends()) built += (built.empty() ? "" : ", ") + name;
  throw std::invalid_argument("this build of das-torch has no '" + options.name + "' backend (it has: " +
                              (built.empty() ? "none" : built) +
                              "); rebuild it against a libtorch with that backend and its headers (see README, scale-out)");
}

}  // namespace das::dist
