#include "binding/async_task.h"

#include "binding/addon_data.h"

namespace das::binding {

namespace {
// Environments alive in this process; the compute thread stops with the last one.
int live_environments = 0;
}  // namespace

TaskCompletions& TaskCompletions::Of(Napi::Env env) { return GetAddonData(env).completions; }

void TaskCompletions::Init(Napi::Env env) {
  tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "das.compute",
                                        /*max queue size: unlimited*/ 0, /*initial threads*/ 1);
  tsfn_.Unref(env);  // while idle, do not keep the process alive
  ++live_environments;
}

void TaskCompletions::Shutdown() {
  if (--live_environments == 0) ComputeThread::Get().Stop();
  tsfn_.Release();
}

void TaskCompletions::Started(Napi::Env env) {
  if (pending_++ == 0) tsfn_.Ref(env);
}

void TaskCompletions::Deliver(PendingTask* task) {
  const napi_status status = tsfn_.BlockingCall(task, [](Napi::Env env, Napi::Function, PendingTask* done) {
    done->Settle(env);
    TaskCompletions::Of(env).Finished(env);
    delete done;
  });
  if (status != napi_ok) delete task;  // the environment is going away; nobody awaits the promise
}

void TaskCompletions::Finished(Napi::Env env) {
  if (--pending_ == 0) tsfn_.Unref(env);
}

AddonData& InitAddonData(Napi::Env env) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  data->completions.Init(env);
  napi_add_env_cleanup_hook(
      env, [](void* arg) { static_cast<AddonData*>(arg)->completions.Shutdown(); }, data);
  return *data;
}

AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace das::binding
