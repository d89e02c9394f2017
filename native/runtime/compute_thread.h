// The one thread that runs all of the addon's heavy work, in the order it was posted. libtorch
// keeps a lot of per-thread state: the OpenMP team that runs its kernels, the allocator arena its
// tensors come from, grad and autocast modes, the current CUDA device and stream. On a single
// long-lived thread that state stays warm and consistent from call to call; spread over libuv's
// pool, every thread change cost a re-warm (seconds per training step on roberta-base).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace das {

class ComputeThread {
 public:
  // The process-wide instance, started on first use.
  static ComputeThread& Get();

  // Queues `job`; jobs run one at a time in posting order. A job must not throw.
  void Post(std::function<void()> job);

  // Lets the running job finish, drops the queued ones and joins the thread (process teardown).
  void Stop();

 private:
  ComputeThread();
  void Loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace das
