// ViLT-B/32: single-stream transformer over BERT text embeddings and 32x32 image
// patches, timm parameter names as in the official `vilt_200k_mlm_itm.ckpt`, attachment points in
// every block, and the VQA / NLVR2 / retrieval heads.
//
// Batch fields (one row per example unless said otherwise):
//   input_ids [B, T] int32/int64, attention_mask [B, T] (optional: all tokens real),
//   pixel_values [B, 3, H, W] float32, pixel_mask [B, H, W] uint8 (optional: non-zero pixels),
//   vqa:   targets [B, answers] float32 soft scores (optional)
//   nlvr2: pixel_values_1 / pixel_mask_1, the second image of each pair; labels [B] (optional)
//   irtr:  pixel_values has one row per image (I rows) and input_ids G captions per image
//          (B = I * G, image i owns rows i*G .. i*G+G-1); labels [I] = index of each image's
//          positive caption in its group (optional). Logits are the rank scores [I, G].
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <string>
#include <utility>
#include <vector>

#include "models/blocks/embeddings.h"
#include "models/blocks/heads.h"
#include "models/blocks/layers.h"
#include "models/task_model.h"

namespace das::models {

struct ViltConfig {
  int64_t vocab_size = 30522;
  int64_t hidden = 768;
  int64_t layers = 12;
  int64_t heads = 12;
  int64_t mlp = 3072;
  int64_t max_text_len = 40;     // rows of the text position table
  int64_t type_vocab_size = 2;   // BERT token types inside text_embeddings
  int64_t patch_size = 32;
  int64_t image_size = 384;      // pos_embed covers a (image_size / patch_size)^2 grid
  double text_eps = 1e-12;       // text embeddings' LayerNorm (BERT)
  double eps = 1e-6;             // blocks and the final norm (official; HF config.json says 1e-12)
  double dropout = 0.1;
  std::string task = "vqa";      // vqa | nlvr2 | irtr
  int64_t num_answers = 3129;
  double itm_weight = 0.5;       // irtr: loss = rank CE + itm_weight x ITM CE
  blocks::AdapterSizes adapters{96, 192, 1.0};  // the paper's sizes for ViLT
};

ArchitectureDescriptor DescribeVilt(const ViltConfig& config);

struct PatchEmbedImpl : torch::nn::Module {
  PatchEmbedImpl(int64_t hidden, int64_t patch, bool bias);
  torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

// The official checkpoint's `transformer.*`: patch embedding, class token, position table, blocks, norm.
struct ViltTransformerImpl : torch::nn::Module {
  ViltTransformerImpl(const ViltConfig& config, const std::vector<LayerDescriptor>& layers, const AttachmentPlanner& plan);
  // Image tokens [B, 1 + gh*gw, D] (class token first) and their keep mask [B, 1 + gh*gw].
  std::pair<at::Tensor, at::Tensor> Embed(const at::Tensor& pixels, const at::Tensor& pixel_mask);

  PatchEmbed patch_embed{nullptr};
  at::Tensor cls_token, pos_embed;
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Dropout pos_drop{nullptr};
  int64_t grid;
};
TORCH_MODULE(ViltTransformer);

class ViltModel : public TaskModel {
 public:
  ViltModel(const ViltConfig& config, const MethodHooks& hooks);
  std::string Architecture() const override { return "vilt"; }
  const ArchitectureDescriptor& Descriptor() const override { return descriptor_; }
  ModelOutput Run(const Batch& batch, const std::vector<bool>& skipped) override;
  bool IsHead(const std::string& name) const override;
  bool IsTaskPart(const std::string& name) const override;
  bool IsFrozenHead(const std::string& name) const override;
  std::string MapCheckpointName(const std::string& name) const override;  // vilt_checkpoint.cc
  void AdaptCheckpoint(std::vector<MappedTensor>& tensors) const override;
  void AfterLoad(const LoadReport& report) override;

 private:
  ArchitectureDescriptor descriptor_;

 public:
  blocks::TextEmbeddings text_embeddings{nullptr};
  torch::nn::Embedding token_type_embeddings{nullptr};  // modality: text 0, image 1 (NLVR2: 2)
  ViltTransformer transformer{nullptr};
  blocks::Pooler pooler{nullptr};
  torch::nn::Sequential vqa_classifier{nullptr}, nlvr2_classifier{nullptr};
  blocks::ItmHead itm_score{nullptr};
  torch::nn::Linear rank_output{nullptr};
  ViltConfig config;

 private:
  // Pooled features [B, D]; each image row is used `repeat` times in a row (retrieval groups).
  at::Tensor Encode(const at::Tensor& input_ids, const at::Tensor& attention_mask, const at::Tensor& pixels, const at::Tensor& pixel_mask,
                    const at::Tensor& image_types, int64_t repeat, const std::vector<bool>& skipped);
  ModelOutput RunNlvr2(const Batch& batch, const at::Tensor& ids, const at::Tensor& mask, const std::vector<bool>& skipped);
  ModelOutput RunRetrieval(const Batch& batch, const at::Tensor& ids, const at::Tensor& mask, const std::vector<bool>& skipped);
};

}  // namespace das::models
