#include "dist/process_group.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <stdexcept>
#include <thread>

#include "common/coded_error.h"
#include "common/strings.h"
#include "dist/store.h"

namespace das::dist {

namespace {

constexpr const char* kCode = "DAS_DISTRIBUTED";
using Clock = std::chrono::steady_clock;

std::string ReasonOf(const std::exception& error) {
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&error)) return torch_error->what_without_backtrace();
  return error.what();
}

std::string Seconds(std::chrono::milliseconds duration) {
  const double seconds = static_cast<double>(duration.count()) / 1000.0;
  std::string text = std::to_string(seconds);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text + " s";
}

std::string RankList(const std::vector<int>& ranks) {
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size(); ++i) text += (i ? ", " : "") + std::to_string(ranks[i]);
  return text;
}

std::string ErrorKey(int rank) { return "das/error/" + std::to_string(rank); }
constexpr const char* kErrorReadKey = "das/error-read";
constexpr const char* kClosedKey = "das/closed";

std::vector<uint8_t> ToBytes(const std::string& text) { return {text.begin(), text.end()}; }
std::string FromBytes(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

// MASTER_ADDR:MASTER_PORT, as the messages name it
std::string StoreAddress(const GroupOptions& o) { return o.master_addr + ":" + std::to_string(o.master_port); }

StorePtr OpenStore(const GroupOptions& o) {
  const bool host_it = o.host_store && o.rank == 0;
  const std::string where = StoreAddress(o);
  try {
    return ConnectStore(o.master_addr, o.master_port, host_it, o.timeout, o.store_prefix);
  } catch (const std::exception& error) {
    if (host_it) {
      const std::string reason = ReasonOf(error);
      const std::string port = "MASTER_PORT " + std::to_string(o.master_port);
      if (ContainsNoCase(reason, "address already in use") || ContainsNoCase(reason, "EADDRINUSE")) {
        throw CodedError(kCode, "rank 0 cannot host the rendezvous: " + port + " is already in use (another job?); choose another MASTER_PORT");
      }
      if (ContainsNoCase(reason, "permission denied") || ContainsNoCase(reason, "EACCES")) {
        throw CodedError(kCode, "rank 0 cannot host the rendezvous: " + port + " needs privileges this process does not have; choose another MASTER_PORT");
      }
      throw CodedError(kCode, "rank 0 cannot open the rendezvous store at " + where + " (MASTER_ADDR:MASTER_PORT): " + reason +
                                  ". If the port is in use (another job?), choose another MASTER_PORT; MASTER_ADDR must name this machine");
    }
    throw CodedError(kCode, "rank " + std::to_string(o.rank) + " cannot reach the rendezvous store " + (o.host_store ? "of rank 0" : "of the launcher") +
                                " at " + where + " (MASTER_ADDR:MASTER_PORT) within " + Seconds(o.timeout) + ": " + ReasonOf(error) +
                                ". Check that rank 0 is running, that every rank has the same MASTER_ADDR and MASTER_PORT, and that "
                                "this machine can reach that address");
  }
}

// Waits until `done()` or `limit` passed, polling the store.
template <typename Done>
void PollUntil(Done done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!done() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

}  // namespace

ProcessGroup::ProcessGroup(const GroupOptions& options) : options_(options) {
  if (options_.world_size < 1 || options_.rank < 0 || options_.rank >= options_.world_size) {
    throw std::invalid_argument("rank " + std::to_string(options_.rank) + " is outside a world of size " + std::to_string(options_.world_size));
  }
  store_ = OpenStore(options_);
  // the store accepted the connection, then went away: its host stopped, or MASTER_PORT is another program's
  auto lost = [&](const std::exception& error) {
    return CodedError(kCode, "rank " + std::to_string(options_.rank) + " lost the rendezvous store at " + StoreAddress(options_) + " while joining (" +
                                 ReasonOf(error) + "): did rank 0 stop, or does MASTER_PORT belong to another program?");
  };
  int64_t claims = 0;
  try {
    claims = store_->add("das/claim/" + std::to_string(options_.rank), 1);
  } catch (const std::exception& error) {
    throw lost(error);
  }
  // a second process with this RANK counts 2, 3, ...; a program that is not a store answers with bytes of its own
  constexpr int64_t kMostClaims = 1 << 20;
  if (claims < 1 || claims > kMostClaims) {
    throw CodedError(kCode, "rank " + std::to_string(options_.rank) + " reached a program at " + StoreAddress(options_) +
                                " that is not a rendezvous store: does MASTER_PORT belong to another program?");
  }
  if (claims != 1) {
    throw CodedError(kCode, "another process already joined this job as rank " + std::to_string(options_.rank) +
                                ": every process needs its own RANK in 0.." + std::to_string(options_.world_size - 1));
  }
  try {
    liveness_ = std::make_unique<Liveness>(options_.master_addr, options_.master_port, options_.store_prefix, options_.rank, options_.world_size);
  } catch (const std::exception& error) {
    throw lost(error);
  }
}

ProcessGroup::~ProcessGroup() = default;

c10::Device ProcessGroup::device() const {
  if (options_.backend == "nccl") return {c10::kCUDA, static_cast<c10::DeviceIndex>(options_.cuda_device)};
  return c10::kCPU;
}

std::string ProcessGroup::ReportedFailure() {
  for (int r = 0; r < options_.world_size; ++r) {
    if (r == options_.rank || !store_->check({ErrorKey(r)})) continue;
    const std::string message = FromBytes(store_->get(ErrorKey(r)));
    store_->add(kErrorReadKey, 1);
    return "rank " + std::to_string(r) + " stopped: " + message;
  }
  return "";
}

std::vector<std::string> ProcessGroup::Exchange(const std::string& key, const std::string& value) {
  if (!failure_.empty()) throw CodedError(kCode, failure_);
  auto key_of = [&](int r) { return "das/exchange/" + key + "/" + std::to_string(r); };
  std::vector<std::string> values(options_.world_size);
  try {
    store_->set(key_of(options_.rank), ToBytes(value));
    std::vector<int> missing;
    for (int r = 0; r < options_.world_size; ++r) missing.push_back(r);
    const auto deadline = Clock::now() + options_.timeout;
    // polled, backing off to 0.5 s: a large job waiting for a late rank must not flood the store
    std::chrono::milliseconds pause(20);
    for (;;) {
      missing.erase(std::remove_if(missing.begin(), missing.end(), [&](int r) { return store_->check({key_of(r)}); }), missing.end());
      if (missing.empty()) break;
      if (std::string reported = ReportedFailure(); !reported.empty()) {
        failure_ = reported;
        throw CodedError(kCode, failure_);
      }
      if (Clock::now() >= deadline) {
        throw CodedError(kCode, RankList(missing) + " of " + std::to_string(options_.world_size) + " did not reach '" + key + "' within " +
                                    Seconds(options_.timeout) +
                                    " (--dist-timeout): are they running, with the same WORLD_SIZE, MASTER_ADDR and MASTER_PORT?");
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(2 * pause, std::chrono::milliseconds(500));
    }
    for (int r = 0; r < options_.world_size; ++r) values[r] = FromBytes(store_->get(key_of(r)));
  } catch (const CodedError&) {
    throw;
  } catch (const std::exception& error) {
    failure_ = "rank 0 was lost during '" + key + "': the rendezvous store it hosts no longer answers (" + ReasonOf(error) + ")";
    throw CodedError(kCode, failure_);
  }
  return values;
}

void ProcessGroup::Connect() {
  if (backend_) return;
  if (!failure_.empty()) throw CodedError(kCode, failure_);
  BackendOptions backend;
  backend.name = options_.backend;
  backend.rank = options_.rank;
  backend.world_size = options_.world_size;
  backend.master_addr = options_.master_addr;
  backend.timeout = options_.timeout;
  backend.cuda_device = options_.cuda_device;
  try {
    backend_ = CreateBackend(store_, backend);
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& error) {
    Fail("connection of the " + options_.backend + " backend", ReasonOf(error));
  }
}

void ProcessGroup::CheckUsable(const char* what) const {
  if (!failure_.empty()) throw CodedError(kCode, failure_);
  if (!backend_) throw std::logic_error(std::string("the ") + what + " needs a connected process group (connect() first; not after close())");
}

template <typename Launch>
void ProcessGroup::Collective(const char* what, int64_t bytes, Launch launch) {
  CheckUsable(what);
  const auto start = Clock::now();
  try {
    std::vector<WorkPtr> works = launch(*backend_);
    for (auto& work : works) work->wait();
  } catch (const std::exception& error) {
    Fail(what, ReasonOf(error));
  }
  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_.calls++;
  stats_.bytes += bytes;
  stats_.seconds += std::chrono::duration<double>(Clock::now() - start).count();
}

std::string ProcessGroup::Diagnose() {
  try {
    if (std::string reported = ReportedFailure(); !reported.empty()) return reported;
    // A rank that is only computing still beats; a dead or frozen one does not.
    const std::vector<int> silent = liveness_->SilentRanks(3 * Liveness::kPeriod);
    if (std::string reported = ReportedFailure(); !reported.empty()) return reported;
    if (!silent.empty()) {
      return RankList(silent) + (silent.size() == 1 ? " was" : " were") + " lost (the process is gone or frozen: its heartbeat stopped)";
    }
    return "every rank is still running, so one of them is stuck or slower than the timeout (--dist-timeout, " + Seconds(options_.timeout) +
           "), or the ranks called different collectives";
  } catch (const std::exception&) {
    return "rank 0 was lost (the rendezvous store it hosts no longer answers)";
  }
}

void ProcessGroup::Fail(const std::string& what, const std::string& reason) {
  failure_ = "the " + what + " failed on rank " + std::to_string(options_.rank) + ": " + Diagnose() + ". Backend message: " + reason;
  throw CodedError(kCode, failure_);
}

template <typename LaunchOne>
void ProcessGroup::EachTensor(const char* what, std::vector<at::Tensor>& tensors, LaunchOne launch_one) {
  int64_t bytes = 0;
  for (const auto& tensor : tensors) bytes += static_cast<int64_t>(tensor.nbytes());
  Collective(what, bytes, [&](CommBackend& backend) {
    std::vector<WorkPtr> works;
    for (auto& tensor : tensors) {
      std::vector<at::Tensor> one{tensor};
      works.push_back(launch_one(backend, one));
    }
    return works;
  });
}

void ProcessGroup::AllReduce(std::vector<at::Tensor>& tensors, c10d::ReduceOp op) {
  c10d::AllreduceOptions options;
  options.reduceOp = op;
  EachTensor("all-reduce", tensors, [&](CommBackend& backend, std::vector<at::Tensor>& one) { return backend.allreduce(one, options); });
}

at::Tensor ProcessGroup::AllGather(const at::Tensor& tensor) {
  std::vector<at::Tensor> inputs{tensor.contiguous()};
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < options_.world_size; ++r) outputs[0].push_back(at::empty_like(inputs[0]));
  Collective("all-gather", static_cast<int64_t>(inputs[0].nbytes()) * options_.world_size,
             [&](CommBackend& backend) { return std::vector<WorkPtr>{backend.allgather(outputs, inputs)}; });
  return at::stack(outputs[0]);
}

void ProcessGroup::Broadcast(std::vector<at::Tensor>& tensors, int root) {
  c10d::BroadcastOptions options;
  options.rootRank = root;
  EachTensor("broadcast", tensors, [&](CommBackend& backend, std::vector<at::Tensor>& one) { return backend.broadcast(one, options); });
}

void ProcessGroup::Barrier() {
  Collective("barrier", 0, [&](CommBackend& backend) { return std::vector<WorkPtr>{backend.barrier()}; });
}

void ProcessGroup::Abort(const std::string& message) {
  const int world = options_.world_size;
  // after a failure of the group itself the others know already (or are gone): no need to wait for them
  const bool others_know = !failure_.empty();
  try {
    store_->set(ErrorKey(options_.rank), ToBytes(message));
    backend_.reset();
    if (options_.rank == 0 && !others_know) {
      // the others learn why through the store this process hosts: keep it up until they have
      PollUntil(
          [&] {
            int64_t done = store_->add(kErrorReadKey, 0);
            for (int r = 1; r < world; ++r) done += store_->check({ErrorKey(r)}) ? 1 : 0;
            return done >= world - 1;
          },
          std::chrono::seconds(30));
    }
  } catch (...) {
    // nothing more to tell anyone: the store is gone
  }
  if (failure_.empty()) failure_ = "this rank stopped: " + message;
  backend_.reset();
  liveness_.reset();
}

void ProcessGroup::Close() {
  backend_.reset();
  liveness_.reset();
  if (!store_) return;
  try {
    store_->add(kClosedKey, 1);
    // rank 0 hosts the store: it stays until every rank is done with it
    if (options_.rank == 0) PollUntil([&] { return store_->add(kClosedKey, 0) >= options_.world_size; }, std::chrono::seconds(30));
  } catch (...) {
    // rank 0 already went away: nothing left to close
  }
  store_.reset();
  if (failure_.empty()) failure_ = "the process group was closed";
}

CollectiveStats ProcessGroup::Stats() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return stats_;
}

}  // namespace das::dist
