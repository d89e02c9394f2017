// The DAS adapter: up(ReLU(down(LayerNorm(x)))) * scale. Used two ways:
//  - parallel adapter: its output is added beside a frozen sub-layer's output;
//  - skip adapter: x + adapter(x) replaces a whole skipped layer.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

namespace das::blocks {

struct AdapterImpl : torch::nn::Module {
  AdapterImpl(int64_t dim, int64_t bottleneck, double scale = 1.0);

  // The adapter's own output (without any residual).
  at::Tensor forward(const at::Tensor& x);

  torch::nn::LayerNorm ln{nullptr};
  torch::nn::Linear down{nullptr};
  torch::nn::Linear up{nullptr};
  double scale;
};
TORCH_MODULE(Adapter);

// An adapter slot that may be empty (bottleneck 0): returns an undefined tensor then.
at::Tensor MaybeAdapt(Adapter& adapter, const at::Tensor& x);

// Adds `extra` to `base` when it is defined.
at::Tensor PlusIfDefined(const at::Tensor& base, const at::Tensor& extra);

}  // namespace das::blocks
