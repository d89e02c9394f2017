// The values a weights-only unpickle can produce: Python's plain data types, plus storages and
// tensor views described by reference (no tensor data is read while unpickling). Plain C++.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "checkpoint/dtype.h"

namespace das::checkpoint {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

// A storage named by a persistent id: the key of its record and its element type.
struct StorageRef {
  std::string key;
  DType dtype = DType::kU8;
  int64_t numel = 0;
  int64_t view_offset = 0;  // legacy format: a view into a larger storage, in elements
};

// A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage.
struct TensorRef {
  StorageRef storage;
  int64_t storage_offset = 0;
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
};

struct Value {
  enum class Kind { kNone, kBool, kInt, kBigInt, kFloat, kString, kBytes, kTuple, kList, kDict, kGlobal, kStorage, kTensor };

  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string text;  // str, bytes, the little-endian bytes of a big int, or a global's "module.name"
  std::vector<ValuePtr> items;                           // tuple, list (sets become lists)
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;    // dict, in insertion order
  std::unordered_map<std::string, size_t> string_keys;  // dict: index of each str key in `entries`
  StorageRef storage;
  TensorRef tensor;

  bool Is(Kind k) const { return kind == k; }
  // The entry for a str key, or null.
  ValuePtr Get(const std::string& key) const;
  void Set(ValuePtr key, ValuePtr value);
};

const char* KindName(Value::Kind kind);

}  // namespace das::checkpoint
