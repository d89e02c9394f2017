#include "models/feature_cache.h"

#include <ATen/ATen.h>

#include <string_view>

namespace das::models {

uint64_t Fingerprint(const std::vector<at::Tensor>& parts) {
  uint64_t hash = 1469598103934665603ull;
  for (const at::Tensor& part : parts) {
    const at::Tensor bytes = part.contiguous().cpu();
    const std::string_view view(static_cast<const char*>(bytes.data_ptr()), static_cast<size_t>(bytes.nbytes()));
    // mix the shape and the content hash into the running hash (FNV-style combine)
    for (int64_t size : bytes.sizes()) hash = (hash ^ static_cast<uint64_t>(size)) * 1099511628211ull;
    hash = (hash ^ std::hash<std::string_view>{}(view)) * 1099511628211ull;
    hash = (hash ^ static_cast<uint64_t>(bytes.scalar_type())) * 1099511628211ull;
  }
  return hash;
}

at::Tensor FeatureCache::Get(const std::string& space, const at::Tensor& keys, const std::vector<uint64_t>& fingerprints,
                             const std::function<at::Tensor(const at::Tensor& rows)>& compute) {
  if (!enabled()) return compute({});
  if (!keys.defined()) {
    ++counters_[space + ".bypassed.no_keys"];
    return compute({});
  }
  auto& entries = entries_[space];
  const int64_t n = keys.size(0);
  const int64_t* key = keys.data_ptr<int64_t>();
  std::vector<int64_t> missing;
  std::vector<at::Tensor> found(n);
  for (int64_t i = 0; i < n; ++i) {
    const auto it = entries.find(key[i]);
    if (it != entries.end() && it->second.fingerprint == fingerprints[i]) {
      found[i] = it->second.value;
      ++counters_[space + ".hits"];
      continue;
    }
    if (it != entries.end()) {
      ++counters_[space + ".changed"];  // same key, other input: recomputed, and replaced below
      bytes_ -= static_cast<int64_t>(it->second.value.nbytes());
      entries.erase(it);
    }
    ++counters_[space + ".misses"];
    missing.push_back(i);
  }
  if (!missing.empty()) {
    const bool all = static_cast<int64_t>(missing.size()) == n;
    const at::Tensor rows = all ? at::Tensor() : at::tensor(missing, at::kLong);
    const at::Tensor computed = compute(rows);
    for (size_t j = 0; j < missing.size(); ++j) {
      const int64_t i = missing[j];
      found[i] = computed[static_cast<int64_t>(j)];
      if (entries.count(key[i])) continue;  // the same key twice in one batch
      const auto size = static_cast<int64_t>(found[i].nbytes());
      if (bytes_ + size > max_bytes_) {
        ++counters_[space + ".bypassed.full"];
        continue;
      }
      // a copy that owns its memory: a view would keep the whole batch tensor alive
      entries[key[i]] = {fingerprints[i], found[i].detach().clone()};
      bytes_ += size;
    }
    if (all) return computed;  // exactly the uncached computation
  }
  return at::stack(found, 0);
}

std::vector<std::pair<std::string, double>> FeatureCache::Counters() const {
  std::vector<std::pair<std::string, double>> out(counters_.begin(), counters_.end());
  double entries = 0;
  for (const auto& [space, map] : entries_) entries += static_cast<double>(map.size());
  out.emplace_back("entries", entries);
  out.emplace_back("bytes", static_cast<double>(bytes_));
  return out;
}

void FeatureCache::Clear() {
  entries_.clear();
  counters_.clear();
  bytes_ = 0;
}

}  // namespace das::models
