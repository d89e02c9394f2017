// Which ranks are still running: every rank bumps a counter in the rendezvous store once a second
// from a thread of its own, so a process that died (or froze) is told apart from one that is only
// slow or busy computing. Read when a collective fails, to name the rank that was lost.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dist/c10d_compat.h"

namespace das::dist {

class Liveness {
 public:
  // Opens its own connection to the store, so a long blocking call on the main one never delays a beat.
  Liveness(const std::string& host, int port, const std::string& prefix, int rank, int world_size);
  ~Liveness();
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;

  // The other ranks whose counter did not move during `window`. Throws when the store does not answer.
  std::vector<int> SilentRanks(std::chrono::milliseconds window);

  static constexpr std::chrono::milliseconds kPeriod{1000};

 private:
  void Run();

  StorePtr store_;
  const int rank_;
  const int world_size_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

std::string BeatKey(int rank);

}  // namespace das::dist
