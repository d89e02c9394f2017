#include "checkpoint/pickle_reader.h"

#include <cstring>
#include <stdexcept>

#include "checkpoint/checkpoint_error.h"
#include "checkpoint/pickle_globals.h"

namespace das::checkpoint {

namespace {

// The opcodes of protocols 2-5 that torch.save and Lightning checkpoints use (pickletools names).
enum Opcode : uint8_t {
  kMark = '(', kStop = '.', kPop = '0', kPopMark = '1', kDup = '2', kBinFloat = 'G', kBinInt = 'J', kBinInt1 = 'K',
  kBinInt2 = 'M', kNone = 'N', kBinPersId = 'Q', kReduce = 'R', kShortBinString = 'U', kBinString = 'T',
  kBinUnicode = 'X', kAppend = 'a', kBuild = 'b', kGlobal = 'c', kDict = 'd', kEmptyDict = '}', kAppends = 'e',
  kBinGet = 'h', kLongBinGet = 'j', kList = 'l', kEmptyList = ']', kBinPut = 'q', kLongBinPut = 'r', kSetItem = 's',
  kTuple = 't', kEmptyTuple = ')', kSetItems = 'u', kBinBytes = 'B', kShortBinBytes = 'C', kProto = 0x80,
  kNewObj = 0x81, kTuple1 = 0x85, kTuple2 = 0x86, kTuple3 = 0x87, kNewTrue = 0x88, kNewFalse = 0x89, kLong1 = 0x8a,
  kLong4 = 0x8b, kShortBinUnicode = 0x8c, kBinUnicode8 = 0x8d, kBinBytes8 = 0x8e, kEmptySet = 0x8f, kAddItems = 0x90,
  kFrozenSet = 0x91, kStackGlobal = 0x93, kMemoize = 0x94, kFrame = 0x95,
};

}  // namespace

Unpickler::Unpickler(std::string path, std::string record, const uint8_t* data, size_t size, PersistentLoad load)
    : path_(std::move(path)), record_(std::move(record)), data_(data), size_(size), load_(std::move(load)) {}

Unpickler::~Unpickler() {
  stack_.clear();
  memo_.clear();
  // Every container is still owned by containers_, so emptying one never destroys another.
  for (const ValuePtr& container : containers_) {
    container->items.clear();
    container->entries.clear();
  }
}

void Unpickler::Fail(const std::string& detail) const {
  throw CheckpointError(path_, "pickle " + record_ + " at byte " + std::to_string(opcode_at_) + ": " + detail);
}

const uint8_t* Unpickler::Take(size_t n) {
  if (n > size_ - at_) {
    throw TruncatedPickle(path_, "pickle " + record_ + " at byte " + std::to_string(opcode_at_) + ": truncated: needs " +
                                     std::to_string(n) + " more bytes but only " + std::to_string(size_ - at_) + " remain");
  }
  const uint8_t* p = data_ + at_;
  at_ += n;
  return p;
}

std::string Unpickler::TakeLine() {
  const void* end = std::memchr(data_ + at_, '\n', size_ - at_);
  if (!end) throw TruncatedPickle(path_, "pickle " + record_ + " at byte " + std::to_string(opcode_at_) + ": truncated in a GLOBAL name");
  const size_t length = static_cast<const uint8_t*>(end) - (data_ + at_);
  std::string line(reinterpret_cast<const char*>(Take(length)), length);
  Take(1);
  return line;
}

ValuePtr Unpickler::Pop() {
  if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) Fail("stack underflow (corrupt pickle)");
  ValuePtr value = std::move(stack_.back());
  stack_.pop_back();
  return value;
}

ValuePtr& Unpickler::Top() {
  if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) Fail("stack underflow (corrupt pickle)");
  return stack_.back();
}

std::vector<ValuePtr> Unpickler::PopToMark() {
  if (marks_.empty()) Fail("no MARK on the stack (corrupt pickle)");
  const size_t mark = marks_.back();
  marks_.pop_back();
  std::vector<ValuePtr> items(std::make_move_iterator(stack_.begin() + static_cast<ptrdiff_t>(mark)), std::make_move_iterator(stack_.end()));
  stack_.resize(mark);
  return items;
}

ValuePtr Unpickler::Container(Value::Kind kind) {
  auto value = std::make_shared<Value>();
  value->kind = kind;
  containers_.push_back(value);
  return value;
}

void Unpickler::PushScalar(Value::Kind kind, int64_t integer) {
  auto value = std::make_shared<Value>();
  value->kind = kind;
  value->integer = integer;
  value->boolean = integer != 0;
  Push(std::move(value));
}

void Unpickler::PushText(Value::Kind kind, size_t length) {
  auto value = std::make_shared<Value>();
  value->kind = kind;
  value->text.assign(reinterpret_cast<const char*>(Take(length)), length);
  Push(std::move(value));
}

void Unpickler::PushGlobal(const std::string& module, const std::string& name) {
  std::optional<Value> global = ResolveGlobal(module, name);
  if (!global) {
    Fail("refusing the global " + module + "." + name + ": it is not on the weights-only allowlist (" + AllowlistSummary() +
         "); the file may try to run code, or needs a newer das-torch");
  }
  Push(std::make_shared<Value>(std::move(*global)));
}

void Unpickler::AddToList(const ValuePtr& list, std::vector<ValuePtr> items) {
  if (!list->Is(Value::Kind::kList)) Fail(std::string("APPEND to a ") + KindName(list->kind));
  for (ValuePtr& item : items) list->items.push_back(std::move(item));
}

void Unpickler::AddToDict(const ValuePtr& dict, std::vector<ValuePtr> items) {
  if (!dict->Is(Value::Kind::kDict)) Fail(std::string("SETITEM on a ") + KindName(dict->kind));
  if (items.size() % 2 != 0) Fail("SETITEMS with an odd number of values");
  for (size_t i = 0; i < items.size(); i += 2) dict->Set(std::move(items[i]), std::move(items[i + 1]));
}

ValuePtr Unpickler::MemoGet(uint64_t index) {
  const auto found = memo_.find(index);
  if (found == memo_.end()) Fail("memo entry " + std::to_string(index) + " is read before it is written");
  return found->second;
}

ValuePtr Unpickler::Load() {
  while (Step()) {
  }
  if (stack_.size() != 1 || !marks_.empty()) Fail("STOP with " + std::to_string(stack_.size()) + " values on the stack (corrupt pickle)");
  return stack_.back();
}

bool Unpickler::Step() {
  using Kind = Value::Kind;
  opcode_at_ = at_;
  const uint8_t op = *Take(1);
  switch (op) {
    case kProto: {
      const uint8_t protocol = *Take(1);
      if (protocol < 2 || protocol > 5) Fail("pickle protocol " + std::to_string(protocol) + " is not supported (2 to 5 are)");
      return true;
    }
    case kFrame: TakeLE(8); return true;  // frames only group opcodes; the bounds checks stay per opcode
    case kStop: return false;
    case kMark: marks_.push_back(stack_.size()); return true;
    case kPop: Pop(); return true;
    case kPopMark: PopToMark(); return true;
    case kDup: Push(Top()); return true;
    case kNone: PushScalar(Kind::kNone); return true;
    case kNewTrue: PushScalar(Kind::kBool, 1); return true;
    case kNewFalse: PushScalar(Kind::kBool, 0); return true;
    case kBinInt: PushScalar(Kind::kInt, static_cast<int32_t>(TakeLE(4))); return true;
    case kBinInt1: PushScalar(Kind::kInt, static_cast<int64_t>(TakeLE(1))); return true;
    case kBinInt2: PushScalar(Kind::kInt, static_cast<int64_t>(TakeLE(2))); return true;
    case kLong1:
    case kLong4: {
      const uint64_t length = op == kLong1 ? TakeLE(1) : TakeLE(4);
      const uint8_t* bytes = Take(static_cast<size_t>(length));
      if (length <= 8) {  // two's complement, little-endian
        uint64_t raw = length ? LoadLE(bytes, static_cast<int>(length)) : 0;
        if (length > 0 && length < 8 && (bytes[length - 1] & 0x80)) raw |= ~uint64_t{0} << (8 * length);
        PushScalar(Kind::kInt, static_cast<int64_t>(raw));
      } else {
        auto value = std::make_shared<Value>();
        value->kind = Kind::kBigInt;
        value->text.assign(reinterpret_cast<const char*>(bytes), length);
        Push(std::move(value));
      }
      return true;
    }
    case kBinFloat: {
      const uint8_t* p = Take(8);
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];  // big-endian
      auto value = std::make_shared<Value>();
      value->kind = Kind::kFloat;
      std::memcpy(&value->number, &bits, 8);
      Push(std::move(value));
      return true;
    }
    case kShortBinUnicode: PushText(Kind::kString, TakeLE(1)); return true;
    case kBinUnicode: PushText(Kind::kString, TakeLE(4)); return true;
    case kBinUnicode8: PushText(Kind::kString, TakeLE(8)); return true;
    case kShortBinString: PushText(Kind::kString, TakeLE(1)); return true;
    case kBinString: PushText(Kind::kString, TakeLE(4)); return true;
    case kShortBinBytes: PushText(Kind::kBytes, TakeLE(1)); return true;
    case kBinBytes: PushText(Kind::kBytes, TakeLE(4)); return true;
    case kBinBytes8: PushText(Kind::kBytes, TakeLE(8)); return true;
    case kEmptyTuple: Push(Container(Kind::kTuple)); return true;
    case kEmptyList: Push(Container(Kind::kList)); return true;
    case kEmptyDict: Push(Container(Kind::kDict)); return true;
    case kEmptySet: Push(Container(Kind::kList)); return true;
    case kTuple1:
    case kTuple2:
    case kTuple3: {
      const size_t n = op - kTuple1 + 1;
      ValuePtr tuple = Container(Kind::kTuple);
      tuple->items.resize(n);
      for (size_t i = n; i-- > 0;) tuple->items[i] = Pop();
      Push(tuple);
      return true;
    }
    case kTuple:
    case kFrozenSet:
    case kList: {
      ValuePtr container = Container(op == kTuple ? Kind::kTuple : Kind::kList);
      container->items = PopToMark();
      Push(container);
      return true;
    }
    case kDict: {
      std::vector<ValuePtr> items = PopToMark();
      ValuePtr dict = Container(Kind::kDict);
      AddToDict(dict, std::move(items));
      Push(dict);
      return true;
    }
    case kAppend: {
      ValuePtr item = Pop();
      AddToList(Top(), {std::move(item)});
      return true;
    }
    case kAppends:
    case kAddItems: {
      std::vector<ValuePtr> items = PopToMark();
      AddToList(Top(), std::move(items));
      return true;
    }
    case kSetItem: {
      ValuePtr value = Pop();
      ValuePtr key = Pop();
      AddToDict(Top(), {std::move(key), std::move(value)});
      return true;
    }
    case kSetItems: {
      std::vector<ValuePtr> items = PopToMark();
      AddToDict(Top(), std::move(items));
      return true;
    }
    case kBinPut: memo_[TakeLE(1)] = Top(); return true;
    case kLongBinPut: memo_[TakeLE(4)] = Top(); return true;
    case kMemoize: memo_[memo_.size()] = Top(); return true;
    case kBinGet: Push(MemoGet(TakeLE(1))); return true;
    case kLongBinGet: Push(MemoGet(TakeLE(4))); return true;
    case kGlobal: {
      const std::string module = TakeLine();
      PushGlobal(module, TakeLine());
      return true;
    }
    case kStackGlobal: {
      ValuePtr name = Pop();
      ValuePtr module = Pop();
      if (!name->Is(Kind::kString) || !module->Is(Kind::kString)) Fail("STACK_GLOBAL needs two strings");
      PushGlobal(module->text, name->text);
      return true;
    }
    case kBinPersId: {
      ValuePtr pid = Pop();
      if (!load_) Fail("a persistent id appears in a pickle that should have none");
      try {
        Push(load_(*pid));
      } catch (const CheckpointError&) {
        throw;
      } catch (const std::exception& error) {
        Fail(std::string("persistent id: ") + error.what());
      }
      return true;
    }
    case kReduce:
    case kNewObj: {
      ValuePtr args = Pop();
      ValuePtr callable = Pop();
      if (!callable->Is(Kind::kGlobal)) Fail(std::string(op == kReduce ? "REDUCE" : "NEWOBJ") + " on a " + KindName(callable->kind));
      try {
        ValuePtr result = op == kReduce ? CallGlobal(*callable, *args) : NewObject(*callable, *args);
        if (result->Is(Kind::kDict) || result->Is(Kind::kList) || result->Is(Kind::kTuple)) containers_.push_back(result);
        Push(std::move(result));
      } catch (const std::exception& error) {
        Fail(callable->text + ": " + error.what());
      }
      return true;
    }
    case kBuild: {
      ValuePtr state = Pop();
      try {
        ApplyState(*Top(), *state);
      } catch (const std::exception& error) {
        Fail(error.what());
      }
      return true;
    }
    default: {
      static const char* kHex = "0123456789abcdef";
      Fail(std::string("opcode 0x") + kHex[op >> 4] + kHex[op & 15] + " is not supported by the weights-only reader");
    }
  }
}

}  // namespace das::checkpoint
