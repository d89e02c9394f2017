#include "binding/architecture_js.h"

#include "binding/guarded.h"
#include "binding/model_configs.h"

namespace das::binding {

namespace {

const char* SiteName(blocks::Site site) {
  switch (site) {
    case blocks::Site::kCross: return "cross";
    case blocks::Site::kFfn: return "ffn";
    case blocks::Site::kAttention: break;
  }
  return "attn";
}

Napi::Array Strings(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array array = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); ++i) array.Set(static_cast<uint32_t>(i), items[i]);
  return array;
}

Napi::Object LayerToJs(Napi::Env env, const models::LayerDescriptor& layer) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("name", layer.name);
  out.Set("prefix", layer.prefix);
  out.Set("region", layer.region);
  out.Set("norm", layer.norm);
  out.Set("stream", layer.stream);
  if (!layer.context.empty()) out.Set("context", layer.context);
  out.Set("skippable", layer.skippable);
  out.Set("adapted", layer.adapted);
  out.Set("hidden", static_cast<double>(layer.hidden));
  out.Set("heads", static_cast<double>(layer.heads));
  out.Set("intermediate", static_cast<double>(layer.intermediate));
  out.Set("crossAttention", layer.cross_attention);
  out.Set("layerNorms", static_cast<double>(layer.layer_norms));
  Napi::Array projections = Napi::Array::New(env, layer.projections.size());
  for (size_t i = 0; i < layer.projections.size(); ++i) {
    const blocks::ProjectionInfo& p = layer.projections[i];
    Napi::Object item = Napi::Object::New(env);
    item.Set("role", p.role);
    item.Set("module", p.module);
    item.Set("in", static_cast<double>(p.in));
    item.Set("out", static_cast<double>(p.out));
    item.Set("offset", static_cast<double>(p.offset));
    item.Set("suffix", p.suffix);
    projections.Set(static_cast<uint32_t>(i), item);
  }
  out.Set("projections", projections);
  Napi::Array sites = Napi::Array::New(env, layer.sites.size());
  for (size_t i = 0; i < layer.sites.size(); ++i) sites.Set(static_cast<uint32_t>(i), SiteName(layer.sites[i]));
  out.Set("sites", sites);
  Napi::Object sizes = Napi::Object::New(env);
  sizes.Set("parallel", static_cast<double>(layer.sizes.parallel));
  sizes.Set("skip", static_cast<double>(layer.sizes.skip));
  sizes.Set("scale", layer.sizes.scale);
  out.Set("adapterSizes", sizes);
  return out;
}

}  // namespace

Napi::Object DescriptorToJs(Napi::Env env, const models::ArchitectureDescriptor& d) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("architecture", d.architecture);
  Napi::Array layers = Napi::Array::New(env, d.layers.size());
  for (size_t i = 0; i < d.layers.size(); ++i) layers.Set(static_cast<uint32_t>(i), LayerToJs(env, d.layers[i]));
  out.Set("layers", layers);
  Napi::Object scopes = Napi::Object::New(env);
  for (const auto& [name, members] : d.scopes) scopes.Set(name, Strings(env, members));
  out.Set("scopes", scopes);
  out.Set("skipAdapter", d.skip_adapter);
  return out;
}

Napi::Value DescribeArchitecture(const Napi::CallbackInfo& info) {
  return Guarded(info, [&]() -> Napi::Value {
    if (!info[0].IsString()) throw Napi::TypeError::New(info.Env(), "Expected an architecture name");
    if (!info[1].IsObject()) throw Napi::TypeError::New(info.Env(), "Expected an object for config");
    const DecodedArchitecture decoded = DecodeModelConfig(info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Object>());
    return DescriptorToJs(info.Env(), decoded.describe());
  });
}

}  // namespace das::binding
