// The NativeModel class of the boundary: a JS handle on one engine::ModelRunner.
#pragma once

#include <napi.h>

namespace das::binding {

// Registers NativeModel and createModel on `exports`.
void InitModelExports(Napi::Env env, Napi::Object exports);

}  // namespace das::binding
