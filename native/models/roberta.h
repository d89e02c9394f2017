// RoBERTa: post-LN encoder with HuggingFace parameter names, attachment points in every layer,
// and the sequence-classification head. RobertaModel (no head) is reused as METER's language
// encoder.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "models/blocks/embeddings.h"
#include "models/blocks/layers.h"
#include "models/task_model.h"

namespace das::models {

struct RobertaConfig {
  int64_t vocab_size = 50265;
  int64_t hidden = 768;
  int64_t layers = 12;
  int64_t heads = 12;
  int64_t intermediate = 3072;
  int64_t max_positions = 514;
  int64_t type_vocab_size = 1;
  int64_t pad_token_id = 1;
  double layer_norm_eps = 1e-5;
  double hidden_dropout = 0.1;
  double attention_dropout = 0.1;
  int64_t num_labels = 3;
  blocks::AdapterSizes adapters{16, 32, 1.0};  // the paper's sizes for RoBERTa
  std::string layer_prefix = "En";  // layer names: En0.. (METER's language encoder: LEn0..)
};

// Descriptor entries of the encoder layers, whose parameters live under `prefix` + "encoder.layer.N.".
std::vector<LayerDescriptor> RobertaLayerDescriptors(const RobertaConfig& config, const std::string& prefix, const std::string& region,
                                                     bool adapted);
ArchitectureDescriptor DescribeRoberta(const RobertaConfig& config);

struct RobertaEncoderImpl : torch::nn::Module {
  RobertaEncoderImpl(const RobertaConfig& config, const std::vector<LayerDescriptor>& layers, const AttachmentPlanner& plan);
  torch::nn::ModuleList layer{nullptr};
};
TORCH_MODULE(RobertaEncoder);

struct RobertaModelImpl : torch::nn::Module {
  // `layers`: this encoder's descriptor entries; `plan` says what each carries.
  RobertaModelImpl(const RobertaConfig& config, const std::vector<LayerDescriptor>& layers, const AttachmentPlanner& plan);
  // Hidden states [B, T, H]; `skipped` has one entry per layer.
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& attention_mask, const std::vector<bool>& skipped);
  // Layers [first, end) on hidden states `x` (METER runs its frozen prefix apart from the rest).
  at::Tensor RunLayers(at::Tensor x, const at::Tensor& attention_mask, const std::vector<bool>& skipped, size_t first, size_t end);
  // Checks input_ids against the position table; names the field and the limit.
  void CheckTokens(const at::Tensor& input_ids) const;

  blocks::TextEmbeddings embeddings{nullptr};
  RobertaEncoder encoder{nullptr};
  RobertaConfig config;
  std::vector<std::string> layer_names;
};
TORCH_MODULE(RobertaModel);

struct RobertaClassificationHeadImpl : torch::nn::Module {
  RobertaClassificationHeadImpl(int64_t hidden, int64_t num_labels, double dropout);
  at::Tensor forward(const at::Tensor& hidden_states);  // on the <s> token

  torch::nn::Linear dense{nullptr}, out_proj{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(RobertaClassificationHead);

// Batch fields: input_ids [B,T] int64, attention_mask [B,T], labels [B] int64 (optional).
class RobertaClassifier : public TaskModel {
 public:
  RobertaClassifier(const RobertaConfig& config, const MethodHooks& hooks);
  std::string Architecture() const override { return "roberta"; }
  const ArchitectureDescriptor& Descriptor() const override { return descriptor_; }
  ModelOutput Run(const Batch& batch, const std::vector<bool>& skipped) override;
  bool IsHead(const std::string& name) const override;
  std::string MapCheckpointName(const std::string& name) const override;

 private:
  ArchitectureDescriptor descriptor_;

 public:
  RobertaModel roberta{nullptr};
  RobertaClassificationHead classifier{nullptr};
};

// HuggingFace RoBERTa checkpoint names -> ours, for a model registered under `prefix` ("roberta."):
// adds a missing prefix (RobertaModel checkpoints), renames old LayerNorm gamma/beta, drops
// position_ids buffers. Shared with METER's language encoder.
std::string MapHuggingFaceRobertaName(const std::string& name, const std::string& prefix);

}  // namespace das::models
