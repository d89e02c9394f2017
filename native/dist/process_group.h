// One rank's membership of a data-parallel job: the rendezvous store (a TCPStore that rank 0
// hosts), a heartbeat, and the collective backend (Gloo or NCCL). Every failure is turned into one
// error (code DAS_DISTRIBUTED) that says which rank was lost or stopped and why, so a job ends with
// a reason instead of hanging. Collectives must be called by every rank in the same order; the
// addon runs them on its compute thread, in line with the training steps.
#pragma once

#include <ATen/ATen.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dist/backends.h"
#include "dist/c10d_compat.h"
#include "dist/liveness.h"

namespace das::dist {

struct GroupOptions {
  std::string backend = "gloo";
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // Rank 0 hosts the store, unless a launcher's agent already does (torchrun's, under a key prefix).
  bool host_store = true;
  std::string store_prefix;
  // Limit for the rendezvous and for every collective; a rank that does not take part by then is reported.
  std::chrono::milliseconds timeout{1800000};
  int cuda_device = -1;  // NCCL: the GPU of this rank
};

struct CollectiveStats {
  int64_t calls = 0;
  int64_t bytes = 0;
  double seconds = 0;  // wall time spent inside collectives (waiting for the slowest rank included)
};

class ProcessGroup {
 public:
  // Opens the store (rank 0 hosts it) and claims this rank; the backend connects later (Connect).
  explicit ProcessGroup(const GroupOptions& options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return options_.rank; }
  int size() const { return options_.world_size; }
  // Where collective tensors must live: the CPU for Gloo, the rank's GPU for NCCL.
  c10::Device device() const;

  // Every rank's `value` for `key`, in rank order, through the store (no backend needed). Fails
  // early when a rank reports an error, and names the ranks missing at the timeout.
  std::vector<std::string> Exchange(const std::string& key, const std::string& value);
  // Connects the backend: every rank to every other one.
  void Connect();

  // Sums (or takes the max/min of) each tensor over the ranks, in place; all are started together.
  void AllReduce(std::vector<at::Tensor>& tensors, c10d::ReduceOp op = c10d::ReduceOp::SUM);
  // Every rank's `tensor` (same shape everywhere), stacked in rank order: [world, ...shape].
  at::Tensor AllGather(const at::Tensor& tensor);
  // Overwrites each tensor with rank `root`'s.
  void Broadcast(std::vector<at::Tensor>& tensors, int root);
  void Barrier();

  // This rank stops with `message`: the others read it when their next collective fails, which
  // happens at once because the backend's connections close here. Rank 0 hosts the store, so it
  // waits (up to 30 s) until the others have read the message, unless the group itself failed.
  void Abort(const std::string& message);
  // The orderly end, after the last collective of every rank (the caller passes a barrier first).
  void Close();

  CollectiveStats Stats() const;

 private:
  template <typename Launch>
  void Collective(const char* what, int64_t bytes, Launch launch);
  // One collective per tensor, all started before any is waited for.
  template <typename LaunchOne>
  void EachTensor(const char* what, std::vector<at::Tensor>& tensors, LaunchOne launch_one);
  [[noreturn]] void Fail(const std::string& what, const std::string& reason);
  // Why a collective failed, from the other ranks' side: a reported error, a silent heartbeat, or neither.
  std::string Diagnose();
  void CheckUsable(const char* what) const;
  // "rank r stopped: <its message>" for a rank that reported why it stopped (Abort), else "".
  std::string ReportedFailure();

  const GroupOptions options_;
  StorePtr store_;
  std::unique_ptr<Liveness> liveness_;
  c10::intrusive_ptr<CommBackend> backend_;
  std::string failure_;  // set once a collective failed: the group is unusable from then on
  mutable std::mutex stats_mutex_;
  CollectiveStats stats_;
};

}  // namespace das::dist
