#include "binding/model_configs.h"

#include <optional>
#include <utility>
#include <vector>

#include "models/meter.h"
#include "models/roberta.h"
#include "models/vilt.h"

namespace das::binding {

double NumberField(const Napi::Object& object, const char* name, const std::string& what) {
  const Napi::Value value = object.Get(name);
  if (!value.IsNumber()) throw Napi::TypeError::New(object.Env(), "Expected a number for " + what + "." + name);
  return value.As<Napi::Number>().DoubleValue();
}

int64_t IntField(const Napi::Object& object, const char* name, const std::string& what) {
  const double value = NumberField(object, name, what);
  if (value != static_cast<double>(static_cast<int64_t>(value))) {
    throw Napi::TypeError::New(object.Env(), "Expected an integer for " + what + "." + name);
  }
  return static_cast<int64_t>(value);
}

namespace {

std::string StringField(const Napi::Object& object, const char* name, const std::string& what) {
  const Napi::Value value = object.Get(name);
  if (!value.IsString()) throw Napi::TypeError::New(object.Env(), "Expected a string for " + what + "." + name);
  return value.As<Napi::String>().Utf8Value();
}

bool BoolField(const Napi::Object& object, const char* name, const std::string& what) {
  const Napi::Value value = object.Get(name);
  if (!value.IsBoolean()) throw Napi::TypeError::New(object.Env(), "Expected a boolean for " + what + "." + name);
  return value.As<Napi::Boolean>().Value();
}

Napi::Object ObjectField(const Napi::Object& object, const char* name, const std::string& what) {
  const Napi::Value value = object.Get(name);
  if (!value.IsObject()) throw Napi::TypeError::New(object.Env(), "Expected an object for " + what + "." + name);
  return value.As<Napi::Object>();
}

std::optional<int64_t> OptionalInt(const Napi::Object& object, const char* name, const std::string& what) {
  if (object.Get(name).IsUndefined()) return std::nullopt;
  return IntField(object, name, what);
}

std::optional<double> OptionalNumber(const Napi::Object& object, const char* name, const std::string& what) {
  if (object.Get(name).IsUndefined()) return std::nullopt;
  return NumberField(object, name, what);
}

std::vector<std::string> Strings(const Napi::Object& object, const char* name, const std::string& what) {
  const Napi::Value value = object.Get(name);
  if (!value.IsArray()) throw Napi::TypeError::New(object.Env(), "Expected an array of strings for " + what + "." + name);
  const auto array = value.As<Napi::Array>();
  std::vector<std::string> items;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    if (!array.Get(i).IsString()) throw Napi::TypeError::New(object.Env(), "Expected a string for " + what + "." + name + "[" + std::to_string(i) + "]");
    items.push_back(array.Get(i).As<Napi::String>().Utf8Value());
  }
  return items;
}

template <typename Enum>
Enum Choice(const Napi::Object& object, const char* name, const std::string& what, const std::vector<std::pair<const char*, Enum>>& choices) {
  const std::string value = StringField(object, name, what);
  std::string names;
  for (const auto& [text, item] : choices) {
    if (value == text) return item;
    names += (names.empty() ? "" : ", ") + std::string(text);
  }
  throw Napi::TypeError::New(object.Env(), "Expected one of " + names + " for " + what + "." + name + " but received '" + value + "'");
}

std::string Task(const Napi::Object& c, const std::string& what) {
  std::string task = StringField(c, "task", what);
  if (task != "vqa" && task != "nlvr2" && task != "irtr") {
    throw Napi::TypeError::New(c.Env(), "Expected vqa, nlvr2 or irtr for " + what + ".task but received '" + task + "'");
  }
  return task;
}

blocks::AdapterSizes Adapters(const Napi::Object& c, const std::string& what) {
  return {IntField(c, "adapterBottleneck", what), IntField(c, "skipBottleneck", what), NumberField(c, "adapterScale", what)};
}

models::RobertaConfig DecodeRoberta(const Napi::Object& c, const std::string& what) {
  models::RobertaConfig config;
  config.vocab_size = IntField(c, "vocabSize", what);
  config.hidden = IntField(c, "hidden", what);
  config.layers = IntField(c, "layers", what);
  config.heads = IntField(c, "heads", what);
  config.intermediate = IntField(c, "intermediate", what);
  config.max_positions = IntField(c, "maxPositions", what);
  config.type_vocab_size = IntField(c, "typeVocabSize", what);
  config.pad_token_id = IntField(c, "padTokenId", what);
  config.layer_norm_eps = NumberField(c, "layerNormEps", what);
  config.hidden_dropout = NumberField(c, "hiddenDropout", what);
  config.attention_dropout = NumberField(c, "attentionDropout", what);
  config.num_labels = IntField(c, "numLabels", what);
  config.adapters = Adapters(c, what);
  return config;
}

models::ViltConfig DecodeVilt(const Napi::Object& c, const std::string& what) {
  models::ViltConfig config;
  config.vocab_size = IntField(c, "vocabSize", what);
  config.hidden = IntField(c, "hidden", what);
  config.layers = IntField(c, "layers", what);
  config.heads = IntField(c, "heads", what);
  config.mlp = IntField(c, "mlp", what);
  config.max_text_len = IntField(c, "maxTextLen", what);
  config.type_vocab_size = IntField(c, "typeVocabSize", what);
  config.patch_size = IntField(c, "patchSize", what);
  config.image_size = IntField(c, "imageSize", what);
  config.text_eps = NumberField(c, "textLayerNormEps", what);
  config.eps = NumberField(c, "layerNormEps", what);
  config.dropout = NumberField(c, "dropout", what);
  config.task = Task(c, what);
  config.num_answers = IntField(c, "numAnswers", what);
  config.itm_weight = NumberField(c, "itmWeight", what);
  config.adapters = Adapters(c, what);
  return config;
}

models::MeterConfig DecodeMeter(const Napi::Object& c, const std::string& what) {
  models::MeterConfig config;
  const Napi::Object v = ObjectField(c, "vision", what);
  const std::string vision = what + ".vision";
  config.vision.hidden = IntField(v, "hidden", vision);
  config.vision.layers = IntField(v, "layers", vision);
  config.vision.heads = IntField(v, "heads", vision);
  config.vision.mlp = IntField(v, "mlp", vision);
  config.vision.patch_size = IntField(v, "patchSize", vision);
  config.vision.image_size = IntField(v, "imageSize", vision);
  config.vision.eps = NumberField(v, "layerNormEps", vision);
  config.text = DecodeRoberta(ObjectField(c, "text", what), what + ".text");
  config.hidden = IntField(c, "hidden", what);
  config.fusion_layers = IntField(c, "fusionLayers", what);
  config.heads = IntField(c, "heads", what);
  config.intermediate = IntField(c, "intermediate", what);
  config.eps = NumberField(c, "layerNormEps", what);
  config.dropout = NumberField(c, "dropout", what);
  config.task = Task(c, what);
  config.num_answers = IntField(c, "numAnswers", what);
  config.classifier_token = BoolField(c, "classifierToken", what);
  config.classifier_token_id = IntField(c, "classifierTokenId", what);
  config.adapters = Adapters(c, what);
  config.feature_cache_bytes = IntField(c, "featureCacheBytes", what);
  return config;
}

}  // namespace

methods::MethodSpec DecodeMethod(const Napi::Value& value) {
  methods::MethodSpec spec;
  if (value.IsUndefined() || value.IsNull()) return spec;
  if (!value.IsObject()) throw Napi::TypeError::New(value.Env(), "Expected an object { name, ...options } for the method");
  const auto m = value.As<Napi::Object>();
  const std::string what = "method";
  spec.name = StringField(m, "name", what);
  spec.skip_bottleneck = OptionalInt(m, "skipBottleneck", what);
  if (!m.Get("skipLayers").IsUndefined()) spec.skip_layers = Strings(m, "skipLayers", what);
  const bool adapters = spec.name == "das" || spec.name == "adapter" || spec.name == "mam";
  if (adapters) {
    spec.bottleneck = OptionalInt(m, "bottleneck", what);
    spec.scale = OptionalNumber(m, "scale", what);
    if (!m.Get("norm").IsUndefined()) {
      spec.adapter_norm = Choice<blocks::AdapterNorm>(m, "norm", what, {{"affine", blocks::AdapterNorm::kAffine}, {"scale", blocks::AdapterNorm::kScale},
                                                                         {"none", blocks::AdapterNorm::kNone}});
    }
  }
  if (spec.name == "lora") {
    spec.lora = {IntField(m, "r", what), NumberField(m, "alpha", what), NumberField(m, "dropout", what)};
    spec.lora_targets = Strings(m, "targets", what);
    // an exported model holds its deltas folded into the weights: nothing to attach
    if (m.Get("merged").ToBoolean().Value()) spec.lora_targets.clear();
  }
  if (spec.name == "prefix" || spec.name == "mam") {
    spec.prefix.length = IntField(m, spec.name == "mam" ? "prefixLength" : "length", what);
    spec.prefix.form = Choice<blocks::PrefixForm>(m, spec.name == "mam" ? "prefixProjection" : "projection", what,
                                                  {{"separate", blocks::PrefixForm::kSeparate}, {"projected", blocks::PrefixForm::kProjected}});
  }
  return spec;
}

DecodedArchitecture DecodeModelConfig(const std::string& arch, const Napi::Object& config) {
  if (arch == "roberta") {
    const models::RobertaConfig decoded = DecodeRoberta(config, "config");
    return {[decoded](const models::MethodHooks& hooks) { return std::make_shared<models::RobertaClassifier>(decoded, hooks); },
            [decoded] { return models::DescribeRoberta(decoded); }};
  }
  if (arch == "vilt") {
    const models::ViltConfig decoded = DecodeVilt(config, "config");
    return {[decoded](const models::MethodHooks& hooks) { return std::make_shared<models::ViltModel>(decoded, hooks); },
            [decoded] { return models::DescribeVilt(decoded); }};
  }
  if (arch == "meter") {
    const models::MeterConfig decoded = DecodeMeter(config, "config");
    return {[decoded](const models::MethodHooks& hooks) { return std::make_shared<models::MeterModel>(decoded, hooks); },
            [decoded] { return models::DescribeMeter(decoded); }};
  }
  throw Napi::TypeError::New(config.Env(), "Expected one of roberta, vilt, meter for the architecture but received '" + arch + "'");
}

}  // namespace das::binding
