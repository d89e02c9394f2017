// The NativeProcessGroup class of the boundary: a JS handle on one rank's dist::ProcessGroup.
#pragma once

#include <napi.h>

#include <memory>

#include "dist/process_group.h"

namespace das::binding {

// Registers NativeProcessGroup, createProcessGroup and distributedBackends on `exports`.
void InitDistExports(Napi::Env env, Napi::Object exports);

// The group behind a NativeProcessGroup; throws a TypeError naming `what` for anything else.
std::shared_ptr<dist::ProcessGroup> ProcessGroupArg(const Napi::Value& value, const char* what);

}  // namespace das::binding
