// CLIP's visual tower as METER uses it, under METER's names `vit_model.visual.*`:
// conv1 (no bias), class_embedding, positional_embedding (for this model's image size; checkpoints
// with another grid are resized at load time), ln_pre, pre-LN residual blocks with fused
// in-projection attention and QuickGELU, ln_post on every token. Frozen, no adapters.
// The blocks reuse blocks::VitBlock; CLIP's names map onto it in meter_checkpoint.cc.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>

namespace das::models {

struct ClipVisionConfig {
  int64_t hidden = 768;
  // METER's CLIP wrapper builds `layers - 1` residual blocks, so its ViT-B/16 runs 11 of CLIP's 12
  // and meter_clip16_288_roberta_pretrain.ckpt holds resblocks 0..10.
  int64_t layers = 11;
  int64_t heads = 12;
  int64_t mlp = 3072;
  int64_t patch_size = 16;
  int64_t image_size = 384;
  double eps = 1e-5;
};

struct ClipTransformerImpl : torch::nn::Module {
  explicit ClipTransformerImpl(const ClipVisionConfig& config);
  torch::nn::ModuleList resblocks{nullptr};
};
TORCH_MODULE(ClipTransformer);

struct ClipVisionImpl : torch::nn::Module {
  explicit ClipVisionImpl(const ClipVisionConfig& config);
  // pixels [B, 3, S, S] (S = image_size) -> [B, 1 + (S/patch)^2, hidden]
  at::Tensor forward(const at::Tensor& pixels);
  int64_t Tokens() const { return positional_embedding.size(0); }

  torch::nn::Conv2d conv1{nullptr};
  at::Tensor class_embedding, positional_embedding;
  torch::nn::LayerNorm ln_pre{nullptr}, ln_post{nullptr};
  ClipTransformer transformer{nullptr};
  ClipVisionConfig config;
};
TORCH_MODULE(ClipVision);

// METER's `vit_model`: the CLIP wrapper, of which only `visual` is used.
struct ClipModelImpl : torch::nn::Module {
  explicit ClipModelImpl(const ClipVisionConfig& config) : visual(register_module("visual", ClipVision(config))) {}
  ClipVision visual{nullptr};
};
TORCH_MODULE(ClipModel);

}  // namespace das::models
