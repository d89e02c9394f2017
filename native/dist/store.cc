#include "dist/store.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>

namespace das::dist {

StorePtr ConnectStore(const std::string& host, int port, bool host_it, std::chrono::milliseconds timeout, const std::string& prefix) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(port);
  options.isServer = host_it;
  options.waitWorkers = false;  // the exchanges that follow wait, and name who is missing
  options.timeout = timeout;
  StorePtr store = c10::make_intrusive<c10d::TCPStore>(host, options);
  if (prefix.empty()) return store;
  return c10::make_intrusive<c10d::PrefixStore>(prefix, store);
}

}  // namespace das::dist
