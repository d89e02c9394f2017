// The one async pattern of the addon: decode arguments on the JS thread, run the work on the libuv
// thread pool without touching JS, settle a Promise on the JS thread. Every heavy call uses it.
#pragma once

#include <napi.h>

#include <c10/util/Exception.h>

#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "common/coded_error.h"
#include "runtime/runtime_info.h"

namespace das::binding {

template <typename Result>
class AsyncTask final : public Napi::AsyncWorker {
 public:
  using Work = std::function<Result()>;
  using Convert = std::function<Napi::Value(Napi::Env, Result&)>;

  // `keep_alive` holds JS values (typed arrays the work reads as views) until the task is done.
  static Napi::Promise Start(Napi::Env env, const char* name, Work work, Convert convert,
                             const std::vector<Napi::Value>& keep_alive = {}) {
    auto* task = new AsyncTask(env, name, std::move(work), std::move(convert), keep_alive);
    Napi::Promise promise = task->deferred_.Promise();
    task->Queue();  // the worker deletes itself after OnOK/OnError
    return promise;
  }

 protected:
  void Execute() override {
    try {
      UseGlobalThreadCountOnThisThread();
      result_.emplace(work_());
    } catch (const CodedError& error) {
      code_ = error.code();
      SetError(error.what());
    } catch (const c10::Error& error) {
      SetError(error.what_without_backtrace());
    } catch (const std::exception& error) {
      SetError(error.what());
    } catch (...) {
      SetError("unknown native error (not a std::exception)");
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(convert_(env, *result_));
    } catch (const Napi::Error& error) {
      deferred_.Reject(error.Value());
    } catch (const std::exception& error) {
      deferred_.Reject(Napi::Error::New(env, error.what()).Value());
    }
  }

  void OnError(const Napi::Error& error) override {
    Napi::Object value = error.Value();
    value.Set("code", Napi::String::New(Env(), code_));
    deferred_.Reject(value);
  }

 private:
  AsyncTask(Napi::Env env, const char* name, Work work, Convert convert, const std::vector<Napi::Value>& keep_alive)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        convert_(std::move(convert)) {
    for (const Napi::Value& value : keep_alive) {
      if (value.IsObject()) keep_alive_.push_back(Napi::Persistent(value));  // primitives need no keeping
    }
  }

  Napi::Promise::Deferred deferred_;
  std::vector<Napi::Reference<Napi::Value>> keep_alive_;  // released after work_ is destroyed
  Work work_;
  Convert convert_;
  std::optional<Result> result_;
  const char* code_ = "DAS_NATIVE";  // or the code of a CodedError (DAS_CHECKPOINT, DAS_FILE, ...)
};

}  // namespace das::binding
