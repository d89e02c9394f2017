// METER checkpoint names -> ours. Ours are those of the official Lightning checkpoints
// (meter_clip16_288_roberta_pretrain.ckpt and the fine-tuned ones) except inside the CLIP tower,
// whose blocks reuse blocks::VitBlock: CLIP's ln_1/ln_2, attn.in_proj_*, attn.out_proj, mlp.c_fc,
// mlp.c_proj become norm1/norm2, attn.qkv.*, attn.proj, mlp.fc1, mlp.fc2 (the same tensors: CLIP's
// in-projection already stacks q, k, v). `text_transformer.*` is HuggingFace RoBERTa naming.
#include <regex>

#include "models/checkpoint_adapt.h"
#include "common/strings.h"
#include "models/meter.h"

namespace das::models {

namespace {

std::string MapClipBlock(const std::string& name) {
  static const std::regex kBlock(R"(^vit_model\.visual\.transformer\.resblocks\.(\d+)\.(.+)$)");
  std::smatch match;
  if (!std::regex_match(name, match, kBlock)) return name;
  const std::string block = "vit_model.visual.transformer.resblocks." + match[1].str() + ".";
  const std::string rest = match[2].str();
  static const std::pair<const char*, const char*> kRenames[] = {
      {"ln_1.", "norm1."},         {"ln_2.", "norm2."},         {"attn.in_proj_weight", "attn.qkv.weight"},
      {"attn.in_proj_bias", "attn.qkv.bias"}, {"attn.out_proj.", "attn.proj."}, {"mlp.c_fc.", "mlp.fc1."},
      {"mlp.c_proj.", "mlp.fc2."},
  };
  for (const auto& [theirs, ours] : kRenames) {
    if (StartsWith(rest, theirs)) return block + ours + rest.substr(std::string(theirs).size());
  }
  return name;
}

// Parts of the checkpoint METER never runs: CLIP's text side and projection, the pre-training
// heads, the RoBERTa pooler, and heads of tasks other than this model's.
bool DroppedOnPurpose(const std::string& name, const std::string& task) {
  if (StartsWith(name, "vit_model.") && !StartsWith(name, "vit_model.visual.")) return true;
  if (name == "vit_model.visual.proj") return true;
  static const char* const kAlways[] = {"mlm_score.", "mpp_score.", "text_transformer.pooler.", "snli_classifier."};
  for (const char* prefix : kAlways) {
    if (StartsWith(name, prefix)) return true;
  }
  if (task != "irtr" && (StartsWith(name, "itm_score.") || StartsWith(name, "rank_output."))) return true;
  if (task != "vqa" && StartsWith(name, "vqa_classifier.")) return true;
  if (task != "nlvr2" && StartsWith(name, "nlvr2_classifier.")) return true;
  return false;
}

}  // namespace

std::string MeterModel::MapCheckpointName(const std::string& name) const {
  std::string mapped = name;
  if (StartsWith(name, "text_transformer.")) mapped = MapHuggingFaceRobertaName(name, "text_transformer.");
  else if (StartsWith(name, "vit_model.visual.")) mapped = MapClipBlock(name);
  if (mapped.empty() || DroppedOnPurpose(mapped, config.task)) return "";
  return mapped;
}

void MeterModel::AdaptCheckpoint(std::vector<MappedTensor>& tensors) const {
  // a checkpoint trained at another resolution (288 for the pre-trained one): bicubic, once
  ResizePositionGrid(tensors, "vit_model.visual.positional_embedding", vit_model->visual->Tokens());
  GrowRows(tensors, "token_type_embeddings.weight", token_type_embeddings->weight.size(0));
}

}  // namespace das::models
