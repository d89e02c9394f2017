#include "runtime/compute_thread.h"

#include "runtime/runtime_info.h"

namespace das {

ComputeThread& ComputeThread::Get() {
  // Never destroyed: Stop() joins the thread at environment teardown, before static destructors.
  static ComputeThread* instance = new ComputeThread();
  return *instance;
}

ComputeThread::ComputeThread() : thread_([this] { Loop(); }) {}

void ComputeThread::Post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void ComputeThread::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    jobs_.clear();
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void ComputeThread::Loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    UseGlobalThreadCountOnThisThread();
    job();
  }
}

}  // namespace das
