#include "checkpoint/checkpoint.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <unordered_set>

#include "checkpoint/binary_file.h"
#include "checkpoint/checkpoint_error.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/torch_save.h"
#include "checkpoint/zip_archive.h"

namespace das::checkpoint {

namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the readers copy little-endian file bytes straight into tensors");

CheckpointIndex IndexFile(const BinaryFile& file) {
  if (file.size() < 9) {
    throw CheckpointError(file.path(), "the file has " + std::to_string(file.size()) + " bytes, too short for any checkpoint format (truncated?)");
  }
  if (LooksLikeZip(file)) return IndexTorchZip(file);
  if (LooksLikeTorchLegacy(file)) return IndexTorchLegacy(file);
  uint8_t head[9];
  file.ReadAt(0, 9, head, "the file signature");
  if (head[8] == '{') return IndexSafetensors(file);
  throw CheckpointError(file.path(), "not a safetensors file, a torch.save zip archive or a legacy torch.save file (" +
                                         std::to_string(file.size()) + " bytes, unrecognised first bytes)");
}

// Defensive second check at the one place that creates views: whatever the reader, the view must
// lie inside the bytes read for its storage.
void CheckFits(const std::string& path, const TensorRecord& tensor, const StorageSpan& storage) {
  const uint64_t element = ElementSize(storage.dtype);
  __int128 last = tensor.storage_offset;
  bool empty = false;
  for (size_t i = 0; i < tensor.sizes.size(); ++i) {
    if (tensor.sizes[i] == 0) empty = true;
    last += static_cast<__int128>(std::max<int64_t>(tensor.sizes[i] - 1, 0)) * tensor.strides[i];
  }
  if (tensor.sizes.size() != tensor.strides.size() || tensor.storage_offset < 0 ||
      (!empty && (last + 1) * static_cast<__int128>(element) > static_cast<__int128>(storage.nbytes))) {
    throw CheckpointError(path, "tensor \"" + tensor.name + "\" reaches past the end of " + storage.id);
  }
}

at::Tensor ReadStorage(const BinaryFile& file, const StorageSpan& span) {
  const uint64_t element = ElementSize(span.dtype);
  at::Tensor storage = at::empty({static_cast<int64_t>(span.nbytes / element)}, at::TensorOptions().dtype(ToScalarType(span.dtype)));
  if (span.nbytes > 0) file.ReadAt(span.file_offset, span.nbytes, storage.data_ptr(), span.id);
  if (span.dtype == DType::kBool) {
    const auto* bytes = static_cast<const uint8_t*>(storage.data_ptr());
    if (std::any_of(bytes, bytes + span.nbytes, [](uint8_t b) { return b > 1; })) {
      throw CheckpointError(file.path(), span.id + " holds bool values other than 0 and 1");
    }
  }
  return storage;
}

}  // namespace

const char* FormatName(Format format) {
  switch (format) {
    case Format::kSafetensors: return "safetensors";
    case Format::kTorchZip: return "torch-zip";
    case Format::kTorchLegacy: return "torch-legacy";
  }
  return "unknown";
}

c10::ScalarType ToScalarType(DType dtype) {
  switch (dtype) {
    case DType::kF64: return at::kDouble;
    case DType::kF32: return at::kFloat;
    case DType::kF16: return at::kHalf;
    case DType::kBF16: return at::kBFloat16;
    case DType::kI64: return at::kLong;
    case DType::kI32: return at::kInt;
    case DType::kI16: return at::kShort;
    case DType::kI8: return at::kChar;
    case DType::kU8: return at::kByte;
    case DType::kBool: return at::kBool;
  }
  return at::kByte;
}

CheckpointIndex IndexCheckpoint(const std::string& path) {
  BinaryFile file(path);
  return IndexFile(file);
}

Checkpoint ReadCheckpoint(const std::string& path, const std::optional<std::vector<std::string>>& names) {
  BinaryFile file(path);
  CheckpointIndex index = IndexFile(file);
  std::optional<std::unordered_set<std::string>> wanted;
  if (names) wanted.emplace(names->begin(), names->end());

  Checkpoint checkpoint;
  checkpoint.format = index.format;
  checkpoint.metadata = std::move(index.metadata);
  std::vector<at::Tensor> storages(index.storages.size());  // read on first use, shared by views
  for (const TensorRecord& record : index.tensors) {
    if (wanted && !wanted->count(record.name)) continue;
    const StorageSpan& span = index.storages.at(record.storage);
    CheckFits(path, record, span);
    at::Tensor& storage = storages[record.storage];
    if (!storage.defined()) storage = ReadStorage(file, span);
    checkpoint.tensors.emplace_back(record.name, storage.as_strided(record.sizes, record.strides, record.storage_offset));
  }
  return checkpoint;
}

void WriteSafetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
  std::vector<at::Tensor> host;  // keeps the contiguous CPU copies alive while writing
  std::vector<RawTensor> raw;
  host.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    std::optional<DType> dtype;
    for (DType candidate : {DType::kF64, DType::kF32, DType::kF16, DType::kBF16, DType::kI64, DType::kI32, DType::kI16, DType::kI8,
                            DType::kU8, DType::kBool}) {
      if (ToScalarType(candidate) == tensor.scalar_type()) dtype = candidate;
    }
    if (!dtype) throw std::invalid_argument("Cannot write " + path + ": tensor \"" + name + "\" has dtype " + c10::toString(tensor.scalar_type()) + ", which safetensors files here do not hold");
    host.push_back(tensor.detach().to(at::kCPU).contiguous());
    const at::Tensor& cpu = host.back();
    raw.push_back(RawTensor{name, *dtype, cpu.sizes().vec(), cpu.data_ptr(), static_cast<uint64_t>(cpu.numel()) * cpu.element_size()});
  }
  WriteSafetensorsFile(path, raw, metadata);
}

}  // namespace das::checkpoint
