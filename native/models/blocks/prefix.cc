#include "models/blocks/prefix.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <tuple>

namespace das::blocks {

KeyValuePrefixImpl::KeyValuePrefixImpl(int64_t hidden, const PrefixSpec& spec) : spec(spec) {
  TORCH_CHECK(spec.length > 0, "a prefix needs a length >= 1, got ", spec.length);
  torch::NoGradGuard no_grad;
  // BERT-style start (normal(0, 0.02)), as prefix tuning initialises its embedding tables
  if (spec.form == PrefixForm::kProjected) {
    tokens = register_parameter("tokens", torch::nn::init::normal_(at::empty({spec.length, hidden}), 0.0, 0.02));
  } else {
    key = register_parameter("key", torch::nn::init::normal_(at::empty({spec.length, hidden}), 0.0, 0.02));
    value = register_parameter("value", torch::nn::init::normal_(at::empty({spec.length, hidden}), 0.0, 0.02));
  }
}

std::pair<at::Tensor, at::Tensor> KeyValuePrefixImpl::KeysValues(int64_t batch, const Projection& project) const {
  at::Tensor k = key, v = value;
  if (spec.form == PrefixForm::kProjected) std::tie(k, v) = project(tokens);
  return {k.unsqueeze(0).expand({batch, k.size(0), k.size(1)}), v.unsqueeze(0).expand({batch, v.size(0), v.size(1)})};
}

PrefixedKeys WithPrefix(const KeyValuePrefix& prefix, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                        const KeyValuePrefixImpl::Projection& project) {
  if (!prefix) return {k, v, mask};
  auto [pk, pv] = prefix->KeysValues(k.size(0), project);
  PrefixedKeys out{at::cat({pk.to(k.scalar_type()), k}, 1), at::cat({pv.to(v.scalar_type()), v}, 1), mask};
  if (mask.defined()) {
    // prefix positions are always attended to (additive 0)
    std::vector<int64_t> shape = mask.sizes().vec();
    shape.back() = prefix->length();
    out.mask = at::cat({at::zeros(shape, mask.options()), mask.expand({k.size(0), mask.size(1), mask.size(2), mask.size(3)})}, -1);
  }
  return out;
}

}  // namespace das::blocks
