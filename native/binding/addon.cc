// The N-API boundary: the addon's whole export list. Each export decodes and checks its arguments
// on the JS thread, then either answers at once ([sync], cheap calls only) or queues an AsyncTask
// and returns a Promise ([async], everything that computes). lib/native/binding.ts declares the
// same list for TypeScript; keep the two in step.
#include <napi.h>

#include <c10/util/Exception.h>

#include <optional>
#include <string>
#include <vector>

#include "binding/architecture_js.h"
#include "binding/addon_data.h"
#include "binding/async_task.h"
#include "binding/dist_wrap.h"
#include "binding/guarded.h"
#include "binding/host_tensor.h"
#include "binding/model_wrap.h"
#include "checkpoint/checkpoint.h"
#include "runtime/compute_thread.h"
#include "models/blocks/attention.h"
#include "runtime/device.h"
#include "runtime/device_memory.h"
#include "runtime/diagnostics.h"
#include "runtime/runtime_info.h"

namespace das::binding {

namespace {

std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsString()) throw Napi::TypeError::New(info.Env(), std::string("Expected a string for ") + name);
  return info[index].As<Napi::String>().Utf8Value();
}

int64_t IntegerField(const Napi::Object& object, const char* name, int64_t min) {
  const Napi::Value value = object.Get(name);
  const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1e300;
  if (number != static_cast<double>(static_cast<int64_t>(number)) || number < static_cast<double>(min)) {
    throw Napi::TypeError::New(object.Env(), std::string("Expected an integer >= ") + std::to_string(min) + " for " + name +
                                                 " but received " + value.ToString().Utf8Value());
  }
  return static_cast<int64_t>(number);
}

c10::Device DeviceArg(const Napi::CallbackInfo& info, size_t index) {
  const std::string spec = StringArg(info, index, "device");
  try {
    return ParseDevice(spec);
  } catch (const std::exception& error) {
    throw Napi::Error::New(info.Env(), error.what());
  }
}

Napi::Value ResolveHostTensor(Napi::Env env, at::Tensor& tensor) { return NewHostTensor(env, tensor); }

// [sync] runtimeInfo(): RuntimeInfo
Napi::Value RuntimeInfoExport(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const RuntimeInfo runtime = CollectRuntimeInfo();
    Napi::Object torch = Napi::Object::New(env);
    torch.Set("headerVersion", runtime.torch_header_version);
    torch.Set("runtimeVersion", runtime.torch_runtime_version);
    torch.Set("library", runtime.torch_library);
    torch.Set("foundVia", runtime.torch_found_via);
    torch.Set("cmakeDir", runtime.torch_cmake_dir);
    torch.Set("mkldnn", runtime.mkldnn);
    torch.Set("parallelBackend", runtime.parallel_backend);
    torch.Set("fusedAttention", blocks::FusedAttentionInUse());
    Napi::Object cuda = Napi::Object::New(env);
    cuda.Set("built", runtime.cuda_built);
    cuda.Set("library", runtime.cuda_library);
    cuda.Set("available", runtime.cuda_available);
    cuda.Set("deviceCount", runtime.cuda_device_count);
    const CudaLibraries& libraries = runtime.cuda_libraries;
    cuda.Set("runtimeVersion", libraries.runtime);
    cuda.Set("cudnnVersion", libraries.cudnn);
    cuda.Set("ncclVersion", libraries.nccl);
    cuda.Set("deviceDetails", libraries.device_details);
    Napi::Array devices = Napi::Array::New(env, libraries.devices.size());
    for (size_t i = 0; i < libraries.devices.size(); ++i) {
      const CudaDeviceInfo& device = libraries.devices[i];
      Napi::Object item = Napi::Object::New(env);
      item.Set("name", device.name);
      item.Set("capability", std::to_string(device.major) + "." + std::to_string(device.minor));
      item.Set("memoryBytes", static_cast<double>(device.memory_bytes));
      item.Set("fastBf16", device.fast_bf16);
      devices.Set(static_cast<uint32_t>(i), item);
    }
    cuda.Set("devices", devices);
    Napi::Object blas = Napi::Object::New(env);
    blas.Set("vendor", runtime.blas.vendor);
    blas.Set("library", runtime.blas.library);
    blas.Set("detail", runtime.blas.detail);
    blas.Set("threading", runtime.blas.threading);
    blas.Set("threads", runtime.blas.threads);
    blas.Set("builtWith", runtime.build_blas);
    Napi::Object threads = Napi::Object::New(env);
    threads.Set("intraOp", runtime.intra_op_threads);
    threads.Set("interOp", runtime.inter_op_threads);
    Napi::Object build = Napi::Object::New(env);
    build.Set("system", runtime.build_system);
    build.Set("compiler", runtime.compiler);
    build.Set("type", runtime.build_type);
    build.Set("cxx11Abi", runtime.cxx11_abi);
    build.Set("napiVersion", runtime.napi_version);
    Napi::Object result = Napi::Object::New(env);
    result.Set("torch", torch);
    result.Set("cuda", cuda);
    result.Set("blas", blas);
    result.Set("threads", threads);
    result.Set("build", build);
    return result;
  });
}

// [sync] setNumThreads(threads: number): void
Napi::Value SetNumThreadsExport(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "Expected a number for threads");
    SetNumThreads(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  });
}

// [sync] computeThreadStats(): { jobsRun, jobsDropped, environments, threadsStarted }
Napi::Value ComputeThreadStatsExport(const Napi::CallbackInfo& info) {
  const ComputeThread::Counts counts = ComputeThread::Get().counts();
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("jobsRun", static_cast<double>(counts.jobs_run));
  result.Set("jobsDropped", static_cast<double>(counts.jobs_dropped));
  result.Set("environments", counts.owners);
  result.Set("threadsStarted", static_cast<double>(counts.threads_started));
  return result;
}

// [sync] deviceMemory(device: string): { free, total } | null   (null: the CPU, or unknown)
Napi::Value DeviceMemoryExport(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    const std::optional<DeviceMemory> memory = QueryDeviceMemory(DeviceArg(info, 0));
    if (!memory) return info.Env().Null();
    Napi::Object result = Napi::Object::New(info.Env());
    result.Set("free", static_cast<double>(memory->free));
    result.Set("total", static_cast<double>(memory->total));
    return result;
  });
}

// [sync] setFusedAttention(enabled: boolean): boolean  (whether scaled_dot_product_attention is now used)
Napi::Value SetFusedAttentionExport(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsBoolean()) throw Napi::TypeError::New(info.Env(), "Expected a boolean for enabled");
    return Napi::Boolean::New(info.Env(), blocks::SetFusedAttention(info[0].As<Napi::Boolean>().Value()));
  });
}

// [sync] normalizeDevice(spec: string): string   ("cuda" -> "cuda:0"; throws if unusable here)
Napi::Value NormalizeDeviceExport(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value { return Napi::String::New(info.Env(), DeviceName(DeviceArg(info, 0))); });
}

// [async] echoTensor(tensor: HostTensor, device: string, dtype: string | null): Promise<HostTensor>
Napi::Value EchoTensorExport(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    at::Tensor input = ViewHostTensor(info[0], "tensor");
    const c10::Device device = DeviceArg(info, 1);
    std::optional<c10::ScalarType> dtype;
    if (!info[2].IsNull() && !info[2].IsUndefined()) dtype = ParseDType(info.Env(), StringArg(info, 2, "dtype"), "dtype");
    return AsyncTask<at::Tensor>::Start(
        info.Env(), "das.echoTensor", [input, device, dtype] { return EchoThroughDevice(input, device, dtype); },
        ResolveHostTensor, {info[0]});
  });
}

// [async] matmul(a: HostTensor, b: HostTensor, device: string): Promise<HostTensor>
Napi::Value MatmulExport(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    at::Tensor a = ViewHostTensor(info[0], "a");
    at::Tensor b = ViewHostTensor(info[1], "b");
    const c10::Device device = DeviceArg(info, 2);
    return AsyncTask<at::Tensor>::Start(
        info.Env(), "das.matmul", [a, b, device] { return MatmulOnDevice(a, b, device); }, ResolveHostTensor,
        {info[0], info[1]});
  });
}

// [async] timeGemm({ n, iterations, warmup, dtype, device }): Promise<{ n, seconds: number[] }>
Napi::Value TimeGemmExport(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "Expected an options object for timeGemm");
    const auto options = info[0].As<Napi::Object>();
    const int64_t n = IntegerField(options, "n", 1);
    const int iterations = static_cast<int>(IntegerField(options, "iterations", 1));
    const int warmup = static_cast<int>(IntegerField(options, "warmup", 0));
    const Napi::Value dtype_value = options.Get("dtype");
    if (!dtype_value.IsString()) throw Napi::TypeError::New(env, "Expected a dtype string for timeGemm dtype");
    const c10::ScalarType dtype = ParseDType(env, dtype_value.As<Napi::String>().Utf8Value(), "dtype");
    const Napi::Value device_value = options.Get("device");
    if (!device_value.IsString()) throw Napi::TypeError::New(env, "Expected a device string for timeGemm device");
    const c10::Device device = ParseDevice(device_value.As<Napi::String>().Utf8Value());
    return AsyncTask<GemmTiming>::Start(
        env, "das.timeGemm", [=] { return TimeGemm(n, iterations, warmup, dtype, device); },
        [](Napi::Env env, GemmTiming& timing) -> Napi::Value {
          Napi::Array seconds = Napi::Array::New(env, timing.seconds.size());
          for (size_t i = 0; i < timing.seconds.size(); ++i) seconds.Set(static_cast<uint32_t>(i), timing.seconds[i]);
          Napi::Object result = Napi::Object::New(env);
          result.Set("n", Napi::Number::New(env, static_cast<double>(timing.n)));
          result.Set("seconds", seconds);
          return result;
        });
  });
}

// Own enumerable string keys of a plain object (not inherited ones, not symbols).
std::vector<std::string> OwnKeys(const Napi::Object& object) {
  napi_value keys = nullptr;
  NAPI_THROW_IF_FAILED(object.Env(),
                       napi_get_all_property_names(object.Env(), object, napi_key_own_only,
                                                   static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols),
                                                   napi_key_numbers_to_strings, &keys),
                       {});
  const auto array = Napi::Array(object.Env(), keys);
  std::vector<std::string> names;
  for (uint32_t i = 0; i < array.Length(); ++i) names.push_back(array.Get(i).As<Napi::String>().Utf8Value());
  return names;
}

// Defines (never assigns) a property, so a key such as "__proto__" from a file stays plain data.
void DefineValue(Napi::Object& object, const std::string& key, Napi::Value value) {
  object.DefineProperty(Napi::PropertyDescriptor::Value(key, value, napi_default_jsproperty));
}

// [async] readCheckpoint(path: string, names: string[] | null):
//   Promise<{ format, names: string[], tensors: Record<string, HostTensor>, metadata: Record<string, string> }>
Napi::Value ReadCheckpointExport(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    const std::string path = StringArg(info, 0, "path");
    std::optional<std::vector<std::string>> names;
    if (!info[1].IsNull() && !info[1].IsUndefined()) {
      if (!info[1].IsArray()) throw Napi::TypeError::New(info.Env(), "Expected an array of strings or null for names");
      const auto array = info[1].As<Napi::Array>();
      names.emplace();
      for (uint32_t i = 0; i < array.Length(); ++i) {
        if (!array.Get(i).IsString()) throw Napi::TypeError::New(info.Env(), "Expected a string for names[" + std::to_string(i) + "]");
        names->push_back(array.Get(i).As<Napi::String>().Utf8Value());
      }
    }
    return AsyncTask<checkpoint::Checkpoint>::Start(
        info.Env(), "das.readCheckpoint",
        [path, names] {
          checkpoint::Checkpoint result = checkpoint::ReadCheckpoint(path, names);
          for (auto& entry : result.tensors) entry.second = entry.second.contiguous();  // views become compact copies here
          return result;
        },
        [](Napi::Env env, checkpoint::Checkpoint& result) -> Napi::Value {
          Napi::Array names = Napi::Array::New(env, result.tensors.size());
          Napi::Object tensors = Napi::Object::New(env);
          for (size_t i = 0; i < result.tensors.size(); ++i) {
            names.Set(static_cast<uint32_t>(i), result.tensors[i].first);
            DefineValue(tensors, result.tensors[i].first, NewHostTensor(env, result.tensors[i].second));
            result.tensors[i].second = at::Tensor();  // frees the native copy as soon as JS has its own
          }
          Napi::Object metadata = Napi::Object::New(env);
          for (const auto& [key, value] : result.metadata) DefineValue(metadata, key, Napi::String::New(env, value));
          Napi::Object object = Napi::Object::New(env);
          object.Set("format", checkpoint::FormatName(result.format));
          object.Set("names", names);
          object.Set("tensors", tensors);
          object.Set("metadata", metadata);
          return object;
        });
  });
}

// [async] writeSafetensors(path: string, tensors: Record<string, HostTensor>, metadata: Record<string, string>): Promise<void>
Napi::Value WriteSafetensorsExport(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const std::string path = StringArg(info, 0, "path");
    if (!info[1].IsObject() || info[1].IsArray()) throw Napi::TypeError::New(env, "Expected an object of named tensors for tensors");
    if (!info[2].IsObject() || info[2].IsArray()) throw Napi::TypeError::New(env, "Expected an object of strings for metadata");
    checkpoint::NamedTensors tensors;
    const auto tensor_object = info[1].As<Napi::Object>();
    for (const std::string& name : OwnKeys(tensor_object)) {
      tensors.emplace_back(name, ViewHostTensor(tensor_object.Get(name), "tensors[\"" + name + "\"]"));
    }
    checkpoint::Metadata metadata;
    const auto metadata_object = info[2].As<Napi::Object>();
    for (const std::string& key : OwnKeys(metadata_object)) {
      const Napi::Value value = metadata_object.Get(key);
      if (!value.IsString()) throw Napi::TypeError::New(env, "Expected a string for metadata[\"" + key + "\"]");
      metadata.emplace_back(key, value.As<Napi::String>().Utf8Value());
    }
    return AsyncTask<bool>::Start(
        env, "das.writeSafetensors",
        [path, tensors, metadata] {
          checkpoint::WriteSafetensors(path, tensors, metadata);
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); }, {info[1]});
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitAddonData(env);
  exports.Set("runtimeInfo", Napi::Function::New(env, RuntimeInfoExport, "runtimeInfo"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreadsExport, "setNumThreads"));
  exports.Set("computeThreadStats", Napi::Function::New(env, ComputeThreadStatsExport, "computeThreadStats"));
  exports.Set("deviceMemory", Napi::Function::New(env, DeviceMemoryExport, "deviceMemory"));
  exports.Set("normalizeDevice", Napi::Function::New(env, NormalizeDeviceExport, "normalizeDevice"));
  exports.Set("setFusedAttention", Napi::Function::New(env, SetFusedAttentionExport, "setFusedAttention"));
  exports.Set("echoTensor", Napi::Function::New(env, EchoTensorExport, "echoTensor"));
  exports.Set("matmul", Napi::Function::New(env, MatmulExport, "matmul"));
  exports.Set("timeGemm", Napi::Function::New(env, TimeGemmExport, "timeGemm"));
  exports.Set("readCheckpoint", Napi::Function::New(env, ReadCheckpointExport, "readCheckpoint"));
  exports.Set("writeSafetensors", Napi::Function::New(env, WriteSafetensorsExport, "writeSafetensors"));
  exports.Set("describeArchitecture", Napi::Function::New(env, DescribeArchitecture, "describeArchitecture"));
  InitModelExports(env, exports);  // NativeModel, createModel, manualSeed, rngState, setRngState
  InitDistExports(env, exports);   // NativeProcessGroup, createProcessGroup, distributedBackends
  return exports;
}

}  // namespace

}  // namespace das::binding

static Napi::Object InitDasTorch(Napi::Env env, Napi::Object exports) { return das::binding::Init(env, exports); }

NODE_API_MODULE(das_torch, InitDasTorch)
