// The one async pattern of the addon: decode arguments on the JS thread, run the work on the
// compute thread (runtime/compute_thread.h) without touching JS, settle a Promise back on the JS
// thread through a thread-safe function. Every heavy call uses it.
#pragma once

#include <napi.h>

#include <c10/util/Exception.h>

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/coded_error.h"

namespace das::binding {

// A task whose promise waits on the JS thread. The compute thread runs Execute(); the JS thread
// settles the promise, or, when the environment goes away first, just deletes the task.
class PendingTask {
 public:
  virtual ~PendingTask() = default;
  virtual void Execute() = 0;              // compute thread; never throws
  virtual void Settle(Napi::Env env) = 0;  // JS thread
};

// Per Node environment: brings finished tasks back to its JS thread through a thread-safe
// function, keeps the event loop alive only while tasks are pending (like libuv's own work
// requests), and at the environment's teardown withdraws its queued tasks, waits for its running
// one and frees the rest, so that nothing on the compute thread outlives the environment.
class TaskCompletions {
 public:
  static TaskCompletions& Of(Napi::Env env);

  void Init(Napi::Env env);                      // JS thread, once per environment
  void Start(Napi::Env env, PendingTask* task);  // JS thread: takes ownership and queues the task
  void Shutdown();                               // JS thread, environment teardown

 private:
  void Deliver(PendingTask* task);  // compute thread
  static void OnDelivered(napi_env env, napi_value, void* context, void*);
  void SettleDelivered(Napi::Env env);

  napi_threadsafe_function tsfn_ = nullptr;
  std::unordered_set<PendingTask*> pending_;  // JS thread only
  std::mutex mutex_;                          // guards open_ and delivered_
  bool open_ = false;
  std::vector<PendingTask*> delivered_;
};

template <typename Result>
class AsyncTask final : public PendingTask {
 public:
  using Work = std::function<Result()>;
  using Convert = std::function<Napi::Value(Napi::Env, Result&)>;

  // `keep_alive` holds JS values (typed arrays the work reads as views) until the task is settled.
  // `name` says what the task is where it is started (no runtime use).
  static Napi::Promise Start(Napi::Env env, const char* name, Work work, Convert convert,
                             const std::vector<Napi::Value>& keep_alive = {}) {
    auto* task = new AsyncTask(env, std::move(work), std::move(convert), keep_alive);
    Napi::Promise promise = task->deferred_.Promise();
    TaskCompletions::Of(env).Start(env, task);
    return promise;
  }

  void Settle(Napi::Env env) override {
    if (!error_.empty()) {
      Napi::Error error = Napi::Error::New(env, error_);
      error.Set("code", Napi::String::New(env, code_));
      deferred_.Reject(error.Value());
      return;
    }
    try {
      deferred_.Resolve(convert_(env, *result_));
    } catch (const Napi::Error& error) {
      deferred_.Reject(error.Value());
    } catch (const std::exception& error) {
      deferred_.Reject(Napi::Error::New(env, error.what()).Value());
    }
  }

 private:
  AsyncTask(Napi::Env env, Work work, Convert convert, const std::vector<Napi::Value>& keep_alive)
      : deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)), convert_(std::move(convert)) {
    for (const Napi::Value& value : keep_alive) {
      if (value.IsObject()) keep_alive_.push_back(Napi::Persistent(value));  // primitives need no keeping
    }
  }

  void Execute() override {
    try {
      result_.emplace(work_());
    } catch (const CodedError& error) {
      code_ = error.code();
      error_ = error.what();
    } catch (const c10::Error& error) {
      error_ = error.what_without_backtrace();
    } catch (const std::exception& error) {
      error_ = error.what();
    } catch (...) {
      error_ = "unknown native error (not a std::exception)";
    }
    work_ = nullptr;  // drop captured tensor views of JS memory before the JS side lets go of it
  }

  Napi::Promise::Deferred deferred_;
  std::vector<Napi::Reference<Napi::Value>> keep_alive_;
  Work work_;
  Convert convert_;
  std::optional<Result> result_;
  std::string error_;
  const char* code_ = "DAS_NATIVE";  // or the code of a CodedError (DAS_CHECKPOINT, DAS_FILE, ...)
};

}  // namespace das::binding
