// createModel's config objects (plain JS objects, checked in TypeScript first) decoded into the
// models' C++ config structs, one decoder per architecture, and the method object into a
// methods::MethodSpec. Runs on the JS thread.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <string>

#include "methods/method.h"
#include "models/task_model.h"

namespace das::binding {

struct DecodedArchitecture {
  std::function<std::shared_ptr<models::TaskModel>(const models::MethodHooks&)> make;
  std::function<models::ArchitectureDescriptor()> describe;
};

// Throws a TypeError naming the architecture or the config field that is wrong.
DecodedArchitecture DecodeModelConfig(const std::string& architecture, const Napi::Object& config);

// { name, ...options } (lib/methods/ resolves every default); undefined = DAS at the configured sizes.
methods::MethodSpec DecodeMethod(const Napi::Value& value);

double NumberField(const Napi::Object& object, const char* name, const std::string& what);
int64_t IntField(const Napi::Object& object, const char* name, const std::string& what);

}  // namespace das::binding
