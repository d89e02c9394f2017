#include "models/roberta.h"
#include "common/strings.h"

#include <ATen/ATen.h>
#include <ATen/record_function.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/init.h>

namespace das::models {

namespace {

blocks::BertLayerOptions LayerOptions(const RobertaConfig& c) {
  blocks::BertLayerOptions o;
  o.hidden = c.hidden;
  o.heads = c.heads;
  o.intermediate = c.intermediate;
  o.eps = c.layer_norm_eps;
  o.dropout = c.hidden_dropout;
  o.attention_dropout = c.attention_dropout;
  return o;
}

blocks::TextEmbeddingsOptions EmbeddingOptions(const RobertaConfig& c) {
  blocks::TextEmbeddingsOptions o;
  o.vocab_size = c.vocab_size;
  o.hidden = c.hidden;
  o.max_positions = c.max_positions;
  o.type_vocab_size = c.type_vocab_size;
  o.pad_token_id = c.pad_token_id;
  o.eps = c.layer_norm_eps;
  o.dropout = c.hidden_dropout;
  o.positions = blocks::PositionStyle::kRoberta;
  return o;
}

// BERT-style initialisation for weights a checkpoint does not provide (the head, in practice).
void InitLinear(torch::nn::Linear& linear) {
  torch::nn::init::normal_(linear->weight, 0.0, 0.02);
  torch::nn::init::zeros_(linear->bias);
}

}  // namespace

std::vector<LayerDescriptor> RobertaLayerDescriptors(const RobertaConfig& c, const std::string& prefix, const std::string& region,
                                                     bool adapted) {
  std::vector<LayerDescriptor> layers;
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string index = std::to_string(i);
    layers.push_back(BertLayerDescriptor({c.layer_prefix + index, prefix + "encoder.layer." + index + ".", region, "text", ""}, LayerOptions(c), c.adapters));
    layers.back().adapted = adapted;
  }
  return layers;
}

ArchitectureDescriptor DescribeRoberta(const RobertaConfig& c) {
  ArchitectureDescriptor d;
  d.architecture = "roberta";
  d.layers = RobertaLayerDescriptors(c, "roberta.", "encoder", true);
  d.scopes = {{"global", d.LayerNames()}};
  return d;
}

RobertaEncoderImpl::RobertaEncoderImpl(const RobertaConfig& c, const std::vector<LayerDescriptor>& layers, const AttachmentPlanner& plan)
    : layer(register_module("layer", torch::nn::ModuleList())) {
  TORCH_CHECK(layers.size() == static_cast<size_t>(c.layers), "descriptor has ", layers.size(), " layers for ", c.layers);
  for (const LayerDescriptor& entry : layers) {
    blocks::BertLayerOptions options = LayerOptions(c);
    options.attachments = plan(entry);
    layer->push_back(blocks::BertLayer(options));
  }
}

RobertaModelImpl::RobertaModelImpl(const RobertaConfig& c, const std::vector<LayerDescriptor>& layers, const AttachmentPlanner& plan)
    : embeddings(register_module("embeddings", blocks::TextEmbeddings(EmbeddingOptions(c)))),
      encoder(register_module("encoder", RobertaEncoder(c, layers, plan))),
      config(c) {
  for (const LayerDescriptor& entry : layers) layer_names.push_back(entry.name);
}

at::Tensor RobertaModelImpl::forward(const at::Tensor& input_ids, const at::Tensor& attention_mask, const std::vector<bool>& skipped) {
  return RunLayers(embeddings(input_ids), attention_mask, skipped, 0, encoder->layer->size());
}

at::Tensor RobertaModelImpl::RunLayers(at::Tensor x, const at::Tensor& attention_mask, const std::vector<bool>& skipped, size_t first,
                                       size_t end) {
  const at::Tensor mask = blocks::AdditiveMask(attention_mask, x.scalar_type());
  for (size_t i = first; i < end; ++i) {
    blocks::LayerScope scope(layer_names[i]);
    auto layer = encoder->layer->ptr<blocks::BertLayerImpl>(i);
    x = skipped[i] ? layer->Skip(x) : layer->forward(x, mask);
  }
  return x;
}

void RobertaModelImpl::CheckTokens(const at::Tensor& input_ids) const {
  TORCH_CHECK(input_ids.dim() == 2, "input_ids must be [batch, tokens], got ", input_ids.sizes());
  TORCH_CHECK(input_ids.size(1) <= embeddings->MaxTokens(), "input_ids has ", input_ids.size(1), " tokens; this RoBERTa takes at most ",
              embeddings->MaxTokens());
}

RobertaClassificationHeadImpl::RobertaClassificationHeadImpl(int64_t hidden, int64_t num_labels, double dropout)
    : dense(register_module("dense", torch::nn::Linear(hidden, hidden))),
      out_proj(register_module("out_proj", torch::nn::Linear(hidden, num_labels))),
      dropout(register_module("dropout", torch::nn::Dropout(dropout))) {
  torch::NoGradGuard no_grad;
  InitLinear(dense);
  InitLinear(out_proj);
}

at::Tensor RobertaClassificationHeadImpl::forward(const at::Tensor& hidden_states) {
  at::Tensor x = dropout(hidden_states.select(1, 0));
  x = dropout(at::tanh(dense(x)));
  return out_proj(x);
}

RobertaClassifier::RobertaClassifier(const RobertaConfig& c, const MethodHooks& hooks)
    : TaskModel(hooks),
      descriptor_(DescribeRoberta(c)),
      roberta(register_module("roberta", RobertaModel(c, descriptor_.layers, hooks.plan))),
      classifier(register_module("classifier", RobertaClassificationHead(c.hidden, c.num_labels, c.hidden_dropout))) {
  ApplyFreezing();
}

ModelOutput RobertaClassifier::Run(const Batch& batch, const std::vector<bool>& skipped) {
  TORCH_CHECK(skipped.size() == roberta->encoder->layer->size(), "skip mask has ", skipped.size(), " entries for ",
              roberta->encoder->layer->size(), " layers");
  const at::Tensor input_ids = batch.Require("input_ids").to(at::kLong);  // data loaders send int32
  roberta->CheckTokens(input_ids);
  ModelOutput out;
  out.logits = classifier(roberta(input_ids, batch.Optional("attention_mask"), skipped));
  const at::Tensor labels = batch.Optional("labels");
  if (labels.defined()) {
    out.loss = torch::nn::functional::cross_entropy(out.logits, labels.to(at::kLong));
    out.loss_parts.emplace_back("ce", out.loss);
  }
  return out;
}

bool RobertaClassifier::IsHead(const std::string& name) const { return StartsWith(name, "classifier."); }

std::string RobertaClassifier::MapCheckpointName(const std::string& name) const { return MapHuggingFaceRobertaName(name, "roberta."); }

std::string MapHuggingFaceRobertaName(const std::string& name, const std::string& prefix) {
  if (EndsWith(name, "position_ids")) return "";  // a constant buffer in some HF versions
  std::string mapped = name;
  const bool ours = StartsWith(mapped, prefix) || StartsWith(mapped, "classifier.");
  if (!ours && (StartsWith(mapped, "embeddings.") || StartsWith(mapped, "encoder.") || StartsWith(mapped, "pooler."))) mapped = prefix + mapped;
  if (EndsWith(mapped, "LayerNorm.gamma")) mapped.replace(mapped.size() - 5, 5, "weight");
  if (EndsWith(mapped, "LayerNorm.beta")) mapped.replace(mapped.size() - 4, 4, "bias");
  return mapped;
}

}  // namespace das::models
