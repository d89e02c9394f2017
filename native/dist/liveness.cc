#include "dist/liveness.h"

#include <thread>

#include "dist/store.h"

namespace das::dist {

std::string BeatKey(int rank) { return "das/beat/" + std::to_string(rank); }

Liveness::Liveness(const std::string& host, int port, const std::string& prefix, int rank, int world_size) : rank_(rank), world_size_(world_size) {
  // a diagnosis must not hang on a store that vanished: a short timeout
  store_ = ConnectStore(host, port, false, std::chrono::seconds(10), prefix);
  store_->add(BeatKey(rank_), 1);
  thread_ = std::thread([this] { Run(); });
}

Liveness::~Liveness() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Liveness::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, kPeriod, [this] { return stopping_; })) {
    try {
      store_->add(BeatKey(rank_), 1);
    } catch (...) {
      return;  // the store is gone (rank 0 ended): nobody is left to read the beats
    }
  }
}

std::vector<int> Liveness::SilentRanks(std::chrono::milliseconds window) {
  std::vector<int64_t> before(world_size_);
  for (int r = 0; r < world_size_; ++r) before[r] = r == rank_ ? 0 : store_->add(BeatKey(r), 0);
  std::this_thread::sleep_for(window);
  std::vector<int> silent;
  for (int r = 0; r < world_size_; ++r) {
    if (r != rank_ && store_->add(BeatKey(r), 0) == before[r]) silent.push_back(r);
  }
  return silent;
}

}  // namespace das::dist
