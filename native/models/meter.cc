#include "models/meter.h"
#include "common/strings.h"

#include <ATen/ATen.h>

#include "models/vl_batch.h"

namespace das::models {

namespace {

blocks::BertLayerOptions FusionOptions(const MeterConfig& c) {
  blocks::BertLayerOptions o;
  o.hidden = c.hidden;
  o.heads = c.heads;
  o.intermediate = c.intermediate;
  o.eps = c.eps;
  o.dropout = c.dropout;
  o.attention_dropout = c.dropout;
  o.cross_attention = true;
  return o;
}

RobertaConfig TextConfig(RobertaConfig text) {
  text.layer_prefix = "LEn";
  // a frozen feature extractor: deterministic, hence cacheable (see meter.h)
  text.hidden_dropout = 0.0;
  text.attention_dropout = 0.0;
  return text;
}

std::vector<LayerDescriptor> TextLayers(const ArchitectureDescriptor& d) {
  std::vector<LayerDescriptor> layers;
  for (const LayerDescriptor& layer : d.layers) {
    if (layer.region == "text") layers.push_back(layer);
  }
  return layers;
}

}  // namespace

ArchitectureDescriptor DescribeMeter(const MeterConfig& c) {
  ArchitectureDescriptor d;
  d.architecture = "meter";
  for (const std::string side : {"text", "image"}) {
    const std::string other = side == "text" ? "image" : "text";
    for (int64_t i = 0; i < c.fusion_layers; ++i) {
      const std::string index = std::to_string(i);
      const LayerPlace where{(side == "text" ? "FL" : "FV") + index, "cross_modal_" + side + "_layers." + index + ".", "fusion", side, other};
      d.layers.push_back(BertLayerDescriptor(where, FusionOptions(c), c.adapters));
    }
  }
  const std::vector<std::string> fusion = d.LayerNames();
  // the language encoder carries skip adapters only: DAS leaves the rest of it as published
  for (LayerDescriptor& layer : RobertaLayerDescriptors(TextConfig(c.text), "text_transformer.", "text", false)) d.layers.push_back(layer);
  d.scopes = {{"global", d.LayerNames()}, {"fusion", fusion}};
  return d;
}

MeterModel::MeterModel(const MeterConfig& c, const MethodHooks& hooks)
    : TaskModel(hooks),
      descriptor_(DescribeMeter(c)),
      vit_model(register_module("vit_model", ClipModel(c.vision))),
      text_transformer(register_module("text_transformer", RobertaModel(TextConfig(c.text), TextLayers(descriptor_), hooks.plan))),
      cross_modal_text_transform(register_module("cross_modal_text_transform", torch::nn::Linear(c.text.hidden, c.hidden))),
      cross_modal_image_transform(register_module("cross_modal_image_transform", torch::nn::Linear(c.vision.hidden, c.hidden))),
      token_type_embeddings(register_module("token_type_embeddings", torch::nn::Embedding(c.task == "nlvr2" ? 3 : 2, c.hidden))),
      cross_modal_text_layers(register_module("cross_modal_text_layers", torch::nn::ModuleList())),
      cross_modal_image_layers(register_module("cross_modal_image_layers", torch::nn::ModuleList())),
      cross_modal_text_pooler(register_module("cross_modal_text_pooler", blocks::Pooler(c.hidden))),
      cross_modal_image_pooler(register_module("cross_modal_image_pooler", blocks::Pooler(c.hidden))),
      config(c),
      cache_(c.feature_cache_bytes) {
  TORCH_CHECK(c.text.hidden == c.hidden, "METER's token4classifier needs the language encoder's hidden size (", c.text.hidden,
              ") to equal the fusion hidden size (", c.hidden, ")");
  for (int64_t i = 0; i < c.fusion_layers; ++i) {
    // text and image layers interleaved, as they were always built (initialisation order)
    for (auto* list : {&cross_modal_text_layers, &cross_modal_image_layers}) {
      const LayerDescriptor& entry = descriptor_.layers[static_cast<size_t>(i + (list == &cross_modal_text_layers ? 0 : c.fusion_layers))];
      blocks::BertLayerOptions options = FusionOptions(c);
      options.attachments = hooks.plan(entry);
      (*list)->push_back(blocks::BertLayer(options));
    }
  }
  if (c.classifier_token) token4classifier = register_parameter("token4classifier", at::zeros({1, 1, c.hidden}));
  if (c.task == "vqa") {
    vqa_classifier = register_module("vqa_classifier", blocks::ClassifierHead(2 * c.hidden, 2 * c.hidden, c.num_answers));
  } else if (c.task == "nlvr2") {
    nlvr2_classifier = register_module("nlvr2_classifier", blocks::ClassifierHead(4 * c.hidden, 2 * c.hidden, 2));
  } else if (c.task == "irtr") {
    itm_score = register_module("itm_score", blocks::ItmHead(2 * c.hidden));
    rank_output = register_module("rank_output", torch::nn::Linear(2 * c.hidden, 1));
    blocks::InitRankFromItm(rank_output, itm_score);
  } else {
    TORCH_CHECK(false, "unknown METER task '", c.task, "' (expected vqa, nlvr2 or irtr)");
  }
  // the parts METER initialises itself (the rest comes from CLIP, RoBERTa or a METER checkpoint)
  for (torch::nn::Module* module : {static_cast<torch::nn::Module*>(cross_modal_text_transform.get()),
                                    static_cast<torch::nn::Module*>(cross_modal_image_transform.get()),
                                    static_cast<torch::nn::Module*>(token_type_embeddings.get()),
                                    static_cast<torch::nn::Module*>(cross_modal_text_pooler.get()),
                                    static_cast<torch::nn::Module*>(cross_modal_image_pooler.get())}) {
    blocks::InitBertWeights(*module);
  }
  {
    torch::NoGradGuard no_grad;
    if (c.task == "nlvr2") token_type_embeddings->weight[2].copy_(token_type_embeddings->weight[1]);
  }
  if (token4classifier.defined()) InitToken4Classifier();
  ApplyFreezing();
}

void MeterModel::InitToken4Classifier() {
  // DAS starts token4classifier as the language encoder's embedding of <s> (at its position).
  torch::NoGradGuard no_grad;
  auto& embeddings = text_transformer->embeddings;
  const bool training = embeddings->is_training();
  embeddings->eval();
  const at::Tensor ids = at::full({1, 1}, config.classifier_token_id, at::TensorOptions().dtype(at::kLong).device(token4classifier.device()));
  token4classifier.copy_(embeddings(ids));
  embeddings->train(training);
}

void MeterModel::OnTrainableChanged() {
  vision_frozen_ = true;
  for (const auto& param : vit_model->parameters()) vision_frozen_ = vision_frozen_ && !param.requires_grad();
  text_embeddings_train_ = false;
  for (const auto& param : text_transformer->embeddings->parameters()) text_embeddings_train_ = text_embeddings_train_ || param.requires_grad();
  const size_t layers = text_transformer->encoder->layer->size();
  text_frozen_layers_ = 0;
  while (!text_embeddings_train_ && text_frozen_layers_ < layers) {
    // a skip adapter runs only when its layer is skipped, which TextFeatures checks per step
    bool trains = false;
    for (const auto& param : text_transformer->encoder->layer[text_frozen_layers_]->named_parameters(true)) {
      trains = trains || (param.value().requires_grad() && !StartsWith(param.key(), descriptor_.skip_adapter + "."));
    }
    if (trains) break;
    ++text_frozen_layers_;
  }
}

at::Tensor MeterModel::TextFeatures(const at::Tensor& ids, const at::Tensor& keep, const at::Tensor& keys, const std::vector<bool>& skipped) {
  const auto layers = static_cast<size_t>(config.text.layers);
  const size_t offset = 2 * static_cast<size_t>(config.fusion_layers);
  const std::vector<bool> text_skipped(skipped.begin() + static_cast<std::ptrdiff_t>(offset), skipped.end());
  // the frozen prefix: up to the first layer that is skipped (its skip adapter trains) or trains
  size_t first = 0;
  while (first < text_frozen_layers_ && !text_skipped[first]) ++first;
  at::Tensor x;
  {
    c10::optional<torch::NoGradGuard> frozen;
    if (!text_embeddings_train_) frozen.emplace();
    auto compute = [&](const at::Tensor& rows) {
      const at::Tensor part_ids = rows.defined() ? ids.index_select(0, rows.to(ids.device())) : ids;
      const at::Tensor part_keep = rows.defined() ? keep.index_select(0, rows.to(keep.device())) : keep;
      return text_transformer->RunLayers(text_transformer->embeddings(part_ids), part_keep, text_skipped, 0, first);
    };
    if (first == layers && cache_.enabled()) {
      std::vector<uint64_t> prints;
      if (keys.defined()) {
        for (int64_t i = 0; i < ids.size(0); ++i) prints.push_back(Fingerprint({ids[i], keep[i]}));
      }
      x = cache_.Get("text", keys, prints, compute);
    } else {
      if (cache_.enabled()) cache_.CountBypass("text", first < text_frozen_layers_ ? "skip" : "trains");
      x = compute({});
    }
  }
  text_prefix_graph_ = x.requires_grad() ? 1 : 0;
  frozen_text_layers_ = static_cast<double>(first);
  if (first < layers) x = text_transformer->RunLayers(x, keep, text_skipped, first, layers);
  return x;
}

at::Tensor MeterModel::ImageFeatures(const Images& images) {
  auto compute = [&](const at::Tensor& rows) {
    return vit_model->visual(rows.defined() ? images.pixels.index_select(0, rows.to(images.pixels.device())) : images.pixels);
  };
  if (!vision_frozen_) {
    // the vision tower trains (full tuning): a graph, and nothing cached
    if (cache_.enabled()) cache_.CountBypass("image", "trains");
    const at::Tensor features = compute({});
    vision_graph_ = features.requires_grad() ? 1 : 0;
    return features;
  }
  torch::NoGradGuard frozen;
  std::vector<uint64_t> prints;
  if (cache_.enabled() && images.keys.defined()) {
    for (int64_t i = 0; i < images.pixels.size(0); ++i) prints.push_back(Fingerprint({images.pixels[i]}));
  }
  at::Tensor features = cache_.Get("image", images.keys, prints, compute);
  vision_graph_ = features.requires_grad() ? 1 : 0;
  return features;
}

at::Tensor MeterModel::Fuse(const at::Tensor& text, const at::Tensor& keep, const at::Tensor& image, const at::Tensor& image_types,
                            int64_t image_repeat, const std::vector<bool>& skipped) {
  at::Tensor x = cross_modal_text_transform(text);
  at::Tensor y = cross_modal_image_transform(image);
  if (image_repeat > 1) y = y.repeat_interleave(image_repeat, 0);
  if (token4classifier.defined()) x = at::cat({token4classifier.expand({x.size(0), 1, x.size(2)}), x.slice(1, 1)}, 1);
  x = x + token_type_embeddings(at::zeros({1, 1}, image_types.options()));
  y = y + token_type_embeddings(image_types).unsqueeze(1);
  const at::Tensor text_mask = blocks::AdditiveMask(keep, x.scalar_type());
  const at::Tensor image_mask;  // every image token is real
  const auto layers = static_cast<size_t>(config.fusion_layers);
  for (size_t i = 0; i < layers; ++i) {
    auto text_layer = cross_modal_text_layers->ptr<blocks::BertLayerImpl>(i);
    auto image_layer = cross_modal_image_layers->ptr<blocks::BertLayerImpl>(i);
    at::Tensor x_next, y_next;
    {
      blocks::LayerScope scope("FL" + std::to_string(i));
      x_next = skipped[i] ? text_layer->Skip(x) : text_layer->forward(x, text_mask, y, image_mask);
    }
    {
      blocks::LayerScope scope("FV" + std::to_string(i));
      y_next = skipped[layers + i] ? image_layer->Skip(y) : image_layer->forward(y, image_mask, x, text_mask);
    }
    x = x_next;
    y = y_next;
  }
  return at::cat({cross_modal_text_pooler(x), cross_modal_image_pooler(y)}, 1);
}

MeterModel::Images MeterModel::ReadImages(const Batch& batch, const std::string& suffix) const {
  const ImageInput image = ReadImage(batch, "pixel_values" + suffix, "pixel_mask" + suffix, config.vision.patch_size);
  return {image.pixels, ReadKeys(batch, "image_keys" + suffix, image.pixels.size(0))};
}

ModelOutput MeterModel::Run(const Batch& batch, const std::vector<bool>& skipped) {
  TORCH_CHECK(skipped.size() == descriptor_.layers.size(), "skip mask has ", skipped.size(), " entries for ", descriptor_.layers.size(), " layers");
  const TextInput text = ReadText(batch, text_transformer->embeddings->MaxTokens());
  const int64_t rows = text.ids.size(0);
  const at::Tensor text_keys = ReadKeys(batch, "text_keys", rows);
  ModelOutput out;
  if (config.task == "nlvr2") {
    const Images left = ReadImages(batch, ""), right = ReadImages(batch, "_1");
    TORCH_CHECK(left.pixels.size(0) == rows && right.pixels.size(0) == rows, "NLVR2 needs one image pair per row of input_ids (", rows,
                "); got ", left.pixels.size(0), " and ", right.pixels.size(0));
    const at::Tensor features = TextFeatures(text.ids, text.keep, text_keys, skipped);
    const bool keyed = left.keys.defined() && right.keys.defined();
    const at::Tensor images = ImageFeatures({at::cat({left.pixels, right.pixels}), keyed ? at::cat({left.keys, right.keys}) : at::Tensor()});
    // both passes (image types 1 and 2) in one batch
    const at::Tensor types = at::cat({at::ones({rows}, text.ids.options()), at::full({rows}, 2, text.ids.options())});
    const at::Tensor pooled =
        Fuse(at::cat({features, features}), at::cat({text.keep, text.keep}), images, types, 1, skipped);
    out.logits = nlvr2_classifier->forward(at::cat({pooled.slice(0, 0, rows), pooled.slice(0, rows)}, 1));
    const at::Tensor labels = batch.Optional("labels");
    if (labels.defined()) {
      out.loss = at::cross_entropy_loss(out.logits, blocks::ClassLabels(labels, rows, 2, "labels"));
      out.loss_parts.emplace_back("nlvr2", out.loss);
    }
    return out;
  }
  const Images images = ReadImages(batch, "");
  const int64_t count = images.pixels.size(0);
  TORCH_CHECK(rows % count == 0 && (config.task == "irtr" || rows == count), "input_ids has ", rows, " rows for ", count,
              " images (", config.task == "irtr" ? "retrieval takes a whole number of captions per image" : "one image per row", ")");
  const int64_t group = rows / count;
  const at::Tensor pooled = Fuse(TextFeatures(text.ids, text.keep, text_keys, skipped), text.keep, ImageFeatures(images),
                                 at::ones({rows}, text.ids.options()), group, skipped);
  if (config.task == "vqa") {
    out.logits = vqa_classifier->forward(pooled);
    const at::Tensor targets = batch.Optional("targets");
    if (targets.defined()) {
      out.loss = blocks::VqaLoss(out.logits, targets);
      out.loss_parts.emplace_back("vqa", out.loss);
    }
    return out;
  }
  out.logits = rank_output(pooled).view({count, group});
  const at::Tensor labels = batch.Optional("labels");
  if (labels.defined()) {
    out.loss = blocks::RankLoss(out.logits, labels);
    out.loss_parts.emplace_back("irtr", out.loss);
  }
  return out;
}

bool MeterModel::IsHead(const std::string& name) const {
  return StartsWith(name, "vqa_classifier.") || StartsWith(name, "nlvr2_classifier.") || StartsWith(name, "rank_output.") ||
         StartsWith(name, "itm_score.");
}

bool MeterModel::IsFrozenHead(const std::string& name) const { return StartsWith(name, "itm_score."); }  // only initialises the rank head

bool MeterModel::IsTaskPart(const std::string& name) const {
  static const char* const kTask[] = {"cross_modal_text_pooler.", "cross_modal_image_pooler.", "token_type_embeddings.",
                                      "cross_modal_text_transform.", "cross_modal_image_transform."};
  for (const char* prefix : kTask) {
    if (StartsWith(name, prefix)) return true;
  }
  return name == "token4classifier";
}

void MeterModel::AfterLoad(const LoadReport& report) {
  bool rank = false, itm = false, token = false, words = false;
  for (const std::string& name : report.loaded) {
    rank = rank || StartsWith(name, "rank_output.");
    itm = itm || name == "itm_score.fc.weight";
    token = token || name == "token4classifier";
    words = words || StartsWith(name, "text_transformer.embeddings.");
  }
  if (rank_output && itm && !rank) blocks::InitRankFromItm(rank_output, itm_score);
  if (token4classifier.defined() && words && !token) InitToken4Classifier();
}

std::vector<std::pair<std::string, double>> MeterModel::Counters() const {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [name, value] : cache_.Counters()) out.emplace_back("cache." + name, value);
  out.emplace_back("frozen.vision.graph", vision_graph_);
  out.emplace_back("frozen.text.graph", text_prefix_graph_);
  out.emplace_back("frozen.text.layers", frozen_text_layers_);
  return out;
}

}  // namespace das::models
