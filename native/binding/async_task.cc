#include "binding/async_task.h"

#include "binding/addon_data.h"
#include "runtime/compute_thread.h"

namespace das::binding {

TaskCompletions& TaskCompletions::Of(Napi::Env env) { return GetAddonData(env).completions; }

void TaskCompletions::Init(Napi::Env env) {
  Napi::String name = Napi::String::New(env, "das.compute");
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_threadsafe_function(env, nullptr, nullptr, name, /*max queue: unlimited*/ 0,
                                                                  /*initial threads*/ 1, nullptr, nullptr, this, OnDelivered,
                                                                  &tsfn_));
  NAPI_THROW_IF_FAILED_VOID(env, napi_unref_threadsafe_function(env, tsfn_));  // while idle, do not keep the process alive
  open_ = true;
  ComputeThread::Get().Attach(this);
}

void TaskCompletions::Start(Napi::Env env, PendingTask* task) {
  if (pending_.empty()) napi_ref_threadsafe_function(env, tsfn_);
  pending_.insert(task);
  ComputeThread::Get().Post(this, [this, task] {
    task->Execute();
    Deliver(task);
  });
}

void TaskCompletions::Deliver(PendingTask* task) {
  std::lock_guard<std::mutex> lock(mutex_);
  // Shutdown withdraws or waits for every job of this environment before it closes, so the
  // channel is open here; the check keeps a mistake from turning into a use after free.
  if (!open_) return;
  delivered_.push_back(task);
  napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking);
}

void TaskCompletions::OnDelivered(napi_env env, napi_value, void* context, void*) {
  if (env == nullptr) return;  // the environment is going away; Shutdown frees the tasks
  static_cast<TaskCompletions*>(context)->SettleDelivered(Napi::Env(env));
}

void TaskCompletions::SettleDelivered(Napi::Env env) {
  std::vector<PendingTask*> done;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done.swap(delivered_);
  }
  for (PendingTask* task : done) {
    pending_.erase(task);
    Napi::HandleScope scope(env);
    try {
      task->Settle(env);
    } catch (...) {
      // Settle turns every failure into a rejection; nothing may escape into Node's callback.
    }
    delete task;
  }
  if (!done.empty() && pending_.empty()) napi_unref_threadsafe_function(env, tsfn_);
}

void TaskCompletions::Shutdown() {
  ComputeThread::Get().Detach(this);  // after this no job of ours is queued or running
  {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = false;
    delivered_.clear();
  }
  napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
  // The promises are never settled (no JS runs any more); their kept values are released here,
  // while the environment can still delete references.
  for (PendingTask* task : pending_) delete task;
  pending_.clear();
}

AddonData& InitAddonData(Napi::Env env) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  data->completions.Init(env);
  napi_add_env_cleanup_hook(
      env,
      [](void* arg) {
        auto* data = static_cast<AddonData*>(arg);
        data->completions.Shutdown();
        data->model_constructor.Reset();
      },
      data);
  return *data;
}

AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace das::binding
