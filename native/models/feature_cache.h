// Outputs of METER's frozen prefixes (vision tower; language encoder when none of its layers is
// skipped) kept per example key, so later epochs skip recomputing them. A stored row is reused
// only when the input row it came from has the same fingerprint (a hash of its bytes): an input
// that changed under the same key (random augmentation, a reused key) is recomputed and counted,
// so the cache says when it is bypassed instead of silently serving stale features.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace das::models {

// Hash of one input row (bytes + shape), e.g. pixels[i] or input_ids[i] with its mask.
uint64_t Fingerprint(const std::vector<at::Tensor>& parts);

class FeatureCache {
 public:
  explicit FeatureCache(int64_t max_bytes) : max_bytes_(max_bytes) {}
  bool enabled() const { return max_bytes_ > 0; }

  // Feature rows for a batch. `keys`: int64 CPU [N] or undefined (no keys: bypassed, counted);
  // `fingerprints`: one per row. `compute(rows)` returns features for the given batch rows
  // (int64 indices; undefined = every row, in order). Rows come back in batch order.
  at::Tensor Get(const std::string& space, const at::Tensor& keys, const std::vector<uint64_t>& fingerprints,
                 const std::function<at::Tensor(const at::Tensor& rows)>& compute);
  // Counts a batch that could not use the cache for a reason of the caller's (e.g. "skip").
  void CountBypass(const std::string& space, const std::string& reason) { ++counters_[space + ".bypassed." + reason]; }

  std::vector<std::pair<std::string, double>> Counters() const;
  void Clear();

 private:
  struct Entry {
    uint64_t fingerprint;
    at::Tensor value;
  };
  int64_t max_bytes_;
  int64_t bytes_ = 0;
  std::map<std::string, std::unordered_map<int64_t, Entry>> entries_;
  std::map<std::string, double> counters_;
};

}  // namespace das::models
