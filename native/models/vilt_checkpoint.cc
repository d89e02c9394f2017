// ViLT checkpoint names -> ours. Ours are the official Lightning checkpoint's (`state_dict` of
// vilt_200k_mlm_itm.ckpt and the released fine-tuned ones), so that naming passes through; the
// HuggingFace naming (ViltModel, ViltForQuestionAnswering, ViltForImagesAndTextClassification,
// ViltForImageAndTextRetrieval: `vilt.*` with split query/key/value) is translated here.
#include <regex>

#include "models/checkpoint_adapt.h"
#include "common/strings.h"
#include "models/vilt.h"

namespace das::models {

namespace {

// Pre-training and other tasks' heads, timm's unused classifier, constant buffers.
bool DroppedOnPurpose(const std::string& name, const std::string& task) {
  static const char* const kAlways[] = {"mlm_score.", "mpp_score.", "transformer.head.", "transformer.pre_logits."};
  for (const char* prefix : kAlways) {
    if (StartsWith(name, prefix)) return true;
  }
  if (name == "text_embeddings.position_ids") return true;
  if (task != "irtr" && (StartsWith(name, "itm_score.") || StartsWith(name, "rank_output."))) return true;
  if (task != "vqa" && StartsWith(name, "vqa_classifier.")) return true;
  if (task != "nlvr2" && StartsWith(name, "nlvr2_classifier.")) return true;
  return false;
}

std::string MapHuggingFace(const std::string& name, const std::string& task) {
  static const std::regex kLayer(R"(^vilt\.encoder\.layer\.(\d+)\.(.+)$)");
  std::smatch match;
  if (std::regex_match(name, match, kLayer)) {
    const std::string block = "transformer.blocks." + match[1].str() + ".";
    const std::string rest = match[2].str();
    static const std::pair<const char*, const char*> kRenames[] = {
        {"layernorm_before.", "norm1."},          {"layernorm_after.", "norm2."},   {"attention.output.dense.", "attn.proj."},
        {"intermediate.dense.", "mlp.fc1."},      {"output.dense.", "mlp.fc2."},
    };
    for (const auto& [theirs, ours] : kRenames) {
      if (StartsWith(rest, theirs)) return block + ours + rest.substr(std::string(theirs).size());
    }
    static const std::pair<const char*, char> kParts[] = {
        {"attention.attention.query.", 'q'}, {"attention.attention.key.", 'k'}, {"attention.attention.value.", 'v'}};
    for (const auto& [theirs, part] : kParts) {
      if (StartsWith(rest, theirs)) return QkvPart(block + "attn.qkv." + rest.substr(std::string(theirs).size()), part);
    }
    return name;  // unknown: reported as unexpected
  }
  static const std::pair<const char*, const char*> kRenames[] = {
      {"vilt.embeddings.text_embeddings.", "text_embeddings."},
      {"vilt.embeddings.patch_embeddings.projection.", "transformer.patch_embed.proj."},
      {"vilt.embeddings.token_type_embeddings.", "token_type_embeddings."},
      {"vilt.layernorm.", "transformer.norm."},
      {"vilt.pooler.", "pooler."},
  };
  for (const auto& [theirs, ours] : kRenames) {
    if (StartsWith(name, theirs)) return ours + name.substr(std::string(theirs).size());
  }
  if (name == "vilt.embeddings.cls_token") return "transformer.cls_token";
  if (name == "vilt.embeddings.position_embeddings") return "transformer.pos_embed";
  // HF's task models call their head `classifier`; ours is named per task.
  if (StartsWith(name, "classifier.")) return (task == "nlvr2" ? "nlvr2_classifier." : "vqa_classifier.") + name.substr(11);
  return name;
}

}  // namespace

std::string ViltModel::MapCheckpointName(const std::string& name) const {
  const std::string mapped = StartsWith(name, "vilt.") || StartsWith(name, "classifier.") ? MapHuggingFace(name, config.task) : name;
  return DroppedOnPurpose(mapped, config.task) ? "" : mapped;
}

void ViltModel::AdaptCheckpoint(std::vector<MappedTensor>& tensors) const {
  FuseQkvParts(tensors);
  GrowRows(tensors, "token_type_embeddings.weight", token_type_embeddings->weight.size(0));
}

}  // namespace das::models
