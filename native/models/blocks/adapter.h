// The bottleneck adapter: up(ReLU(down(norm(x)))) * scale. Used three ways:
//  - parallel adapter: its output is added beside a frozen sub-layer's output;
//  - sequential adapter: x + adapter(x) after a sub-layer's output (Houlsby);
//  - skip adapter: x + adapter(x) replaces a whole skipped layer (DAS).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "models/blocks/attachments.h"

namespace das::blocks {

// LayerNorm with a learned per-channel scale and no shift.
struct ScaleNormImpl : torch::nn::Module {
  ScaleNormImpl(int64_t dim, double eps);
  at::Tensor forward(const at::Tensor& x);
  at::Tensor weight;
  double eps;
};
TORCH_MODULE(ScaleNorm);

struct AdapterImpl : torch::nn::Module {
  AdapterImpl(int64_t dim, const AdapterSpec& spec);

  // The adapter's own output (without any residual).
  at::Tensor forward(const at::Tensor& x);

  torch::nn::LayerNorm ln{nullptr};    // AdapterNorm::kAffine
  ScaleNorm scale_ln{nullptr};         // AdapterNorm::kScale (registered as "ln" too)
  torch::nn::Linear down{nullptr};
  torch::nn::Linear up{nullptr};
  double scale;
};
TORCH_MODULE(Adapter);

// Registers an adapter under `name` when the spec asks for one (bottleneck > 0); empty otherwise.
Adapter MakeAdapter(torch::nn::Module& owner, const char* name, int64_t dim, const AdapterSpec& spec);

// An adapter slot that may be empty: returns an undefined tensor then.
at::Tensor MaybeAdapt(Adapter& adapter, const at::Tensor& x);

// x + adapter(x) when the slot holds an adapter, else x.
at::Tensor MaybeResidualAdapt(Adapter& adapter, const at::Tensor& x);

// Adds `extra` to `base` when it is defined.
at::Tensor PlusIfDefined(const at::Tensor& base, const at::Tensor& extra);

}  // namespace das::blocks
