#include "checkpoint/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "checkpoint/checkpoint_error.h"

namespace das::checkpoint {

namespace {

using Json = nlohmann::ordered_json;  // ordered: tensors and metadata keep the file's order

uint64_t UnsignedField(const std::string& path, const Json& value, const std::string& what) {
  if (!value.is_number_unsigned()) {
    throw CheckpointError(path, "safetensors header: expected a non-negative integer for " + what + " but found " + value.dump());
  }
  return value.get<uint64_t>();
}

Json ParseHeader(const std::string& path, const std::vector<uint8_t>& bytes) {
  // nlohmann keeps the last of duplicated keys silently; a duplicated tensor name is refused here.
  std::vector<std::unordered_set<std::string>> keys_at_depth;
  auto reject_duplicates = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::object_start) {
      if (keys_at_depth.size() <= static_cast<size_t>(depth)) keys_at_depth.resize(depth + 1);
      keys_at_depth[depth].clear();
    } else if (event == Json::parse_event_t::key && depth >= 1) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!keys_at_depth[depth - 1].insert(key).second) {
        throw CheckpointError(path, "safetensors header: the key \"" + key + "\" appears twice");
      }
    }
    return true;
  };
  try {
    return Json::parse(bytes.begin(), bytes.end(), reject_duplicates);
  } catch (const Json::exception& error) {
    throw CheckpointError(path, std::string("safetensors header is not valid JSON (") + error.what() + ")");
  }
}

void ReadMetadata(const std::string& path, const Json& value, CheckpointIndex& index) {
  if (!value.is_object()) throw CheckpointError(path, "safetensors header: __metadata__ must be an object of strings but is " + value.dump());
  for (const auto& [key, text] : value.items()) {
    if (!text.is_string()) {
      throw CheckpointError(path, "safetensors header: __metadata__[\"" + key + "\"] must be a string but is " + text.dump());
    }
    index.metadata.emplace_back(key, text.get<std::string>());
  }
}

struct Extent {
  uint64_t begin;
  uint64_t end;
  size_t tensor;
};

TensorRecord ReadEntry(const std::string& path, const std::string& name, const Json& entry, uint64_t data_size,
                       CheckpointIndex& index, std::vector<Extent>& extents) {
  const std::string where = "tensor \"" + name + "\"";
  if (!entry.is_object()) throw CheckpointError(path, "safetensors header: " + where + " must be an object but is " + entry.dump());
  for (const char* field : {"dtype", "shape", "data_offsets"}) {
    if (!entry.contains(field)) throw CheckpointError(path, "safetensors header: " + where + " has no \"" + field + "\"");
  }
  const Json& dtype_name = entry["dtype"];
  if (!dtype_name.is_string()) throw CheckpointError(path, "safetensors header: " + where + " dtype must be a string");
  const auto dtype = FromSafetensorsName(dtype_name.get<std::string>());
  if (!dtype) {
    throw CheckpointError(path, "safetensors header: " + where + " has dtype " + dtype_name.dump() +
                                    ", which is not one of F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL");
  }
  const Json& shape = entry["shape"];
  if (!shape.is_array()) throw CheckpointError(path, "safetensors header: " + where + " shape must be an array");
  TensorRecord record;
  record.name = name;
  uint64_t numel = 1;
  bool overflow = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    const uint64_t size = UnsignedField(path, shape[i], where + " shape[" + std::to_string(i) + "]");
    if (size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) overflow = true;
    if (size != 0 && numel > std::numeric_limits<uint64_t>::max() / size) overflow = true;
    numel *= size;
    record.sizes.push_back(static_cast<int64_t>(size));
  }
  const Json& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) {
    throw CheckpointError(path, "safetensors header: " + where + " data_offsets must be [begin, end] but is " + offsets.dump());
  }
  const uint64_t begin = UnsignedField(path, offsets[0], where + " data_offsets[0]");
  const uint64_t end = UnsignedField(path, offsets[1], where + " data_offsets[1]");
  if (begin > end || end > data_size) {
    throw CheckpointError(path, "safetensors header: " + where + " data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                                    ") are not inside the data section of " + std::to_string(data_size) + " bytes (truncated file?)");
  }
  const uint64_t element = ElementSize(*dtype);
  if (overflow || numel > std::numeric_limits<uint64_t>::max() / element || numel * element != end - begin) {
    throw CheckpointError(path, "safetensors header: " + where + " shape " + shape.dump() + " of " + dtype_name.get<std::string>() +
                                    " needs " + (overflow ? std::string("more than 2^64") : std::to_string(numel * element)) +
                                    " bytes but data_offsets span " + std::to_string(end - begin));
  }
  // Contiguous row-major strides.
  record.strides.assign(record.sizes.size(), 1);
  for (size_t i = record.sizes.size(); i-- > 1;) record.strides[i - 1] = record.strides[i] * std::max<int64_t>(record.sizes[i], 1);
  record.storage = index.storages.size();
  index.storages.push_back(StorageSpan{name, *dtype, begin, end - begin});
  extents.push_back(Extent{begin, end, index.tensors.size()});
  return record;
}

// Like the reference implementation: tensors tile the data section exactly, without gaps or overlaps.
void CheckCoverage(const std::string& path, std::vector<Extent> extents, const CheckpointIndex& index, uint64_t data_size) {
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  const Extent* previous = nullptr;
  for (const Extent& extent : extents) {
    if (extent.begin < covered) {
      throw CheckpointError(path, "safetensors header: tensor \"" + index.tensors[extent.tensor].name + "\" overlaps tensor \"" +
                                      index.tensors[previous->tensor].name + "\" (bytes " + std::to_string(extent.begin) + " to " +
                                      std::to_string(covered) + ")");
    }
    if (extent.begin > covered) {
      throw CheckpointError(path, "safetensors header: bytes " + std::to_string(covered) + " to " + std::to_string(extent.begin) +
                                      " of the data section belong to no tensor");
    }
    covered = extent.end;
    if (extent.end > extent.begin || !previous) previous = &extent;
  }
  if (covered != data_size) {
    throw CheckpointError(path, "safetensors: the data section has " + std::to_string(data_size) + " bytes but the tensors cover " +
                                    std::to_string(covered) + " (trailing bytes or a wrong header)");
  }
}

}  // namespace

CheckpointIndex IndexSafetensors(const BinaryFile& file) {
  const std::string& path = file.path();
  if (file.size() < 8) {
    throw CheckpointError(path, "safetensors: the file has " + std::to_string(file.size()) + " bytes, fewer than the 8-byte header length");
  }
  uint8_t length_bytes[8];
  file.ReadAt(0, 8, length_bytes, "the safetensors header length");
  const uint64_t header_size = LoadLE(length_bytes, 8);
  if (header_size < 2 || header_size > kMaxSafetensorsHeader) {
    throw CheckpointError(path, "safetensors: header length " + std::to_string(header_size) + " is not between 2 and " +
                                    std::to_string(kMaxSafetensorsHeader) + " bytes");
  }
  if (header_size > file.size() - 8) {
    throw CheckpointError(path, "safetensors: header length " + std::to_string(header_size) + " runs past the end of the file (" +
                                    std::to_string(file.size()) + " bytes): truncated or not a safetensors file");
  }
  const std::vector<uint8_t> header_bytes = file.ReadBytes(8, header_size, "the safetensors header");
  if (header_bytes[0] != '{') throw CheckpointError(path, "safetensors header does not start with '{'");
  const Json header = ParseHeader(path, header_bytes);
  if (!header.is_object()) throw CheckpointError(path, "safetensors header is not a JSON object");

  const uint64_t data_start = 8 + header_size;
  const uint64_t data_size = file.size() - data_start;
  CheckpointIndex index;
  index.format = Format::kSafetensors;
  std::vector<Extent> extents;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      ReadMetadata(path, entry, index);
      continue;
    }
    index.tensors.push_back(ReadEntry(path, name, entry, data_size, index, extents));
  }
  CheckCoverage(path, extents, index, data_size);
  for (StorageSpan& storage : index.storages) storage.file_offset += data_start;
  return index;
}

namespace {

class TempFile {
 public:
  explicit TempFile(const std::string& target) {
    std::random_device random;
    path_ = target + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(random());
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) throw FileError("Cannot write " + target + ": cannot create " + path_ + ": " + std::strerror(errno));
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }

  void Write(const void* data, uint64_t length) {
    auto* p = static_cast<const uint8_t*>(data);
    while (length > 0) {
      const ssize_t wrote = ::write(fd_, p, static_cast<size_t>(std::min<uint64_t>(length, uint64_t{1} << 30)));
      if (wrote < 0 && errno == EINTR) continue;
      if (wrote <= 0) Fail("write");
      p += wrote;
      length -= static_cast<uint64_t>(wrote);
    }
  }

  // fsync, close, rename over the target, fsync the folder so the rename itself is durable.
  void Commit(const std::string& target) {
    if (::fsync(fd_) != 0) Fail("fsync");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) Fail("close");
    if (::rename(path_.c_str(), target.c_str()) != 0) Fail("rename to " + target);
    committed_ = true;
    const size_t slash = target.find_last_of('/');
    const std::string folder = slash == std::string::npos ? "." : slash == 0 ? "/" : target.substr(0, slash);
    const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }

 private:
  [[noreturn]] void Fail(const std::string& step) { throw FileError("Cannot write " + path_ + " (" + step + "): " + std::strerror(errno)); }

  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

void WriteSafetensorsFile(const std::string& path, const std::vector<RawTensor>& tensors,
                          const std::vector<std::pair<std::string, std::string>>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json meta = Json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const RawTensor& tensor : tensors) {
    if (tensor.name == "__metadata__" || !names.insert(tensor.name).second) {
      throw std::invalid_argument("Cannot write " + path + ": tensor name \"" + tensor.name + "\" is reserved or repeated");
    }
    uint64_t numel = 1;
    for (int64_t size : tensor.shape) numel *= static_cast<uint64_t>(size);
    if (numel * ElementSize(tensor.dtype) != tensor.nbytes) {
      throw std::invalid_argument("Cannot write " + path + ": tensor \"" + tensor.name + "\" has " + std::to_string(tensor.nbytes) +
                                  " bytes, not the " + std::to_string(numel * ElementSize(tensor.dtype)) + " its shape needs");
    }
    header[tensor.name] = {{"dtype", SafetensorsName(tensor.dtype)}, {"shape", tensor.shape}, {"data_offsets", {offset, offset + tensor.nbytes}}};
    offset += tensor.nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const Json::exception& error) {
    throw std::invalid_argument("Cannot write " + path + ": a tensor name or metadata string is not valid UTF-8 (" + error.what() + ")");
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data section 8-byte aligned, as the reference writer does
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));

  TempFile file(path);
  file.Write(length, 8);
  file.Write(text.data(), text.size());
  for (const RawTensor& tensor : tensors) file.Write(tensor.data, tensor.nbytes);
  file.Commit(path);
}

}  // namespace das::checkpoint
