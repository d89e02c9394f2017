// Indexes the files torch.save writes, without running pickled code and without reading tensor
// data: the zip format (PyTorch >= 1.6: pytorch_model.bin, Lightning .ckpt) and the legacy format
// (magic number, protocol, system info, object, storage keys, raw storages). The tensors come from
// `state_dict` when the top-level dict has one (Lightning), else from the top-level dict (HF).
// Plain C++ (no torch).
#pragma once

#include "checkpoint/binary_file.h"
#include "checkpoint/checkpoint_index.h"

namespace das::checkpoint {

bool LooksLikeTorchLegacy(const BinaryFile& file);

CheckpointIndex IndexTorchZip(const BinaryFile& file);
CheckpointIndex IndexTorchLegacy(const BinaryFile& file);

}  // namespace das::checkpoint
