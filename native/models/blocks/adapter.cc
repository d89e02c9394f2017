#include "models/blocks/adapter.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/init.h>

namespace das::blocks {

AdapterImpl::AdapterImpl(int64_t dim, int64_t bottleneck, double scale)
    : ln(register_module("ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))),
      down(register_module("down", torch::nn::Linear(dim, bottleneck))),
      up(register_module("up", torch::nn::Linear(bottleneck, dim))),
      scale(scale) {
  torch::NoGradGuard no_grad;
  for (auto* linear : {&down, &up}) {
    torch::nn::init::normal_((*linear)->weight, 0.0, 0.02);
    torch::nn::init::zeros_((*linear)->bias);
  }
}

at::Tensor AdapterImpl::forward(const at::Tensor& x) {
  at::Tensor out = up(torch::relu(down(ln(x))));
  return scale == 1.0 ? out : out * scale;
}

at::Tensor MaybeAdapt(Adapter& adapter, const at::Tensor& x) { return adapter ? adapter(x) : at::Tensor(); }

at::Tensor PlusIfDefined(const at::Tensor& base, const at::Tensor& extra) { return extra.defined() ? base + extra : base; }

}  // namespace das::blocks
