#include "checkpoint/torch_save.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>

#include "checkpoint/checkpoint_error.h"
#include "checkpoint/pickle_reader.h"
#include "checkpoint/zip_archive.h"

namespace das::checkpoint {

namespace {

using Kind = Value::Kind;

// The first pickle of a legacy file: protocol 2, LONG1 of 10 bytes, the magic number 0x1950a86a20f9469cfc6c.
constexpr uint8_t kLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};

const Value& Item(const Value& tuple, size_t index, Kind kind, const char* what) {
  if (index >= tuple.items.size() || !tuple.items[index]->Is(kind)) {
    throw std::runtime_error(std::string("the storage id's ") + what + " should be a " + KindName(kind));
  }
  return *tuple.items[index];
}

// ('storage', <torch.XxxStorage>, key, location, numel[, view_metadata]): the same leading fields in
// both formats; the legacy one adds (view_key, offset, size) for views of a larger storage.
ValuePtr StorageFromPid(const Value& pid, bool legacy) {
  if (!pid.Is(Kind::kTuple) || pid.items.size() != (legacy ? 6u : 5u)) throw std::runtime_error("not a storage reference");
  if (Item(pid, 0, Kind::kString, "tag").text != "storage") throw std::runtime_error("only 'storage' persistent ids are allowed");
  const Value& type = Item(pid, 1, Kind::kGlobal, "type");
  if (!FromStorageClass(type.text.substr(type.text.rfind('.') + 1)) || type.text.rfind("torch.", 0) != 0) {
    throw std::runtime_error(type.text + " is not a torch storage class");
  }
  auto storage = std::make_shared<Value>();
  storage->kind = Kind::kStorage;
  storage->storage.dtype = type.storage.dtype;
  storage->storage.key = Item(pid, 2, Kind::kString, "key").text;
  storage->storage.numel = Item(pid, 4, Kind::kInt, "size").integer;
  if (storage->storage.numel < 0) throw std::runtime_error("negative storage size");
  if (legacy && !pid.items[5]->Is(Kind::kNone)) {
    const Value& view = Item(pid, 5, Kind::kTuple, "view metadata");
    if (view.items.size() != 3) throw std::runtime_error("the view metadata should be (key, offset, size)");
    storage->storage.view_offset = Item(view, 1, Kind::kInt, "view offset").integer;
    storage->storage.numel = Item(view, 2, Kind::kInt, "view size").integer;
    if (storage->storage.view_offset < 0 || storage->storage.numel < 0) throw std::runtime_error("negative view offset or size");
  }
  return storage;
}

std::string ScalarText(const Value& value) {
  switch (value.kind) {
    case Kind::kString: return value.text;
    case Kind::kInt: return std::to_string(value.integer);
    case Kind::kBool: return value.boolean ? "true" : "false";
    case Kind::kFloat: {
      char text[32];
      std::snprintf(text, sizeof text, "%.17g", value.number);
      return text;
    }
    default: return {};
  }
}

// Finds where a storage's bytes lie; `numel` elements of `dtype` starting at element `offset`.
using LocateStorage = std::function<StorageSpan(const StorageRef& storage)>;

CheckpointIndex BuildIndex(const std::string& path, Format format, const Value& root, const LocateStorage& locate) {
  if (!root.Is(Kind::kDict)) throw CheckpointError(path, std::string("the pickled object is a ") + KindName(root.kind) + ", not a dict of tensors");
  CheckpointIndex index;
  index.format = format;
  const Value* tensors = &root;
  if (ValuePtr state_dict = root.Get("state_dict")) {
    if (!state_dict->Is(Kind::kDict)) throw CheckpointError(path, "\"state_dict\" is a " + std::string(KindName(state_dict->kind)) + ", not a dict");
    tensors = state_dict.get();
    // Lightning's scalar fields (epoch, global_step, pytorch-lightning_version) are worth showing.
    for (const auto& [key, value] : root.entries) {
      const std::string text = ScalarText(*value);
      if (key->Is(Kind::kString) && (!text.empty() || value->Is(Kind::kString))) index.metadata.emplace_back(key->text, text);
    }
  }
  std::map<std::pair<std::string, DType>, size_t> storages;
  for (const auto& [key, value] : tensors->entries) {
    if (!value->Is(Kind::kTensor)) continue;  // e.g. a non-tensor extra state
    if (!key->Is(Kind::kString)) throw CheckpointError(path, std::string("a tensor is stored under a ") + KindName(key->kind) + " key, not a name");
    const TensorRef& ref = value->tensor;
    const auto storage_key = std::make_pair(ref.storage.key, ref.storage.dtype);
    auto found = storages.find(storage_key);
    if (found == storages.end()) {
      found = storages.emplace(storage_key, index.storages.size()).first;
      index.storages.push_back(locate(ref.storage));
    }
    TensorRecord record;
    record.name = key->text;
    record.storage = found->second;
    record.sizes = ref.sizes;
    record.strides = ref.strides;
    record.storage_offset = ref.storage_offset + ref.storage.view_offset;
    index.tensors.push_back(std::move(record));
  }
  return index;
}

}  // namespace

bool LooksLikeTorchLegacy(const BinaryFile& file) {
  if (file.size() < sizeof kLegacyMagic) return false;
  uint8_t head[sizeof kLegacyMagic];
  file.ReadAt(0, sizeof head, head, "the file signature");
  return std::equal(head, head + sizeof head, kLegacyMagic);
}

CheckpointIndex IndexTorchZip(const BinaryFile& file) {
  const std::string& path = file.path();
  ZipArchive archive(file);
  const std::string top = archive.top_folder();
  if (const auto byteorder = archive.Find("byteorder")) {
    const std::vector<uint8_t> bytes = archive.Read(*byteorder);
    const std::string order(bytes.begin(), bytes.end());
    if (order != "little") throw CheckpointError(path, "the tensors are stored " + order + "-endian; only little-endian checkpoints are supported");
  }
  const auto pickle = archive.Find("data.pkl");
  if (!pickle) throw CheckpointError(path, "zip archive has no " + top + "/data.pkl record (not written by torch.save?)");
  const std::vector<uint8_t> bytes = archive.Read(*pickle);
  Unpickler unpickler(path, top + "/data.pkl", bytes.data(), bytes.size(), [](const Value& pid) { return StorageFromPid(pid, false); });
  const ValuePtr root = unpickler.Load();
  return BuildIndex(path, Format::kTorchZip, *root, [&](const StorageRef& storage) {
    const std::string record = "data/" + storage.key;
    const auto entry = archive.Find(record);
    if (!entry) throw CheckpointError(path, "the storage record " + top + "/" + record + " is missing");
    const uint64_t expected = static_cast<uint64_t>(storage.numel) * ElementSize(storage.dtype);
    if (entry->size != expected) {
      throw CheckpointError(path, "the storage record " + top + "/" + record + " has " + std::to_string(entry->size) + " bytes, not the " +
                                      std::to_string(expected) + " its " + std::to_string(storage.numel) + " elements need");
    }
    return StorageSpan{top + "/" + record, storage.dtype, entry->data_offset, entry->size};
  });
}

CheckpointIndex IndexTorchLegacy(const BinaryFile& file) {
  const std::string& path = file.path();
  // The pickles come first and their length is only known by reading them: read a prefix of the
  // file, and a longer one when the pickles run past it.
  for (uint64_t prefix = uint64_t{1} << 20;; prefix *= 4) {
    const uint64_t length = std::min(prefix, file.size());
    const std::vector<uint8_t> bytes = file.ReadBytes(0, length, "the legacy pickles");
    size_t at = 0;
    auto next = [&](const char* what, PersistentLoad load) {
      return std::make_unique<Unpickler>(path, what, bytes.data() + at, bytes.size() - at, std::move(load));
    };
    try {
      auto magic = next("1 of the legacy file (magic number)", nullptr);
      magic->Load();
      at += magic->consumed();
      auto protocol = next("2 of the legacy file (protocol version)", nullptr);
      const ValuePtr version = protocol->Load();
      at += protocol->consumed();
      if (!version->Is(Kind::kInt) || version->integer != 1001) throw CheckpointError(path, "legacy format: unsupported protocol version");
      auto info = next("3 of the legacy file (system info)", nullptr);
      const ValuePtr sys_info = info->Load();
      at += info->consumed();
      const ValuePtr little = sys_info->Is(Kind::kDict) ? sys_info->Get("little_endian") : nullptr;
      if (!little || !little->Is(Kind::kBool) || !little->boolean) {
        throw CheckpointError(path, "legacy format: the tensors are not stored little-endian; only little-endian checkpoints are supported");
      }
      // Every storage the object names, with its element type: the raw storages after the pickles
      // can only be walked knowing each one's element size.
      std::map<std::string, DType> dtypes;
      auto object = next("4 of the legacy file (the saved object)", [&dtypes](const Value& pid) {
        ValuePtr storage = StorageFromPid(pid, true);
        const auto [known, inserted] = dtypes.emplace(storage->storage.key, storage->storage.dtype);
        if (!inserted && known->second != storage->storage.dtype) throw std::runtime_error("storage " + known->first + " is used with two element types");
        return storage;
      });
      const ValuePtr root = object->Load();
      at += object->consumed();
      auto keys_pickle = next("5 of the legacy file (storage keys)", nullptr);
      const ValuePtr keys = keys_pickle->Load();
      at += keys_pickle->consumed();
      if (!keys->Is(Kind::kList)) throw CheckpointError(path, "legacy format: the storage key list is not a list");

      // The storages follow in key order, each as an int64 element count and its raw bytes.
      std::map<std::string, StorageSpan> spans;
      uint64_t offset = at;
      for (const ValuePtr& key : keys->items) {
        if (!key->Is(Kind::kString)) throw CheckpointError(path, "legacy format: a storage key is not a string");
        uint8_t count_bytes[8];
        file.ReadAt(offset, 8, count_bytes, "the size of legacy storage " + key->text);
        const uint64_t count = LoadLE(count_bytes, 8);
        const auto dtype = dtypes.find(key->text);
        if (dtype == dtypes.end()) throw CheckpointError(path, "legacy format: storage " + key->text + " is listed but no tensor uses it");
        const uint64_t element = ElementSize(dtype->second);
        if (count > (file.size() - offset - 8) / element) {
          throw CheckpointError(path, "legacy format: storage " + key->text + " claims " + std::to_string(count) + " elements, past the end of the file (truncated?)");
        }
        spans[key->text] = StorageSpan{"storage " + key->text, dtype->second, offset + 8, count * element};
        offset += 8 + count * element;
      }
      return BuildIndex(path, Format::kTorchLegacy, *root, [&](const StorageRef& storage) {
        const auto span = spans.find(storage.key);
        if (span == spans.end()) throw CheckpointError(path, "legacy format: storage " + storage.key + " is not in the key list");
        if (span->second.dtype != storage.dtype) throw CheckpointError(path, "legacy format: storage " + storage.key + " is used with two element types");
        const uint64_t element = ElementSize(storage.dtype);
        if (static_cast<uint64_t>(storage.view_offset + storage.numel) * element > span->second.nbytes) {
          throw CheckpointError(path, "legacy format: a view runs past the end of storage " + storage.key);
        }
        return span->second;
      });
    } catch (const TruncatedPickle&) {
      // Only a pickle cut off by the prefix is worth a longer read; anything else is the file's fault.
      if (length == file.size()) throw;
    }
  }
}

}  // namespace das::checkpoint
