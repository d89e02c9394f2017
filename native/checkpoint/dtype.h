// The element types a checkpoint can hold, independent of libtorch so that the format readers
// (safetensors, zip, pickle) compile without torch headers. checkpoint.cc maps them to c10 types.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace das::checkpoint {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

size_t ElementSize(DType dtype);
// The safetensors spelling ("F32", "BF16", "BOOL", ...).
const char* SafetensorsName(DType dtype);
std::optional<DType> FromSafetensorsName(const std::string& name);
// torch.save's storage classes ("FloatStorage", "BFloat16Storage", ...).
std::optional<DType> FromStorageClass(const std::string& name);

}  // namespace das::checkpoint
