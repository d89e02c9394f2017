// Host tensors across the boundary: JS `{ dtype, shape, data }` objects (data a TypedArray) to
// libtorch tensors and back.
#pragma once

#include <napi.h>

#include <ATen/core/Tensor.h>

#include <string>

namespace das::binding {

c10::ScalarType ParseDType(Napi::Env env, const std::string& name, const std::string& what);
std::string DTypeName(c10::ScalarType dtype);

// A tensor that *aliases* the TypedArray's memory (no copy). The caller keeps the JS object alive
// for as long as the tensor is used (AsyncTask's keep_alive) and never stores the view: anything
// kept beyond the call must be cloned. Throws a Napi::TypeError naming `what` on a bad object.
at::Tensor ViewHostTensor(const Napi::Value& value, const std::string& what);

// Copies a host tensor into a new JS `{ dtype, shape, data }` object. Runs on the JS thread;
// the work that made `tensor` must already have moved it to the CPU.
Napi::Object NewHostTensor(Napi::Env env, const at::Tensor& tensor);

}  // namespace das::binding
