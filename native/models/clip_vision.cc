#include "models/clip_vision.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <cmath>

#include "models/blocks/layers.h"

namespace das::models {

ClipTransformerImpl::ClipTransformerImpl(const ClipVisionConfig& c) : resblocks(register_module("resblocks", torch::nn::ModuleList())) {
  blocks::VitBlockOptions o;
  o.hidden = c.hidden;
  o.heads = c.heads;
  o.mlp = c.mlp;
  o.eps = c.eps;
  o.dropout = 0.0;
  o.attention_dropout = 0.0;
  o.activation = blocks::Activation::kQuickGelu;
  for (int64_t i = 0; i < c.layers; ++i) resblocks->push_back(blocks::VitBlock(o));
}

ClipVisionImpl::ClipVisionImpl(const ClipVisionConfig& c)
    : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, c.hidden, c.patch_size).stride(c.patch_size).bias(false)))),
      ln_pre(register_module("ln_pre", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden}).eps(c.eps)))),
      ln_post(register_module("ln_post", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden}).eps(c.eps)))),
      transformer(register_module("transformer", ClipTransformer(c))),
      config(c) {
  const int64_t grid = c.image_size / c.patch_size;
  TORCH_CHECK(grid >= 1 && grid * c.patch_size == c.image_size, "METER image_size ", c.image_size, " must be a multiple of the patch size ",
              c.patch_size);
  const double scale = 1.0 / std::sqrt(static_cast<double>(c.hidden));
  class_embedding = register_parameter("class_embedding", at::randn({c.hidden}) * scale);
  positional_embedding = register_parameter("positional_embedding", at::randn({grid * grid + 1, c.hidden}) * scale);
}

at::Tensor ClipVisionImpl::forward(const at::Tensor& pixels) {
  TORCH_CHECK(pixels.size(2) == config.image_size && pixels.size(3) == config.image_size, "METER takes ", config.image_size, "x",
              config.image_size, " images (its position table), got pixel_values ", pixels.sizes());
  at::Tensor x = conv1(pixels.to(class_embedding.scalar_type()));
  x = x.flatten(2).transpose(1, 2);
  const at::Tensor cls = class_embedding.view({1, 1, -1}).expand({x.size(0), 1, x.size(2)});
  x = ln_pre(at::cat({cls, x}, 1) + positional_embedding);
  for (size_t i = 0; i < transformer->resblocks->size(); ++i) x = transformer->resblocks->ptr<blocks::VitBlockImpl>(i)->forward(x, {});
  return ln_post(x);
}

}  // namespace das::models
