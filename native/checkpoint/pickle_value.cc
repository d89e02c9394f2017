#include "checkpoint/pickle_value.h"

namespace das::checkpoint {

ValuePtr Value::Get(const std::string& key) const {
  const auto found = string_keys.find(key);
  return found == string_keys.end() ? nullptr : entries[found->second].second;
}

void Value::Set(ValuePtr key, ValuePtr value) {
  // Only str keys are looked up by name; other keys (optimizer state ids) are kept in order.
  if (key->Is(Kind::kString)) {
    const auto [slot, inserted] = string_keys.emplace(key->text, entries.size());
    if (!inserted) {
      entries[slot->second].second = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
}

const char* KindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNone: return "None";
    case Value::Kind::kBool: return "bool";
    case Value::Kind::kInt: return "int";
    case Value::Kind::kBigInt: return "big int";
    case Value::Kind::kFloat: return "float";
    case Value::Kind::kString: return "str";
    case Value::Kind::kBytes: return "bytes";
    case Value::Kind::kTuple: return "tuple";
    case Value::Kind::kList: return "list";
    case Value::Kind::kDict: return "dict";
    case Value::Kind::kGlobal: return "global";
    case Value::Kind::kStorage: return "storage";
    case Value::Kind::kTensor: return "tensor";
  }
  return "value";
}

}  // namespace das::checkpoint
