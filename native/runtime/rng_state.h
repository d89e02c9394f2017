// The state of libtorch's default generators (dropout and random init draw from them), saved in
// checkpoints so that a resumed run draws exactly what an uninterrupted one would.
#pragma once

#include <ATen/core/Tensor.h>

namespace das {

// CPU generator state as a uint8 tensor.
at::Tensor GetCpuRngState();
void SetCpuRngState(const at::Tensor& state);

}  // namespace das
