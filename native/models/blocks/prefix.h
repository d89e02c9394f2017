// Prefix tuning's attachment point: `length` extra key/value positions in front of an attention's
// keys and values, the same for every example. Stored either as the keys and values themselves
// (`key`, `value`: [length, hidden]) or as `length` virtual tokens (`tokens`) that the attention's
// own key and value projections turn into keys and values.
#pragma once

#include <torch/nn/module.h>

#include <functional>
#include <utility>

#include "models/blocks/attachments.h"

namespace das::blocks {

struct KeyValuePrefixImpl : torch::nn::Module {
  KeyValuePrefixImpl(int64_t hidden, const PrefixSpec& spec);

  // tokens [length, hidden] -> their keys and values through the attention's own projections
  using Projection = std::function<std::pair<at::Tensor, at::Tensor>(const at::Tensor&)>;
  // Keys and values [batch, length, hidden]; `project` is used by the projected form only.
  std::pair<at::Tensor, at::Tensor> KeysValues(int64_t batch, const Projection& project) const;
  int64_t length() const { return spec.length; }

  PrefixSpec spec;
  at::Tensor key, value, tokens;
};
TORCH_MODULE(KeyValuePrefix);

// Prepends `prefix` keys/values to k, v [B, T, H*D] and keeps them in the additive mask [B, 1, 1, T]
// (undefined stays undefined: no padding anywhere).
struct PrefixedKeys {
  at::Tensor k, v, mask;
};
PrefixedKeys WithPrefix(const KeyValuePrefix& prefix, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                        const KeyValuePrefixImpl::Projection& project);

}  // namespace das::blocks
