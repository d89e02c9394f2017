// What the addon keeps per Node environment (main thread or worker thread): one N-API instance
// data slot, shared by everything in native/binding.
#pragma once

#include <napi.h>

#include "binding/async_task.h"

namespace das::binding {

struct AddonData {
  TaskCompletions completions;
  Napi::FunctionReference model_constructor;
  Napi::FunctionReference process_group_constructor;
};

// Creates the environment's data; called once from the module's Init.
AddonData& InitAddonData(Napi::Env env);
AddonData& GetAddonData(Napi::Env env);

}  // namespace das::binding
