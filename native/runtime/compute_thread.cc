#include "runtime/compute_thread.h"

#include <vector>

#include "runtime/runtime_info.h"

namespace das {

ComputeThread& ComputeThread::Get() {
  // Never destroyed: a static destructor could run while a worker thread's job still computes.
  static ComputeThread* instance = new ComputeThread();
  return *instance;
}

void ComputeThread::Attach(Owner owner) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (owners_++ > 0) return;
  // The previous thread (if any) was joined by the Detach that retired it.
  ++threads_started_;
  thread_ = std::thread([this, generation = generation_] { Loop(generation); });
}

size_t ComputeThread::Detach(Owner owner) {
  std::vector<std::function<void()>> dropped;  // destroyed outside the lock: they may free models
  std::thread retired;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (it->first == owner) {
        dropped.push_back(std::move(it->second));
        it = jobs_.erase(it);
      } else {
        ++it;
      }
    }
    jobs_dropped_ += dropped.size();
    idle_.wait(lock, [&] { return running_ != owner; });
    if (--owners_ == 0) {
      ++generation_;
      retired = std::move(thread_);
    }
  }
  wake_.notify_all();
  if (retired.joinable()) retired.join();
  return dropped.size();
}

void ComputeThread::Post(Owner owner, std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.emplace_back(owner, std::move(job));
  }
  wake_.notify_one();
}

ComputeThread::Counts ComputeThread::counts() {
  std::lock_guard<std::mutex> lock(mutex_);
  return {jobs_run_, jobs_dropped_, owners_, threads_started_};
}

void ComputeThread::Loop(uint64_t generation) {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_ != generation || !jobs_.empty(); });
      if (generation_ != generation) return;
      running_ = jobs_.front().first;
      job = std::move(jobs_.front().second);
      jobs_.pop_front();
    }
    UseGlobalThreadCountOnThisThread();
    job();
    job = nullptr;  // what the job captured goes before its owner may detach
    {
      std::lock_guard<std::mutex> lock(mutex_);
      running_ = nullptr;
      ++jobs_run_;
    }
    idle_.notify_all();
  }
}

}  // namespace das
