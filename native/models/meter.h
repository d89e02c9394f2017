// METER: CLIP ViT-B/16 visual tower and RoBERTa-base language encoder (both frozen),
// cross-modal transforms, token4classifier, 6 + 6 co-attention fusion layers run in lock-step,
// two poolers; parameter names of the official meter_clip16_288_roberta_pretrain.ckpt.
//
// Attachment points: every fusion layer (FL0.., FV0..; three adapter sites each) and every
// language-encoder layer (LEn0..: skip adapters, as DAS puts there). Skipping FVi replaces the image
// layer's output by its skip adapter; the text layer i still reads the image stream of layer i.
//
// Frozen regions build no autograd graph: the vision tower while none of its parameters trains, the
// language encoder up to its first layer that is skipped or trains (the method decides which). Both
// run without dropout (fixed feature extractors), which also makes frozen outputs cacheable: with
// feature_cache_bytes > 0 they are kept per example key.
//
// Batch fields: as ViLT's (vilt.h: input_ids, attention_mask, pixel_values, targets, labels,
// pixel_values_1 for NLVR2, grouped captions for irtr) except that images are square at
// image_size and need no pixel_mask; plus, for the feature cache, example keys
// image_keys [images] (image_keys_1 for NLVR2's second image) and text_keys [rows] (int64).
// Send keys only when the inputs are not randomly augmented (a changed input is detected anyway).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <memory>
#include <string>
#include <vector>

#include "models/blocks/heads.h"
#include "models/blocks/layers.h"
#include "models/clip_vision.h"
#include "models/feature_cache.h"
#include "models/roberta.h"
#include "models/task_model.h"

namespace das::models {

struct MeterConfig {
  ClipVisionConfig vision;
  RobertaConfig text;  // language encoder: layer prefix LEn, no parallel adapters, skip adapters
  int64_t hidden = 768;
  int64_t fusion_layers = 6;
  int64_t heads = 12;
  int64_t intermediate = 3072;
  double eps = 1e-12;  // fusion layers (METER builds them from a default BertConfig)
  double dropout = 0.1;
  std::string task = "vqa";  // vqa | nlvr2 | irtr
  int64_t num_answers = 3129;
  // DAS's learned token4classifier replaces the first text token after the language encoder;
  // false gives METER as published (predict without a run).
  bool classifier_token = true;
  int64_t classifier_token_id = 0;  // token4classifier starts as the text embedding of <s>
  blocks::AdapterSizes adapters{96, 288, 1.0};  // the paper's sizes for the fusion layers
  int64_t feature_cache_bytes = 0;  // 0: no cache
};

// Layers FL0..FL5, FV0..FV5, LEn0..LEn11 (the order of the search scopes); scopes fusion and global.
ArchitectureDescriptor DescribeMeter(const MeterConfig& config);

class MeterModel : public TaskModel {
 public:
  MeterModel(const MeterConfig& config, const MethodHooks& hooks);
  std::string Architecture() const override { return "meter"; }
  const ArchitectureDescriptor& Descriptor() const override { return descriptor_; }
  ModelOutput Run(const Batch& batch, const std::vector<bool>& skipped) override;
  bool IsHead(const std::string& name) const override;
  bool IsTaskPart(const std::string& name) const override;
  bool IsFrozenHead(const std::string& name) const override;
  std::string MapCheckpointName(const std::string& name) const override;  // meter_checkpoint.cc
  void AdaptCheckpoint(std::vector<MappedTensor>& tensors) const override;
  void AfterLoad(const LoadReport& report) override;
  std::vector<std::pair<std::string, double>> Counters() const override;

 protected:
  void OnTrainableChanged() override;

 private:
  ArchitectureDescriptor descriptor_;

 public:
  ClipModel vit_model{nullptr};
  RobertaModel text_transformer{nullptr};
  torch::nn::Linear cross_modal_text_transform{nullptr}, cross_modal_image_transform{nullptr};
  torch::nn::Embedding token_type_embeddings{nullptr};
  at::Tensor token4classifier;  // [1, 1, hidden]; undefined without classifier_token
  torch::nn::ModuleList cross_modal_text_layers{nullptr}, cross_modal_image_layers{nullptr};
  blocks::Pooler cross_modal_text_pooler{nullptr}, cross_modal_image_pooler{nullptr};
  torch::nn::Sequential vqa_classifier{nullptr}, nlvr2_classifier{nullptr};
  blocks::ItmHead itm_score{nullptr};
  torch::nn::Linear rank_output{nullptr};
  MeterConfig config;

 private:
  struct Images {
    at::Tensor pixels, keys;
  };
  // Language encoder output [B, T, D] (frozen prefix without a graph; cached when nothing is skipped).
  at::Tensor TextFeatures(const at::Tensor& ids, const at::Tensor& keep, const at::Tensor& keys, const std::vector<bool>& skipped);
  // Vision tower output [N, 1 + g*g, D], frozen, cached by key.
  at::Tensor ImageFeatures(const Images& images);
  // Fusion and poolers: cls_feats [B, 2D]. `image_repeat`: captions per image row (retrieval).
  at::Tensor Fuse(const at::Tensor& text, const at::Tensor& keep, const at::Tensor& image, const at::Tensor& image_types,
                  int64_t image_repeat, const std::vector<bool>& skipped);
  Images ReadImages(const Batch& batch, const std::string& suffix) const;
  void InitToken4Classifier();

  FeatureCache cache_;
  // Derived from the trainable set: the vision tower is frozen; language-encoder layers before this
  // index run frozen (0 when its embeddings train).
  bool vision_frozen_ = true;
  bool text_embeddings_train_ = false;
  size_t text_frozen_layers_ = 0;
  // What the last Run built: whether the frozen outputs carried a graph, how many LEn layers ran frozen.
  double vision_graph_ = 0, text_prefix_graph_ = 0, frozen_text_layers_ = 0;
};

}  // namespace das::models
