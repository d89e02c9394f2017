#include "models/blocks/adapter.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

namespace das::blocks {

namespace {

constexpr double kAdapterEps = 1e-5;  // torch.nn.LayerNorm's default, as the original adapters use

}  // namespace

ScaleNormImpl::ScaleNormImpl(int64_t dim, double eps) : eps(eps) { weight = register_parameter("weight", at::ones({dim})); }

at::Tensor ScaleNormImpl::forward(const at::Tensor& x) { return at::layer_norm(x, {weight.size(0)}, weight, {}, eps); }

AdapterImpl::AdapterImpl(int64_t dim, const AdapterSpec& spec) : scale(spec.scale) {
  if (spec.norm == AdapterNorm::kAffine) ln = register_module("ln", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(kAdapterEps)));
  if (spec.norm == AdapterNorm::kScale) scale_ln = register_module("ln", ScaleNorm(dim, kAdapterEps));
  down = register_module("down", torch::nn::Linear(dim, spec.bottleneck));
  up = register_module("up", torch::nn::Linear(spec.bottleneck, dim));
  torch::NoGradGuard no_grad;
  if (spec.init == AdapterInit::kZeroUp) {
    // down keeps Linear's default (kaiming-uniform) start; a zero up makes the adapter a no-op at first
    torch::nn::init::zeros_(down->bias);
    torch::nn::init::zeros_(up->weight);
    torch::nn::init::zeros_(up->bias);
    return;
  }
  for (auto* linear : {&down, &up}) {
    torch::nn::init::normal_((*linear)->weight, 0.0, 0.02);
    torch::nn::init::zeros_((*linear)->bias);
  }
}

at::Tensor AdapterImpl::forward(const at::Tensor& x) {
  const at::Tensor normed = ln ? ln(x) : scale_ln ? scale_ln(x) : x;
  at::Tensor out = up(torch::relu(down(normed)));
  return scale == 1.0 ? out : out * scale;
}

Adapter MakeAdapter(torch::nn::Module& owner, const char* name, int64_t dim, const AdapterSpec& spec) {
  if (spec.bottleneck <= 0) return Adapter(nullptr);
  return owner.register_module(name, Adapter(dim, spec));
}

at::Tensor MaybeAdapt(Adapter& adapter, const at::Tensor& x) { return adapter ? adapter(x) : at::Tensor(); }

at::Tensor MaybeResidualAdapt(Adapter& adapter, const at::Tensor& x) { return adapter ? x + adapter(x) : x; }

at::Tensor PlusIfDefined(const at::Tensor& base, const at::Tensor& extra) { return extra.defined() ? base + extra : base; }

}  // namespace das::blocks
