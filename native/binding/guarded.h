// Every export of the boundary runs its body through Guarded: libtorch (c10::Error) and standard
// exceptions become JS errors with their message, instead of escaping into node-addon-api (which
// only understands Napi::Error and would terminate the process).
#pragma once

#include <napi.h>

#include <c10/util/Exception.h>

#include <exception>

namespace das::binding {

template <typename Body>
Napi::Value Guarded(const Napi::CallbackInfo& info, Body body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& error) {
    throw Napi::Error::New(info.Env(), error.what_without_backtrace());
  } catch (const std::exception& error) {
    throw Napi::Error::New(info.Env(), error.what());
  }
}

}  // namespace das::binding
