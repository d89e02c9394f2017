// The one thread that runs all of the addon's heavy work, in the order it was posted. libtorch
// keeps a lot of per-thread state: the OpenMP team that runs its kernels, the allocator arena its
// tensors come from, grad and autocast modes, the current CUDA device and stream. On a single
// long-lived thread that state stays warm and consistent from call to call; spread over libuv's
// pool, every thread change cost a re-warm (seconds per training step on roberta-base).
//
// Several Node environments (the main thread and any number of worker threads) share the thread.
// Each job belongs to an owner (an environment); an owner that goes away takes its queued jobs
// with it and waits for its running job, so no job ever outlives the memory it reads. The thread
// runs while at least one owner is attached and starts again when a new one attaches.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace das {

class ComputeThread {
 public:
  using Owner = const void*;

  // The process-wide instance (never destroyed; the thread is joined when the last owner detaches).
  static ComputeThread& Get();

  // An owner starts posting jobs; the first one starts the thread.
  void Attach(Owner owner);
  // Drops `owner`'s queued jobs and waits until none of its jobs runs; with the last owner the
  // thread is joined. Returns how many queued jobs were dropped. Call on the owner's own thread.
  size_t Detach(Owner owner);

  // Queues `job` for `owner`; jobs run one at a time in posting order. A job must not throw.
  void Post(Owner owner, std::function<void()> job);

  // For tests and diagnostics.
  struct Counts {
    uint64_t jobs_run = 0;
    uint64_t jobs_dropped = 0;  // queued when their owner went away
    int owners = 0;             // attached now
    uint64_t threads_started = 0;
  };
  Counts counts();

 private:
  ComputeThread() = default;
  void Loop(uint64_t generation);

  std::mutex mutex_;
  std::condition_variable wake_;  // a job was posted, or the thread must stop
  std::condition_variable idle_;  // a job finished
  std::deque<std::pair<Owner, std::function<void()>>> jobs_;
  Owner running_ = nullptr;
  int owners_ = 0;
  // A thread runs while its generation is the current one; detaching the last owner retires it.
  uint64_t generation_ = 0;
  uint64_t jobs_run_ = 0;
  uint64_t jobs_dropped_ = 0;
  uint64_t threads_started_ = 0;
  std::thread thread_;
};

}  // namespace das
