// A restricted unpickler for the pickles torch.save writes (protocols 2 to 5). It interprets the
// opcodes itself and never runs Python code: globals must be on the weights-only allowlist
// (pickle_globals.h), and a forbidden one stops the read with an error naming it and the file.
// Plain C++ (no torch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "checkpoint/binary_file.h"
#include "checkpoint/checkpoint_error.h"
#include "checkpoint/pickle_value.h"

namespace das::checkpoint {

// The pickle ends before its STOP opcode.
class TruncatedPickle : public CheckpointError {
 public:
  using CheckpointError::CheckpointError;
};

// Turns a persistent id (BINPERSID) into a storage value; throws std::runtime_error when the id is
// not a storage reference of the expected form.
using PersistentLoad = std::function<ValuePtr(const Value& pid)>;

class Unpickler {
 public:
  // `path` and `record` name the pickle in messages ("model.ckpt", "archive/data.pkl").
  Unpickler(std::string path, std::string record, const uint8_t* data, size_t size, PersistentLoad load);
  // Dismantles every container it made, iteratively, so deep nesting or reference cycles built by
  // a hostile pickle can neither overflow the stack nor leak.
  ~Unpickler();
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  // Runs to STOP and returns the pickled object (valid while this Unpickler lives).
  ValuePtr Load();
  // Bytes read so far (the legacy format stores several pickles back to back).
  size_t consumed() const { return at_; }

 private:
  [[noreturn]] void Fail(const std::string& detail) const;
  const uint8_t* Take(size_t n);
  uint64_t TakeLE(int n) { return LoadLE(Take(n), n); }
  std::string TakeLine();
  ValuePtr Pop();
  ValuePtr& Top();
  std::vector<ValuePtr> PopToMark();
  ValuePtr Container(Value::Kind kind);
  void Push(ValuePtr value) { stack_.push_back(std::move(value)); }
  void PushScalar(Value::Kind kind, int64_t integer = 0);
  void PushText(Value::Kind kind, size_t length);
  void PushGlobal(const std::string& module, const std::string& name);
  void AddToList(const ValuePtr& list, std::vector<ValuePtr> items);
  void AddToDict(const ValuePtr& dict, std::vector<ValuePtr> items);
  ValuePtr MemoGet(uint64_t index);
  bool Step();  // one opcode; false at STOP

  std::string path_;
  std::string record_;
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
  size_t opcode_at_ = 0;
  PersistentLoad load_;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, ValuePtr> memo_;
  std::vector<ValuePtr> containers_;
};

}  // namespace das::checkpoint
