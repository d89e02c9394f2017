#include "models/vl_batch.h"

#include <ATen/ATen.h>

namespace das::models {

TextInput ReadText(const Batch& batch, int64_t max_tokens) {
  const at::Tensor& raw = batch.Require("input_ids");
  TORCH_CHECK(raw.dim() == 2 && raw.size(0) > 0 && raw.size(1) > 0, "input_ids must be [batch, tokens], got ", raw.sizes());
  TORCH_CHECK(!at::isFloatingType(raw.scalar_type()), "input_ids must hold integers, got ", raw.scalar_type());
  TORCH_CHECK(raw.size(1) <= max_tokens, "input_ids has ", raw.size(1), " tokens; this model takes at most ", max_tokens);
  TextInput text{raw.to(at::kLong), {}};
  const at::Tensor mask = batch.Optional("attention_mask");
  if (mask.defined()) {
    TORCH_CHECK(mask.sizes() == raw.sizes(), "attention_mask must have the shape of input_ids ", raw.sizes(), ", got ", mask.sizes());
    text.keep = mask.ne(0);
  } else {
    text.keep = at::ones(raw.sizes(), raw.options().dtype(at::kBool));
  }
  return text;
}

ImageInput ReadImage(const Batch& batch, const std::string& field, const std::string& mask_field, int64_t min_side) {
  const at::Tensor& pixels = batch.Require(field);
  TORCH_CHECK(pixels.dim() == 4 && pixels.size(1) == 3, field, " must be [images, 3, height, width], got ", pixels.sizes());
  TORCH_CHECK(at::isFloatingType(pixels.scalar_type()), field, " must hold floating-point pixels, got ", pixels.scalar_type());
  TORCH_CHECK(pixels.size(0) > 0 && pixels.size(2) >= min_side && pixels.size(3) >= min_side, field, " of shape ", pixels.sizes(),
              " is smaller than one ", min_side, "x", min_side, " patch");
  ImageInput image{pixels, batch.Optional(mask_field)};
  if (image.mask.defined()) {
    TORCH_CHECK(image.mask.dim() == 3 && image.mask.size(0) == pixels.size(0) && image.mask.size(1) == pixels.size(2) &&
                    image.mask.size(2) == pixels.size(3),
                mask_field, " must be [", pixels.size(0), ", ", pixels.size(2), ", ", pixels.size(3), "] like ", field, ", got ",
                image.mask.sizes());
  }
  return image;
}

at::Tensor ReadKeys(const Batch& batch, const std::string& field, int64_t rows) {
  const at::Tensor keys = batch.Optional(field);
  if (!keys.defined()) return keys;
  TORCH_CHECK(keys.dim() == 1 && keys.size(0) == rows, field, " must be [", rows, "] (one key per row), got ", keys.sizes());
  TORCH_CHECK(!at::isFloatingType(keys.scalar_type()), field, " must hold integers, got ", keys.scalar_type());
  return keys.to(at::kLong).cpu();
}

}  // namespace das::models
