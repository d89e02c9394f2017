// The weights-only allowlist: the only Python globals a checkpoint pickle may name, and what each
// one means here. Nothing is ever executed: a global becomes a marker value, and REDUCE / NEWOBJ /
// BUILD on it build plain data (dicts, lists, tensor references) in C++. Any global not listed is
// refused before the pickle goes on.
#pragma once

#include <optional>
#include <string>

#include "checkpoint/pickle_value.h"

namespace das::checkpoint {

// Resolves "module" + "name" to a global marker value, or nullopt when it is not allowed.
std::optional<Value> ResolveGlobal(const std::string& module, const std::string& name);

// REDUCE: `callable(*args)`. Throws std::runtime_error with what is wrong (the caller adds where).
ValuePtr CallGlobal(const Value& callable, const Value& args);
// NEWOBJ: `cls.__new__(cls, *args)`.
ValuePtr NewObject(const Value& cls, const Value& args);
// BUILD: `object.__setstate__(state)`, for the objects above that have state.
void ApplyState(Value& object, const Value& state);

// One line for error messages: what the allowlist admits.
const char* AllowlistSummary();

}  // namespace das::checkpoint
