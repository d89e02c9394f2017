#include "checkpoint/dtype.h"

#include <array>

namespace das::checkpoint {

namespace {

struct DTypeInfo {
  DType dtype;
  size_t size;
  const char* safetensors;
  const char* storage_class;
};

constexpr std::array<DTypeInfo, 10> kTable{{
    {DType::kF64, 8, "F64", "DoubleStorage"},
    {DType::kF32, 4, "F32", "FloatStorage"},
    {DType::kF16, 2, "F16", "HalfStorage"},
    {DType::kBF16, 2, "BF16", "BFloat16Storage"},
    {DType::kI64, 8, "I64", "LongStorage"},
    {DType::kI32, 4, "I32", "IntStorage"},
    {DType::kI16, 2, "I16", "ShortStorage"},
    {DType::kI8, 1, "I8", "CharStorage"},
    {DType::kU8, 1, "U8", "ByteStorage"},
    {DType::kBool, 1, "BOOL", "BoolStorage"},
}};

const DTypeInfo& Info(DType dtype) {
  for (const auto& info : kTable) {
    if (info.dtype == dtype) return info;
  }
  return kTable[0];  // unreachable: the table covers the enum
}

}  // namespace

size_t ElementSize(DType dtype) { return Info(dtype).size; }

const char* SafetensorsName(DType dtype) { return Info(dtype).safetensors; }

std::optional<DType> FromSafetensorsName(const std::string& name) {
  for (const auto& info : kTable) {
    if (name == info.safetensors) return info.dtype;
  }
  return std::nullopt;
}

std::optional<DType> FromStorageClass(const std::string& name) {
  for (const auto& info : kTable) {
    if (name == info.storage_class) return info.dtype;
  }
  return std::nullopt;
}

}  // namespace das::checkpoint
