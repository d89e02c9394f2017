#include "binding/host_tensor.h"

#include <ATen/ATen.h>

#include <array>
#include <cstring>

namespace das::binding {

namespace {

struct DTypeEntry {
  const char* name;
  c10::ScalarType dtype;
  napi_typedarray_type array_type;
  const char* array_name;
};

// float16 and bfloat16 travel as their raw 16-bit patterns in a Uint16Array; bool as 0/1 bytes.
constexpr std::array<DTypeEntry, 10> kDTypes{{
    {"float32", c10::kFloat, napi_float32_array, "Float32Array"},
    {"float64", c10::kDouble, napi_float64_array, "Float64Array"},
    {"float16", c10::kHalf, napi_uint16_array, "Uint16Array"},
    {"bfloat16", c10::kBFloat16, napi_uint16_array, "Uint16Array"},
    {"int8", c10::kChar, napi_int8_array, "Int8Array"},
    {"uint8", c10::kByte, napi_uint8_array, "Uint8Array"},
    {"int16", c10::kShort, napi_int16_array, "Int16Array"},
    {"int32", c10::kInt, napi_int32_array, "Int32Array"},
    {"int64", c10::kLong, napi_bigint64_array, "BigInt64Array"},
    {"bool", c10::kBool, napi_uint8_array, "Uint8Array"},
}};

const DTypeEntry* FindByName(const std::string& name) {
  for (const auto& entry : kDTypes) {
    if (name == entry.name) return &entry;
  }
  return nullptr;
}

const DTypeEntry& FindByDType(c10::ScalarType dtype) {
  for (const auto& entry : kDTypes) {
    if (entry.dtype == dtype) return entry;
  }
  throw std::invalid_argument(std::string("Tensor dtype ") + c10::toString(dtype) + " cannot cross the boundary");
}

const char* ArrayTypeName(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "an unknown TypedArray";
  }
}

std::string DescribeValue(const Napi::Value& value) {
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (value.IsTypedArray()) return ArrayTypeName(value.As<Napi::TypedArray>().TypedArrayType());
  if (value.IsArray()) return "an Array";
  if (value.IsString()) return "a string";
  if (value.IsNumber()) return "a number";
  if (value.IsObject()) return "an object";
  return "a value of another type";
}

std::vector<int64_t> ParseShape(const Napi::Value& value, const std::string& what) {
  if (!value.IsArray()) {
    throw Napi::TypeError::New(value.Env(), "Expected an array of integers for " + what + ".shape but received " + DescribeValue(value));
  }
  const auto array = value.As<Napi::Array>();
  std::vector<int64_t> shape;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    const Napi::Value dim = array.Get(i);
    const double size = dim.IsNumber() ? dim.As<Napi::Number>().DoubleValue() : -1.0;
    if (size < 0 || size != static_cast<double>(static_cast<int64_t>(size)) || size > 9007199254740991.0) {
      throw Napi::TypeError::New(value.Env(), "Expected a non-negative integer for " + what + ".shape[" + std::to_string(i) +
                                                  "] but received " + dim.ToString().Utf8Value());
    }
    shape.push_back(static_cast<int64_t>(size));
  }
  return shape;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

}  // namespace

c10::ScalarType ParseDType(Napi::Env env, const std::string& name, const std::string& what) {
  if (const DTypeEntry* entry = FindByName(name)) return entry->dtype;
  std::string known;
  for (const auto& entry : kDTypes) known += std::string(known.empty() ? "" : ", ") + entry.name;
  throw Napi::TypeError::New(env, "Expected one of " + known + " for " + what + " but received '" + name + "'");
}

std::string DTypeName(c10::ScalarType dtype) { return FindByDType(dtype).name; }

at::Tensor ViewHostTensor(const Napi::Value& value, const std::string& what) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || value.IsArray() || value.IsTypedArray()) {
    throw Napi::TypeError::New(env, "Expected a { dtype, shape, data } tensor object for " + what + " but received " + DescribeValue(value));
  }
  const auto object = value.As<Napi::Object>();
  const Napi::Value dtype_value = object.Get("dtype");
  if (!dtype_value.IsString()) {
    throw Napi::TypeError::New(env, "Expected a dtype string for " + what + ".dtype but received " + DescribeValue(dtype_value));
  }
  const c10::ScalarType dtype = ParseDType(env, dtype_value.As<Napi::String>().Utf8Value(), what + ".dtype");
  const DTypeEntry& entry = FindByDType(dtype);
  const std::vector<int64_t> shape = ParseShape(object.Get("shape"), what);

  const Napi::Value data_value = object.Get("data");
  if (!data_value.IsTypedArray() || data_value.As<Napi::TypedArray>().TypedArrayType() != entry.array_type) {
    throw Napi::TypeError::New(env, std::string("Expected ") + entry.array_name + " for " + what + ".data (dtype " + entry.name +
                                        ") but received " + DescribeValue(data_value));
  }
  const auto data = data_value.As<Napi::TypedArray>();
  int64_t numel = 1;
  for (int64_t size : shape) numel *= size;
  if (static_cast<int64_t>(data.ElementLength()) != numel) {
    throw Napi::TypeError::New(env, "Expected " + std::to_string(numel) + " elements in " + what + ".data for shape " + ShapeText(shape) +
                                        " but received " + std::to_string(data.ElementLength()));
  }
  auto* bytes = static_cast<uint8_t*>(data.ArrayBuffer().Data()) + data.ByteOffset();
  if (dtype == c10::kBool) {
    for (int64_t i = 0; i < numel; ++i) {
      if (bytes[i] > 1) {
        throw Napi::TypeError::New(env, "Expected only 0 or 1 in " + what + ".data (dtype bool) but element " + std::to_string(i) +
                                            " is " + std::to_string(bytes[i]));
      }
    }
  }
  return at::from_blob(bytes, shape, at::TensorOptions().dtype(dtype));
}

Napi::Object NewHostTensor(Napi::Env env, const at::Tensor& tensor) {
  if (!tensor.device().is_cpu() || !tensor.is_contiguous()) {
    throw Napi::Error::New(env, "internal: NewHostTensor needs a contiguous CPU tensor");
  }
  const DTypeEntry& entry = FindByDType(tensor.scalar_type());
  const size_t bytes = tensor.numel() * tensor.element_size();
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, bytes);
  if (bytes > 0) std::memcpy(buffer.Data(), tensor.data_ptr(), bytes);
  napi_value array = nullptr;
  NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, entry.array_type, tensor.numel(), buffer, 0, &array), Napi::Object());
  Napi::Array shape = Napi::Array::New(env, tensor.dim());
  for (int64_t i = 0; i < tensor.dim(); ++i) shape.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(tensor.size(i))));
  Napi::Object result = Napi::Object::New(env);
  result.Set("dtype", entry.name);
  result.Set("shape", shape);
  result.Set("data", Napi::Value(env, array));
  return result;
}

}  // namespace das::binding
