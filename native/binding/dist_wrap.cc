// NativeProcessGroup: every method that talks to the other ranks is [async] and runs on the compute
// thread, in line with the model's steps, so collectives happen in the order TypeScript issued
// them. lib/native/binding.ts declares the same surface; keep them in step.
#include "binding/dist_wrap.h"

#include "binding/addon_data.h"
#include "binding/async_task.h"
#include "binding/guarded.h"
#include "binding/host_tensor.h"
#include "binding/model_configs.h"
#include "dist/backends.h"

namespace das::binding {

namespace {

using GroupPtr = std::shared_ptr<dist::ProcessGroup>;

std::string StringField(const Napi::Object& object, const char* name, const std::string& what) {
  const Napi::Value value = object.Get(name);
  if (!value.IsString()) throw Napi::TypeError::New(object.Env(), "Expected a string for " + what + "." + name);
  return value.As<Napi::String>().Utf8Value();
}

c10d::ReduceOp ReduceOpArg(const Napi::Value& value) {
  const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (name == "sum") return c10d::ReduceOp::SUM;
  if (name == "max") return c10d::ReduceOp::MAX;
  if (name == "min") return c10d::ReduceOp::MIN;
  throw Napi::TypeError::New(value.Env(), "Expected 'sum', 'max' or 'min' for the reduction but received '" + name + "'");
}

Napi::Value Undefined(Napi::Env env, bool&) { return env.Undefined(); }

class NativeProcessGroup : public Napi::ObjectWrap<NativeProcessGroup> {
  template <Napi::Value (NativeProcessGroup::*Method)(const Napi::CallbackInfo&)>
  Napi::Value Call(const Napi::CallbackInfo& info) {
    return Guarded(info, [&] { return (this->*Method)(info); });
  }

 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeProcessGroup",
                       {
                           InstanceMethod<&NativeProcessGroup::Call<&NativeProcessGroup::Exchange>>("exchange"),
                           InstanceMethod<&NativeProcessGroup::Call<&NativeProcessGroup::Connect>>("connect"),
                           InstanceMethod<&NativeProcessGroup::Call<&NativeProcessGroup::AllReduce>>("allReduce"),
                           InstanceMethod<&NativeProcessGroup::Call<&NativeProcessGroup::AllGather>>("allGather"),
                           InstanceMethod<&NativeProcessGroup::Call<&NativeProcessGroup::Barrier>>("barrier"),
                           InstanceMethod<&NativeProcessGroup::Call<&NativeProcessGroup::Abort>>("abort"),
                           InstanceMethod<&NativeProcessGroup::Call<&NativeProcessGroup::Close>>("close"),
                           InstanceMethod<&NativeProcessGroup::Call<&NativeProcessGroup::Stats>>("stats"),
                       });
  }

  explicit NativeProcessGroup(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeProcessGroup>(info) {
    if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "NativeProcessGroup is created by createProcessGroup(), not with new");
    group_ = *info[0].As<Napi::External<GroupPtr>>().Data();
  }

  GroupPtr group() const { return group_; }

 private:
  template <typename Result, typename Work, typename Convert>
  Napi::Value Queue(const Napi::CallbackInfo& info, const char* name, Work work, Convert convert) {
    GroupPtr group = group_;
    return AsyncTask<Result>::Start(
        info.Env(), name, [group, work]() { return work(*group); }, convert, {info.This(), info[0]});
  }

  template <typename Work>
  Napi::Value QueueVoid(const Napi::CallbackInfo& info, const char* name, Work work) {
    return Queue<bool>(
        info, name,
        [work](dist::ProcessGroup& g) {
          work(g);
          return true;
        },
        Undefined);
  }

  // [async] exchange(key: string, value: string): Promise<string[]>  (every rank's value, in rank order)
  Napi::Value Exchange(const Napi::CallbackInfo& info) {
    if (!info[0].IsString() || !info[1].IsString()) throw Napi::TypeError::New(info.Env(), "Expected a key and a value string");
    const std::string key = info[0].As<Napi::String>().Utf8Value();
    const std::string value = info[1].As<Napi::String>().Utf8Value();
    using Values = std::vector<std::string>;
    return Queue<Values>(
        info, "das.exchange", [key, value](dist::ProcessGroup& g) { return g.Exchange(key, value); },
        [](Napi::Env env, Values& values) -> Napi::Value {
          Napi::Array array = Napi::Array::New(env, values.size());
          for (size_t i = 0; i < values.size(); ++i) array.Set(static_cast<uint32_t>(i), values[i]);
          return array;
        });
  }

  // [async] connect(): Promise<void>  (the backend's connections to every other rank)
  Napi::Value Connect(const Napi::CallbackInfo& info) {
    return QueueVoid(info, "das.connect", [](dist::ProcessGroup& g) { g.Connect(); });
  }

  // [async] allReduce(tensor: HostTensor, op: 'sum' | 'max' | 'min'): Promise<HostTensor>
  Napi::Value AllReduce(const Napi::CallbackInfo& info) {
    const at::Tensor view = ViewHostTensor(info[0], "tensor");
    const c10d::ReduceOp op = ReduceOpArg(info[1]);
    return Queue<at::Tensor>(
        info, "das.allReduce",
        [view, op](dist::ProcessGroup& g) {
          std::vector<at::Tensor> tensors{view.to(g.device(), /*non_blocking=*/false, /*copy=*/true)};
          g.AllReduce(tensors, op);
          return tensors[0].to(c10::kCPU).contiguous();
        },
        [](Napi::Env env, at::Tensor& tensor) -> Napi::Value { return NewHostTensor(env, tensor); });
  }

  // [async] allGather(tensor: HostTensor): Promise<HostTensor>  ([world, ...shape], in rank order)
  Napi::Value AllGather(const Napi::CallbackInfo& info) {
    const at::Tensor view = ViewHostTensor(info[0], "tensor");
    return Queue<at::Tensor>(
        info, "das.allGather",
        [view](dist::ProcessGroup& g) { return g.AllGather(view.to(g.device(), false, true)).to(c10::kCPU).contiguous(); },
        [](Napi::Env env, at::Tensor& tensor) -> Napi::Value { return NewHostTensor(env, tensor); });
  }

  // [async] barrier(): Promise<void>
  Napi::Value Barrier(const Napi::CallbackInfo& info) {
    return QueueVoid(info, "das.barrier", [](dist::ProcessGroup& g) { g.Barrier(); });
  }

  // [async] abort(message: string): Promise<void>  (tells the other ranks why this one stops)
  Napi::Value Abort(const Napi::CallbackInfo& info) {
    const std::string message = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "stopped";
    return QueueVoid(info, "das.abort", [message](dist::ProcessGroup& g) { g.Abort(message); });
  }

  // [async] close(): Promise<void>  (after a barrier: the orderly end of the job)
  Napi::Value Close(const Napi::CallbackInfo& info) {
    return QueueVoid(info, "das.close", [](dist::ProcessGroup& g) { g.Close(); });
  }

  // [sync] stats(): { calls, bytes, seconds }  (time spent in collectives so far)
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    const dist::CollectiveStats stats = group_->Stats();
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("calls", static_cast<double>(stats.calls));
    out.Set("bytes", static_cast<double>(stats.bytes));
    out.Set("seconds", stats.seconds);
    return out;
  }

  GroupPtr group_;
};

// A week: longer than any collective may sensibly wait, and within libtorch's timeout type.
constexpr int64_t kMaxTimeoutMs = int64_t{7} * 24 * 3600 * 1000;

// [async] createProcessGroup({ backend, rank, worldSize, masterAddr, masterPort, hostStore, storePrefix, timeoutMs, cudaDevice? }): Promise<NativeProcessGroup>
// Opens the rendezvous store (rank 0 hosts it) and claims the rank; connect() follows.
Napi::Value CreateProcessGroup(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "Expected an options object for createProcessGroup");
    const auto object = info[0].As<Napi::Object>();
    dist::GroupOptions options;
    options.backend = StringField(object, "backend", "process group");
    options.rank = static_cast<int>(IntField(object, "rank", "process group"));
    options.world_size = static_cast<int>(IntField(object, "worldSize", "process group"));
    options.master_addr = StringField(object, "masterAddr", "process group");
    options.master_port = static_cast<int>(IntField(object, "masterPort", "process group", 65535));
    const Napi::Value host_store = object.Get("hostStore");
    if (!host_store.IsBoolean()) throw Napi::TypeError::New(env, "Expected a boolean for process group.hostStore");
    options.host_store = host_store.As<Napi::Boolean>().Value();
    options.store_prefix = StringField(object, "storePrefix", "process group");
    options.timeout = std::chrono::milliseconds(IntField(object, "timeoutMs", "process group", kMaxTimeoutMs));
    // absent for Gloo; NCCL binds the rank's GPU
    const bool has_cuda_device = !object.Get("cudaDevice").IsUndefined();
    options.cuda_device = has_cuda_device ? static_cast<int>(IntField(object, "cudaDevice", "process group", 1023)) : -1;
    AddonData* data = &GetAddonData(env);
    return AsyncTask<GroupPtr>::Start(
        env, "das.createProcessGroup", [options] { return std::make_shared<dist::ProcessGroup>(options); },
        [data](Napi::Env env, GroupPtr& group) -> Napi::Value {
          return data->process_group_constructor.New({Napi::External<GroupPtr>::New(env, &group)});
        });
  });
}

// [sync] distributedBackends(): string[]  (the backends this build has)
Napi::Value DistributedBackends(const Napi::CallbackInfo& info) {
  const auto names = dist::AvailableBackends();
  Napi::Array array = Napi::Array::New(info.Env(), names.size());
  for (size_t i = 0; i < names.size(); ++i) array.Set(static_cast<uint32_t>(i), names[i]);
  return array;
}

}  // namespace

std::shared_ptr<dist::ProcessGroup> ProcessGroupArg(const Napi::Value& value, const char* what) {
  const Napi::FunctionReference& constructor = GetAddonData(value.Env()).process_group_constructor;
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(constructor.Value())) {
    throw Napi::TypeError::New(value.Env(), std::string("Expected a NativeProcessGroup for ") + what);
  }
  return NativeProcessGroup::Unwrap(value.As<Napi::Object>())->group();
}

void InitDistExports(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = NativeProcessGroup::Define(env);
  GetAddonData(env).process_group_constructor = Napi::Persistent(constructor);
  exports.Set("NativeProcessGroup", constructor);
  exports.Set("createProcessGroup", Napi::Function::New(env, CreateProcessGroup, "createProcessGroup"));
  exports.Set("distributedBackends", Napi::Function::New(env, DistributedBackends, "distributedBackends"));
}

}  // namespace das::binding
