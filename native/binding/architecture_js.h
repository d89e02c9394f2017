// The architecture descriptor (models/descriptor.h) as the plain JS object lib/models/architecture.ts
// declares (ArchitectureDescriptor), and the describeArchitecture export.
#pragma once

#include <napi.h>

#include "models/descriptor.h"

namespace das::binding {

Napi::Object DescriptorToJs(Napi::Env env, const models::ArchitectureDescriptor& descriptor);

// [sync] describeArchitecture(arch, config): ArchitectureDescriptor, without building the model.
Napi::Value DescribeArchitecture(const Napi::CallbackInfo& info);

}  // namespace das::binding
