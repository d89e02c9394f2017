// NativeModel: each method decodes its arguments on the JS thread and, when it computes, queues
// an AsyncTask. lib/native/binding.ts declares the same surface (NativeModel); keep them in step.
#include "binding/model_wrap.h"

#include <torch/utils.h>

#include <atomic>
#include <cstring>
#include <memory>

#include "binding/addon_data.h"
#include "binding/architecture_js.h"
#include "binding/async_task.h"
#include "binding/dist_wrap.h"
#include "binding/guarded.h"
#include "binding/host_tensor.h"
#include "binding/model_configs.h"
#include "checkpoint/checkpoint.h"
#include "engine/flop_profile.h"
#include "engine/model_runner.h"
#include "runtime/device.h"
#include "runtime/rng_state.h"

namespace das::binding {

namespace {

using RunnerPtr = std::shared_ptr<engine::ModelRunner>;
using ParameterInfos = std::vector<models::ParameterInfo>;

// What createModel hands to the NativeModel constructor: the runner and its first parameter list.
struct CreatedModel {
  RunnerPtr runner;
  ParameterInfos parameters;
};

Napi::Object ObjectArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (!info[index].IsObject()) throw Napi::TypeError::New(info.Env(), std::string("Expected an object for ") + what);
  return info[index].As<Napi::Object>();
}

std::vector<std::string> StringList(const Napi::Value& value, const std::string& what) {
  if (!value.IsArray()) throw Napi::TypeError::New(value.Env(), "Expected an array of strings for " + what);
  const auto array = value.As<Napi::Array>();
  std::vector<std::string> items;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    const Napi::Value item = array.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(value.Env(), "Expected a string for " + what + "[" + std::to_string(i) + "]");
    items.push_back(item.As<Napi::String>().Utf8Value());
  }
  return items;
}

models::Batch DecodeBatch(const Napi::Value& value) {
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), "Expected a batch object of named tensors");
  const auto object = value.As<Napi::Object>();
  models::Batch batch;
  const Napi::Array names = object.GetPropertyNames();
  for (uint32_t i = 0; i < names.Length(); ++i) {
    const std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    batch.tensors[name] = ViewHostTensor(object.Get(name), "batch." + name);
  }
  return batch;
}

Napi::Value StepResultToJs(Napi::Env env, engine::StepResult& result) {
  Napi::Object out = Napi::Object::New(env);
  if (result.loss) out.Set("loss", *result.loss);
  Napi::Object parts = Napi::Object::New(env);
  for (const auto& [name, value] : result.parts) parts.Set(name, value);
  out.Set("parts", parts);
  if (result.logits.defined()) out.Set("logits", NewHostTensor(env, result.logits));
  return out;
}

Napi::Array StringsToJs(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array array = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); ++i) array.Set(static_cast<uint32_t>(i), items[i]);
  return array;
}

Napi::Array ShapeToJs(Napi::Env env, const std::vector<int64_t>& shape) {
  Napi::Array array = Napi::Array::New(env, shape.size());
  for (size_t i = 0; i < shape.size(); ++i) array.Set(static_cast<uint32_t>(i), static_cast<double>(shape[i]));
  return array;
}

// { precision, gradScaling?, initScale?, growthFactor?, backoffFactor?, growthInterval? }; undefined = fp32.
engine::PrecisionConfig DecodePrecision(const Napi::Value& value) {
  engine::PrecisionConfig config;
  if (value.IsUndefined()) return config;
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), "Expected an object of precision options");
  const Napi::Object options = value.As<Napi::Object>();
  const Napi::Value name = options.Get("precision");
  if (!name.IsString()) throw Napi::TypeError::New(value.Env(), "Expected 'fp32', 'bf16' or 'fp16' for precision");
  config.precision = engine::ParsePrecision(name.As<Napi::String>().Utf8Value());
  if (options.Get("gradScaling").IsBoolean()) config.grad_scaling = options.Get("gradScaling").As<Napi::Boolean>().Value();
  if (options.Has("initScale")) config.scaler.init_scale = NumberField(options, "initScale", "gradient scaler");
  if (options.Has("growthFactor")) config.scaler.growth_factor = NumberField(options, "growthFactor", "gradient scaler");
  if (options.Has("backoffFactor")) config.scaler.backoff_factor = NumberField(options, "backoffFactor", "gradient scaler");
  if (options.Has("growthInterval")) config.scaler.growth_interval = IntField(options, "growthInterval", "gradient scaler");
  engine::GradScaler check(config.scaler);  // bad settings fail here, on the JS thread
  return config;
}

models::LoadExpectation DecodeExpectation(const Napi::Value& value) {
  const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : "pretrained";
  if (name == "all") return models::LoadExpectation::kAll;
  if (name == "trainable") return models::LoadExpectation::kTrainable;
  if (name == "pretrained") return models::LoadExpectation::kPretrained;
  throw Napi::TypeError::New(value.Env(), "Expected 'pretrained', 'trainable' or 'all' for expect but received '" + name + "'");
}

Napi::Value LoadReportToJs(Napi::Env env, models::LoadReport& report) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("loaded", StringsToJs(env, report.loaded));
  out.Set("missing", StringsToJs(env, report.missing));
  out.Set("unexpected", StringsToJs(env, report.unexpected));
  out.Set("ignored", StringsToJs(env, report.ignored));
  Napi::Array mismatched = Napi::Array::New(env, report.mismatched.size());
  for (size_t i = 0; i < report.mismatched.size(); ++i) {
    Napi::Object item = Napi::Object::New(env);
    item.Set("name", report.mismatched[i].name);
    item.Set("expected", ShapeToJs(env, report.mismatched[i].expected));
    item.Set("received", ShapeToJs(env, report.mismatched[i].received));
    mismatched.Set(static_cast<uint32_t>(i), item);
  }
  out.Set("mismatched", mismatched);
  return out;
}

// Rejects a second operation while one is running (TypeScript queues them; this is the backstop).
class BusyGuard {
 public:
  explicit BusyGuard(std::atomic<bool>& busy) : busy_(busy) {
    bool expected = false;
    if (!busy_.compare_exchange_strong(expected, true)) {
      throw std::runtime_error("another operation is already running on this model; await it first");
    }
  }
  ~BusyGuard() { busy_.store(false); }

 private:
  std::atomic<bool>& busy_;
};

class NativeModel : public Napi::ObjectWrap<NativeModel> {
  // Routes an instance method through Guarded (see guarded.h).
  template <Napi::Value (NativeModel::*Method)(const Napi::CallbackInfo&)>
  Napi::Value Call(const Napi::CallbackInfo& info) {
    return Guarded(info, [&] { return (this->*Method)(info); });
  }

 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeModel",
                       {
                           InstanceMethod<&NativeModel::Call<&NativeModel::Architecture>>("architecture"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::LayerNames>>("layerNames"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::Parameters>>("parameters"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::Device>>("device"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::ConfigureOptimizer>>("configureOptimizer"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::TrainStep>>("trainStep"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::EvalStep>>("evalStep"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::OptimizerStep>>("optimizerStep"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::LoadState>>("loadState"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::LoadCheckpoint>>("loadCheckpoint"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::State>>("state"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::ProfileFlops>>("profileFlops"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::OptimizerState>>("optimizerState"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::Dispose>>("dispose"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::SetTrainable>>("setTrainable"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::LoadOptimizerState>>("loadOptimizerState"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::Counters>>("counters"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::Describe>>("describe"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::MergeLora>>("mergeLora"),
                           InstanceMethod<&NativeModel::Call<&NativeModel::AttachProcessGroup>>("attachProcessGroup"),
                       });
  }

  explicit NativeModel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeModel>(info) {
    if (!info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "NativeModel is created by createModel(), not with new");
    CreatedModel* created = info[0].As<Napi::External<CreatedModel>>().Data();
    runner_ = created->runner;
    parameters_ = std::move(created->parameters);
  }

 private:
  template <typename Result, typename Work, typename Convert>
  Napi::Value Queue(const Napi::CallbackInfo& info, const char* name, Work work, Convert convert) {
    RunnerPtr runner = Runner();
    auto busy = busy_;
    return AsyncTask<Result>::Start(
        info.Env(), name,
        [runner, busy, work]() {
          BusyGuard guard(*busy);
          return work(*runner);
        },
        convert, {info.This(), info[0]});
  }

  // A task whose promise resolves to undefined.
  template <typename Work>
  Napi::Value QueueVoid(const Napi::CallbackInfo& info, const char* name, Work work) {
    return Queue<bool>(
        info, name,
        [work](engine::ModelRunner& r) {
          work(r);
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); });
  }

  engine::ModelRunner& R() { return *Runner(); }

  RunnerPtr Runner() const {
    if (!runner_) throw std::logic_error("this model was disposed");
    return runner_;
  }

  // [sync] dispose(): frees the model's memory once running operations are done; later calls fail.
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    runner_.reset();
    return info.Env().Undefined();
  }

  // [sync] describe(): ArchitectureDescriptor of this model
  Napi::Value Describe(const Napi::CallbackInfo& info) { return DescriptorToJs(info.Env(), R().model().Descriptor()); }

  // [async] mergeLora(): Promise<number>  folds every LoRA delta into its projection (export); returns how many
  Napi::Value MergeLora(const Napi::CallbackInfo& info) {
    using Merged = std::pair<int64_t, ParameterInfos>;  // the LoRA parameters are gone afterwards
    return Queue<Merged>(
        info, "das.mergeLora",
        [](engine::ModelRunner& r) {
          const int64_t merged = r.model().MergeLora();
          return Merged{merged, r.model().Parameters()};
        },
        [this](Napi::Env env, Merged& merged) -> Napi::Value {
          parameters_ = std::move(merged.second);
          return Napi::Number::New(env, static_cast<double>(merged.first));
        });
  }

  // [async] setTrainable(names: string[] | null): Promise<void>  exactly these parameters train; null
  // restores the method's split. Reconfigure the optimizer afterwards.
  Napi::Value SetTrainable(const Napi::CallbackInfo& info) {
    const bool restore = info[0].IsNull() || info[0].IsUndefined();
    const std::vector<std::string> names = restore ? std::vector<std::string>() : StringList(info[0], "trainable parameter names");
    return Queue<ParameterInfos>(
        info, "das.setTrainable",
        [restore, names](engine::ModelRunner& r) {
          if (restore) r.model().ApplyFreezing();
          else r.model().SetTrainable(names);
          return r.model().Parameters();
        },
        [this](Napi::Env env, ParameterInfos& parameters) -> Napi::Value {
          parameters_ = std::move(parameters);  // JS keeps this object alive until the task settles
          return env.Undefined();
        });
  }

  // [sync] architecture(): string
  Napi::Value Architecture(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), R().model().Architecture()); }

  // [sync] layerNames(scope?: string): string[]
  Napi::Value LayerNames(const Napi::CallbackInfo& info) {
    const auto names = info[0].IsString() ? R().model().Scope(info[0].As<Napi::String>().Utf8Value()) : R().model().LayerNames();
    return StringsToJs(info.Env(), names);
  }

  // [sync] parameters(): { name, shape, numel, trainable, head, decay, role }[]  as of the last settled
  // call that changed them (read from a copy: the model itself may be busy on the compute thread)
  Napi::Value Parameters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Runner();  // throws once disposed
    const ParameterInfos& infos = parameters_;
    Napi::Array array = Napi::Array::New(env, infos.size());
    for (size_t i = 0; i < infos.size(); ++i) {
      Napi::Object item = Napi::Object::New(env);
      item.Set("name", infos[i].name);
      item.Set("shape", ShapeToJs(env, infos[i].shape));
      item.Set("numel", static_cast<double>(infos[i].numel));
      item.Set("trainable", infos[i].trainable);
      item.Set("head", infos[i].head);
      item.Set("decay", infos[i].decay);
      item.Set("role", models::RoleName(infos[i].role));
      array.Set(static_cast<uint32_t>(i), item);
    }
    return array;
  }

  // [async] counters(): Promise<Record<string, number>>  (model-specific: feature cache, frozen prefixes)
  Napi::Value Counters(const Napi::CallbackInfo& info) {
    using Items = std::vector<std::pair<std::string, double>>;
    return Queue<Items>(
        info, "das.counters", [](engine::ModelRunner& r) { return r.model().Counters(); },
        [](Napi::Env env, Items& items) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          for (const auto& [name, value] : items) out.Set(name, value);
          return out;
        });
  }

  // [sync] device(): string
  Napi::Value Device(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), DeviceName(R().device())); }

  // [async] configureOptimizer({ weightDecay, beta1, beta2, eps, headLrMultiplier }): Promise<void>
  Napi::Value ConfigureOptimizer(const Napi::CallbackInfo& info) {
    const Napi::Object options = ObjectArg(info, 0, "optimizer options");
    engine::OptimizerConfig config;
    config.weight_decay = NumberField(options, "weightDecay", "optimizer");
    config.beta1 = NumberField(options, "beta1", "optimizer");
    config.beta2 = NumberField(options, "beta2", "optimizer");
    config.eps = NumberField(options, "eps", "optimizer");
    config.head_lr_multiplier = NumberField(options, "headLrMultiplier", "optimizer");
    return QueueVoid(info, "das.configureOptimizer", [config](engine::ModelRunner& r) { r.ConfigureOptimizer(config); });
  }

  // [async] trainStep(batch, skip: string[], accumulationWeight: number): Promise<StepResult>
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    models::Batch batch = DecodeBatch(info[0]);
    std::vector<std::string> skip = StringList(info[1], "skip");
    const double weight = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 1.0;
    return Queue<engine::StepResult>(
        info, "das.trainStep", [batch, skip, weight](engine::ModelRunner& r) { return r.TrainStep(batch, skip, weight); }, StepResultToJs);
  }

  // [async] evalStep(batch, skip: string[], wantLogits: boolean): Promise<StepResult>
  Napi::Value EvalStep(const Napi::CallbackInfo& info) {
    models::Batch batch = DecodeBatch(info[0]);
    std::vector<std::string> skip = StringList(info[1], "skip");
    const bool logits = info[2].ToBoolean().Value();
    return Queue<engine::StepResult>(
        info, "das.evalStep", [batch, skip, logits](engine::ModelRunner& r) { return r.EvalStep(batch, skip, logits); }, StepResultToJs);
  }

  // [async] optimizerStep(lr: number): Promise<{ applied: boolean, gradScale: number }>
  Napi::Value OptimizerStep(const Napi::CallbackInfo& info) {
    if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "Expected a number for lr");
    const double lr = info[0].As<Napi::Number>().DoubleValue();
    return Queue<engine::OptimizerStepResult>(
        info, "das.optimizerStep", [lr](engine::ModelRunner& r) { return r.OptimizerStep(lr); },
        [](Napi::Env env, engine::OptimizerStepResult& result) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("applied", result.applied);
          out.Set("gradScale", result.grad_scale);
          return out;
        });
  }

  // [async] attachProcessGroup(group: NativeProcessGroup | null): Promise<void>
  // Data-parallel training: copies rank 0's trainable parameters to every rank, and from then on
  // each optimizer step averages the gradients over the ranks first. null detaches.
  Napi::Value AttachProcessGroup(const Napi::CallbackInfo& info) {
    std::shared_ptr<dist::ProcessGroup> group;
    if (!info[0].IsNull() && !info[0].IsUndefined()) group = ProcessGroupArg(info[0], "the process group");
    return QueueVoid(info, "das.attachProcessGroup", [group](engine::ModelRunner& r) { r.AttachProcessGroup(group); });
  }

  // [async] loadState(tensors: Record<string, HostTensor>, strict: boolean, expect: 'pretrained'|'trainable'|'all'): Promise<LoadReport>
  Napi::Value LoadState(const Napi::CallbackInfo& info) {
    const Napi::Object object = ObjectArg(info, 0, "tensors");
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    const Napi::Array names = object.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); ++i) {
      const std::string name = names.Get(i).As<Napi::String>().Utf8Value();
      tensors.emplace_back(name, ViewHostTensor(object.Get(name), "tensors['" + name + "']"));
    }
    const bool strict = info[1].ToBoolean().Value();
    const auto expect = DecodeExpectation(info[2]);
    return Queue<models::LoadReport>(
        info, "das.loadState", [tensors, strict, expect](engine::ModelRunner& r) { return r.model().LoadState(tensors, strict, expect); },
        LoadReportToJs);
  }

  // [async] loadCheckpoint(path, strict, expect): Promise<LoadReport>  (read and loaded natively, no JS copies)
  Napi::Value LoadCheckpoint(const Napi::CallbackInfo& info) {
    if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "Expected a checkpoint path");
    const std::string path = info[0].As<Napi::String>().Utf8Value();
    const bool strict = info[1].ToBoolean().Value();
    const auto expect = DecodeExpectation(info[2]);
    return Queue<models::LoadReport>(
        info, "das.loadCheckpoint",
        [path, strict, expect](engine::ModelRunner& r) { return r.model().LoadState(checkpoint::ReadCheckpoint(path).tensors, strict, expect); },
        LoadReportToJs);
  }

  // [async] state(which: 'trainable' | 'all'): Promise<Record<string, HostTensor>>
  Napi::Value State(const Napi::CallbackInfo& info) {
    const bool trainable_only = !(info[0].IsString() && info[0].As<Napi::String>().Utf8Value() == "all");
    using Tensors = std::vector<std::pair<std::string, at::Tensor>>;
    return Queue<Tensors>(
        info, "das.state",
        [trainable_only](engine::ModelRunner& r) {
          Tensors tensors;
          for (const auto& item : r.model().named_parameters(true)) {
            if (trainable_only && !item.value().requires_grad()) continue;
            tensors.emplace_back(item.key(), item.value().detach().to(c10::kCPU).contiguous().clone());
          }
          return tensors;
        },
        [](Napi::Env env, Tensors& tensors) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          for (const auto& [name, tensor] : tensors) out.Set(name, NewHostTensor(env, tensor));
          return out;
        });
  }

  // [async] profileFlops(batch, skip: string[]): Promise<{ total: number, layers: Record<string, number> }>
  Napi::Value ProfileFlops(const Napi::CallbackInfo& info) {
    models::Batch batch = DecodeBatch(info[0]);
    std::vector<std::string> skip = StringList(info[1], "skip");
    return Queue<engine::FlopProfile>(
        info, "das.profileFlops",
        [batch, skip](engine::ModelRunner& r) { return engine::ProfileForwardFlops(r.model(), batch.To(r.device()), skip); },
        [](Napi::Env env, engine::FlopProfile& profile) -> Napi::Value {
          Napi::Object out = Napi::Object::New(env);
          out.Set("total", static_cast<double>(profile.total));
          Napi::Object layers = Napi::Object::New(env);
          for (const auto& [name, macs] : profile.layers) layers.Set(name.empty() ? "(outside layers)" : name, static_cast<double>(macs));
          out.Set("layers", layers);
          return out;
        });
  }

  // [async] optimizerState(): Promise<HostTensor<'uint8'>>  (opaque bytes for checkpoints)
  Napi::Value OptimizerState(const Napi::CallbackInfo& info) {
    return Queue<std::string>(
        info, "das.optimizerState", [](engine::ModelRunner& r) { return r.SaveOptimizerState(); },
        [](Napi::Env env, std::string& bytes) -> Napi::Value {
          at::Tensor tensor = at::empty({static_cast<int64_t>(bytes.size())}, at::kByte);
          std::memcpy(tensor.data_ptr(), bytes.data(), bytes.size());
          return NewHostTensor(env, tensor);
        });
  }

  // [async] loadOptimizerState(bytes: HostTensor<'uint8'>): Promise<void>
  Napi::Value LoadOptimizerState(const Napi::CallbackInfo& info) {
    const at::Tensor view = ViewHostTensor(info[0], "optimizer state");
    if (view.scalar_type() != at::kByte) throw Napi::TypeError::New(info.Env(), "Expected a uint8 tensor for the optimizer state");
    std::string bytes(static_cast<const char*>(view.data_ptr()), static_cast<size_t>(view.numel()));
    return QueueVoid(info, "das.loadOptimizerState", [bytes](engine::ModelRunner& r) { r.LoadOptimizerState(bytes); });
  }

  RunnerPtr runner_;
  ParameterInfos parameters_;
  std::shared_ptr<std::atomic<bool>> busy_ = std::make_shared<std::atomic<bool>>(false);
};

// Building a model that does not fit in memory: the allocator's text (or std::bad_alloc) becomes
// one sentence. TypeScript estimates the weights first; this covers what the estimate misses.
std::string OutOfMemoryMessage(const std::string& arch, c10::Device device, const std::string& allocator_text) {
  std::string message = "not enough memory on " + DeviceName(device) + " to build the " + arch + " model";
  // c10's CPU allocator says "you tried to allocate N bytes"
  const std::string lead = "tried to allocate ";
  const size_t at = allocator_text.find(lead);
  const size_t from = at == std::string::npos ? 0 : at + lead.size();
  const size_t digits = at == std::string::npos ? 0 : allocator_text.find_first_not_of("0123456789", from);
  if (at != std::string::npos && digits > from) message += " (an allocation of " + allocator_text.substr(from, digits - from) + " bytes failed)";
  return message + "; check the sizes in its configuration";
}

bool IsOutOfMemory(const std::string& text) {
  return text.find("can't allocate memory") != std::string::npos || text.find("out of memory") != std::string::npos;
}

// [async] createModel(arch: 'roberta' | 'vilt' | 'meter', config: object, device: string, seed: number, method?: object,
//                     precision?: { precision, gradScaling?, initScale?, ... }): Promise<NativeModel>
Napi::Value CreateModelBody(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "Expected an architecture name");
  const std::string arch = info[0].As<Napi::String>().Utf8Value();
  const Napi::Object config_object = ObjectArg(info, 1, "config");
  if (!info[2].IsString()) throw Napi::TypeError::New(env, "Expected a device string");
  const c10::Device device = ParseDevice(info[2].As<Napi::String>().Utf8Value());
  const uint64_t seed = info[3].IsNumber() ? static_cast<uint64_t>(info[3].As<Napi::Number>().Int64Value()) : 0;
  const DecodedArchitecture decoded = DecodeModelConfig(arch, config_object);
  const methods::MethodSpec spec = DecodeMethod(info[4]);
  const auto method = methods::MakeMethod(spec);  // an unknown method fails here, on the JS thread
  const auto make = decoded.make;
  const engine::PrecisionConfig precision = DecodePrecision(info[5]);
  engine::CheckPrecisionSupported(precision.precision, device);
  AddonData* data = &GetAddonData(env);
  return AsyncTask<CreatedModel>::Start(
      env, "das.createModel",
      [make, method, device, seed, arch, precision] {
        torch::manual_seed(seed);  // initialisation of adapters and heads is reproducible
        try {
          auto runner = std::make_shared<engine::ModelRunner>(make(methods::HooksOf(method)));
          runner->To(device);
          runner->ConfigurePrecision(precision);
          return CreatedModel{runner, runner->model().Parameters()};
        } catch (const std::bad_alloc&) {
          throw std::runtime_error(OutOfMemoryMessage(arch, device, ""));
        } catch (const c10::Error& error) {
          if (IsOutOfMemory(error.what_without_backtrace())) throw std::runtime_error(OutOfMemoryMessage(arch, device, error.what_without_backtrace()));
          throw;
        }
      },
      [data](Napi::Env env, CreatedModel& created) -> Napi::Value {
        return data->model_constructor.New({Napi::External<CreatedModel>::New(env, &created)});
      });
}

Napi::Value CreateModel(const Napi::CallbackInfo& info) {
  return Guarded(info, [&] { return CreateModelBody(info); });
}

// [sync] manualSeed(seed: number): seeds libtorch's generators (dropout) for reproducible steps.
Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "Expected a number for seed");
  torch::manual_seed(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
  return info.Env().Undefined();
}

// [sync] rngState(): HostTensor<'uint8'> of libtorch's CPU generator.
Napi::Value RngState(const Napi::CallbackInfo& info) {
  return Guarded(info, [&] { return NewHostTensor(info.Env(), GetCpuRngState()); });
}

// [sync] setRngState(state: HostTensor<'uint8'>)
Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  return Guarded(info, [&] {
    SetCpuRngState(ViewHostTensor(info[0], "rng state"));
    return info.Env().Undefined();
  });
}

}  // namespace

void InitModelExports(Napi::Env env, Napi::Object exports) {
  Napi::Function constructor = NativeModel::Define(env);
  GetAddonData(env).model_constructor = Napi::Persistent(constructor);
  exports.Set("NativeModel", constructor);
  exports.Set("createModel", Napi::Function::New(env, CreateModel, "createModel"));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed, "manualSeed"));
  exports.Set("rngState", Napi::Function::New(env, RngState, "rngState"));
  exports.Set("setRngState", Napi::Function::New(env, SetRngState, "setRngState"));
}

}  // namespace das::binding
