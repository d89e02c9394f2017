#include "models/vilt.h"
#include "common/strings.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <map>

#include "models/vl_batch.h"

namespace das::models {

namespace {

blocks::TextEmbeddingsOptions TextOptions(const ViltConfig& c) {
  blocks::TextEmbeddingsOptions o;
  o.vocab_size = c.vocab_size;
  o.hidden = c.hidden;
  o.max_positions = c.max_text_len;
  o.type_vocab_size = c.type_vocab_size;
  o.pad_token_id = 0;
  o.eps = c.text_eps;
  o.dropout = c.dropout;
  o.positions = blocks::PositionStyle::kBert;
  return o;
}

blocks::VitBlockOptions BlockOptions(const ViltConfig& c) {
  blocks::VitBlockOptions o;
  o.hidden = c.hidden;
  o.heads = c.heads;
  o.mlp = c.mlp;
  o.eps = c.eps;
  o.dropout = c.dropout;
  o.attention_dropout = 0.0;  // timm's attn_drop in ViLT
  o.activation = blocks::Activation::kGelu;
  return o;
}

}  // namespace

ArchitectureDescriptor DescribeVilt(const ViltConfig& c) {
  ArchitectureDescriptor d;
  d.architecture = "vilt";
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string index = std::to_string(i);
    d.layers.push_back(VitBlockDescriptor({"En" + index, "transformer.blocks." + index + ".", "encoder", "joint", ""}, BlockOptions(c), c.adapters));
  }
  d.scopes = {{"global", d.LayerNames()}};
  return d;
}

PatchEmbedImpl::PatchEmbedImpl(int64_t hidden, int64_t patch, bool bias)
    : proj(register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, hidden, patch).stride(patch).bias(bias)))) {}

ViltTransformerImpl::ViltTransformerImpl(const ViltConfig& c, const std::vector<LayerDescriptor>& layers, const AttachmentPlanner& plan)
    : patch_embed(register_module("patch_embed", PatchEmbed(c.hidden, c.patch_size, true))),
      blocks(register_module("blocks", torch::nn::ModuleList())),
      norm(register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden}).eps(c.eps)))),
      pos_drop(register_module("pos_drop", torch::nn::Dropout(c.dropout))),
      grid(c.image_size / c.patch_size) {
  TORCH_CHECK(grid >= 1, "image_size ", c.image_size, " is smaller than one patch of ", c.patch_size);
  cls_token = register_parameter("cls_token", at::zeros({1, 1, c.hidden}));
  pos_embed = register_parameter("pos_embed", at::zeros({1, grid * grid + 1, c.hidden}));
  {
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(cls_token, 0.0, 0.02);
    torch::nn::init::normal_(pos_embed, 0.0, 0.02);
  }
  for (const LayerDescriptor& entry : layers) {
    blocks::VitBlockOptions options = BlockOptions(c);
    options.attachments = plan(entry);
    blocks->push_back(blocks::VitBlock(options));
  }
}

std::pair<at::Tensor, at::Tensor> ViltTransformerImpl::Embed(const at::Tensor& pixels, const at::Tensor& pixel_mask) {
  const at::Tensor patches = patch_embed->proj(pixels.to(cls_token.scalar_type()));  // [B, D, gh, gw]
  const int64_t batch = patches.size(0), dim = patches.size(1), gh = patches.size(2), gw = patches.size(3);
  // Real pixels: the collate's mask, else (as the original) the pixels that are not all zero.
  const at::Tensor real = pixel_mask.defined() ? pixel_mask.ne(0) : pixels.sum(1).ne(0);
  // A patch is real when its top-left pixel is (nearest-neighbour sampling, as the original).
  const at::Tensor patch_keep = at::upsample_nearest2d(real.unsqueeze(1).to(at::kFloat), {gh, gw}).squeeze(1).ne(0);  // [B, gh, gw]
  const at::Tensor rows = patch_keep.select(2, 0).sum(1).cpu(), cols = patch_keep.select(1, 0).sum(1).cpu();
  // The 12x12 table resized to each image's own grid (bilinear, corners aligned), zero-padded to the batch grid.
  const at::Tensor spatial = pos_embed.slice(1, 1).transpose(1, 2).reshape({1, dim, grid, grid});
  std::map<std::pair<int64_t, int64_t>, at::Tensor> resized;
  std::vector<at::Tensor> per_image;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t h = rows[b].item<int64_t>(), w = cols[b].item<int64_t>();
    TORCH_CHECK(h > 0 && w > 0, "image ", b, " has no real pixels in its top-left patch (pixel mask or pixel values all zero there)");
    auto& table = resized[{h, w}];
    if (!table.defined()) table = at::constant_pad_nd(at::upsample_bilinear2d(spatial, {h, w}, /*align_corners=*/true), {0, gw - w, 0, gh - h});
    per_image.push_back(table);
  }
  const at::Tensor positions = at::cat(per_image, 0).flatten(2).transpose(1, 2);  // [B, gh*gw, D]
  const at::Tensor tokens = patches.flatten(2).transpose(1, 2) + positions;
  const at::Tensor cls = (cls_token + pos_embed.slice(1, 0, 1)).expand({batch, 1, dim});
  const at::Tensor keep = at::cat({at::ones({batch, 1}, patch_keep.options()), patch_keep.flatten(1)}, 1);
  return {pos_drop(at::cat({cls, tokens}, 1)), keep};
}

ViltModel::ViltModel(const ViltConfig& c, const MethodHooks& hooks)
    : TaskModel(hooks),
      descriptor_(DescribeVilt(c)),
      text_embeddings(register_module("text_embeddings", blocks::TextEmbeddings(TextOptions(c)))),
      token_type_embeddings(register_module("token_type_embeddings", torch::nn::Embedding(c.task == "nlvr2" ? 3 : 2, c.hidden))),
      transformer(register_module("transformer", ViltTransformer(c, descriptor_.layers, hooks.plan))),
      pooler(register_module("pooler", blocks::Pooler(c.hidden))),
      config(c) {
  if (c.task == "vqa") {
    vqa_classifier = register_module("vqa_classifier", blocks::ClassifierHead(c.hidden, 2 * c.hidden, c.num_answers));
  } else if (c.task == "nlvr2") {
    nlvr2_classifier = register_module("nlvr2_classifier", blocks::ClassifierHead(2 * c.hidden, 2 * c.hidden, 2));
  } else if (c.task == "irtr") {
    itm_score = register_module("itm_score", blocks::ItmHead(c.hidden));
    rank_output = register_module("rank_output", torch::nn::Linear(c.hidden, 1));
    blocks::InitRankFromItm(rank_output, itm_score);
  } else {
    TORCH_CHECK(false, "unknown ViLT task '", c.task, "' (expected vqa, nlvr2 or irtr)");
  }
  blocks::InitBertWeights(*token_type_embeddings);
  blocks::InitBertWeights(*pooler);
  {
    // the NLVR2 table's third row (second image) starts as the image row
    torch::NoGradGuard no_grad;
    if (c.task == "nlvr2") token_type_embeddings->weight[2].copy_(token_type_embeddings->weight[1]);
  }
  ApplyFreezing();
}

at::Tensor ViltModel::Encode(const at::Tensor& input_ids, const at::Tensor& keep_text, const at::Tensor& pixels, const at::Tensor& pixel_mask,
                             const at::Tensor& image_types, int64_t repeat, const std::vector<bool>& skipped) {
  at::Tensor text = text_embeddings(input_ids);
  text = text + token_type_embeddings(at::zeros({1, 1}, input_ids.options()));
  auto [image, keep_image] = transformer->Embed(pixels, pixel_mask);
  if (repeat > 1) {
    image = image.repeat_interleave(repeat, 0);
    keep_image = keep_image.repeat_interleave(repeat, 0);
  }
  image = image + token_type_embeddings(image_types).unsqueeze(1);
  at::Tensor x = at::cat({text, image}, 1);
  const at::Tensor mask = blocks::AdditiveMask(at::cat({keep_text, keep_image}, 1), x.scalar_type());
  for (size_t i = 0; i < transformer->blocks->size(); ++i) {
    blocks::LayerScope scope(descriptor_.layers[i].name);
    auto block = transformer->blocks->ptr<blocks::VitBlockImpl>(i);
    x = skipped[i] ? block->Skip(x) : block->forward(x, mask);
  }
  return pooler(transformer->norm(x));
}

ModelOutput ViltModel::Run(const Batch& batch, const std::vector<bool>& skipped) {
  TORCH_CHECK(skipped.size() == static_cast<size_t>(config.layers), "skip mask has ", skipped.size(), " entries for ", config.layers, " layers");
  const TextInput text = ReadText(batch, config.max_text_len);
  if (config.task == "nlvr2") return RunNlvr2(batch, text.ids, text.keep, skipped);
  if (config.task == "irtr") return RunRetrieval(batch, text.ids, text.keep, skipped);
  const ImageInput image = ReadImage(batch, "pixel_values", "pixel_mask", config.patch_size);
  const int64_t rows = text.ids.size(0);
  TORCH_CHECK(image.pixels.size(0) == rows, "pixel_values has ", image.pixels.size(0), " images for ", rows, " rows of input_ids");
  const at::Tensor types = at::ones({rows}, text.ids.options());
  ModelOutput out;
  out.logits = vqa_classifier->forward(Encode(text.ids, text.keep, image.pixels, image.mask, types, 1, skipped));
  const at::Tensor targets = batch.Optional("targets");
  if (targets.defined()) {
    out.loss = blocks::VqaLoss(out.logits, targets);
    out.loss_parts.emplace_back("vqa", out.loss);
  }
  return out;
}

ModelOutput ViltModel::RunNlvr2(const Batch& batch, const at::Tensor& ids, const at::Tensor& keep, const std::vector<bool>& skipped) {
  const ImageInput left = ReadImage(batch, "pixel_values", "pixel_mask", config.patch_size);
  const ImageInput right = ReadImage(batch, "pixel_values_1", "pixel_mask_1", config.patch_size);
  const int64_t rows = ids.size(0);
  TORCH_CHECK(left.pixels.size(0) == rows && right.pixels.size(0) == rows, "NLVR2 needs one image pair per row of input_ids (", rows,
              "); got ", left.pixels.size(0), " and ", right.pixels.size(0));
  at::Tensor pooled;
  const bool same_shape = left.pixels.sizes() == right.pixels.sizes() && left.mask.defined() == right.mask.defined();
  if (same_shape) {
    // both passes in one batch (image types 1 and 2): the same computation, better GEMM shapes
    const at::Tensor types = at::cat({at::ones({rows}, ids.options()), at::full({rows}, 2, ids.options())});
    const at::Tensor both = Encode(at::cat({ids, ids}), at::cat({keep, keep}), at::cat({left.pixels, right.pixels}),
                                   left.mask.defined() ? at::cat({left.mask, right.mask}) : at::Tensor(), types, 1, skipped);
    pooled = at::cat({both.slice(0, 0, rows), both.slice(0, rows)}, 1);
  } else {
    const at::Tensor first = Encode(ids, keep, left.pixels, left.mask, at::ones({rows}, ids.options()), 1, skipped);
    const at::Tensor second = Encode(ids, keep, right.pixels, right.mask, at::full({rows}, 2, ids.options()), 1, skipped);
    pooled = at::cat({first, second}, 1);
  }
  ModelOutput out;
  out.logits = nlvr2_classifier->forward(pooled);
  const at::Tensor labels = batch.Optional("labels");
  if (labels.defined()) {
    out.loss = at::cross_entropy_loss(out.logits, blocks::ClassLabels(labels, rows, 2, "labels"));
    out.loss_parts.emplace_back("nlvr2", out.loss);
  }
  return out;
}

ModelOutput ViltModel::RunRetrieval(const Batch& batch, const at::Tensor& ids, const at::Tensor& keep, const std::vector<bool>& skipped) {
  const ImageInput image = ReadImage(batch, "pixel_values", "pixel_mask", config.patch_size);
  const int64_t images = image.pixels.size(0), rows = ids.size(0);
  TORCH_CHECK(rows % images == 0, "retrieval: input_ids has ", rows, " rows, not a whole number of captions for each of ", images, " images");
  const int64_t group = rows / images;
  const at::Tensor pooled = Encode(ids, keep, image.pixels, image.mask, at::ones({rows}, ids.options()), group, skipped);
  ModelOutput out;
  out.logits = rank_output(pooled).view({images, group});
  const at::Tensor labels = batch.Optional("labels");
  if (labels.defined()) {
    const at::Tensor positives = blocks::ClassLabels(labels, images, group, "labels");
    const at::Tensor rank = blocks::RankLoss(out.logits, positives);
    out.loss_parts.emplace_back("irtr", rank);
    out.loss = rank;
    if (group > 1 && config.itm_weight != 0.0) {
      // ITM on each group's positive and one negative (the next caption), balanced as ViLT's ITM batches
      const at::Tensor itm = itm_score(pooled).view({images, group, 2});
      const at::Tensor negatives = (positives + 1).remainder(group);
      const at::Tensor picked = at::cat({itm.gather(1, positives.view({images, 1, 1}).expand({images, 1, 2})),
                                         itm.gather(1, negatives.view({images, 1, 1}).expand({images, 1, 2}))},
                                        1)
                                    .view({2 * images, 2});
      const at::Tensor targets = at::cat({at::ones({images, 1}, ids.options()), at::zeros({images, 1}, ids.options())}, 1).view({2 * images});
      const at::Tensor itm_loss = at::cross_entropy_loss(picked, targets);
      out.loss_parts.emplace_back("itm", itm_loss);
      out.loss = rank + config.itm_weight * itm_loss;
    }
  }
  return out;
}

bool ViltModel::IsHead(const std::string& name) const {
  return StartsWith(name, "vqa_classifier.") || StartsWith(name, "nlvr2_classifier.") || StartsWith(name, "rank_output.") ||
         StartsWith(name, "itm_score.");
}

bool ViltModel::IsTaskPart(const std::string& name) const { return StartsWith(name, "pooler.") || StartsWith(name, "token_type_embeddings."); }

// The matching head only scores the ITM loss of retrieval and stays frozen, as in DAS.
bool ViltModel::IsFrozenHead(const std::string& name) const { return StartsWith(name, "itm_score."); }

void ViltModel::AfterLoad(const LoadReport& report) {
  if (!rank_output) return;
  bool rank = false, itm = false;
  for (const std::string& name : report.loaded) {
    rank = rank || StartsWith(name, "rank_output.");
    itm = itm || name == "itm_score.fc.weight";
  }
  if (itm && !rank) blocks::InitRankFromItm(rank_output, itm_score);
}

}  // namespace das::models
