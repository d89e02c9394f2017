// The job's rendezvous store: a TCPStore that rank 0 hosts (or, under torchrun, its agent), seen
// through a key prefix when one is given (torchrun's store outlives restarts of the workers).
#pragma once

#include <chrono>
#include <string>

#include "dist/c10d_compat.h"

namespace das::dist {

StorePtr ConnectStore(const std::string& host, int port, bool host_it, std::chrono::milliseconds timeout, const std::string& prefix);

}  // namespace das::dist
