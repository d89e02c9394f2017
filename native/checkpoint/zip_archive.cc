#include "checkpoint/zip_archive.h"

#include <algorithm>

#include "checkpoint/checkpoint_error.h"

namespace das::checkpoint {

namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint64_t kEndRecordSize = 22;
constexpr uint64_t kMaxComment = 0xffff;

struct Directory {
  uint64_t entries;
  uint64_t offset;
  uint64_t size;
};

// Locates the end-of-central-directory record (it sits within the last 64 KiB + 22 bytes) and,
// when the archive needs it, the zip64 record it points to.
Directory FindDirectory(const BinaryFile& file) {
  const std::string& path = file.path();
  if (file.size() < kEndRecordSize) throw CheckpointError(path, "zip: the file is too short to be a zip archive");
  const uint64_t tail = std::min<uint64_t>(file.size(), kEndRecordSize + kMaxComment);
  const std::vector<uint8_t> bytes = file.ReadBytes(file.size() - tail, tail, "the zip end record");
  for (uint64_t i = tail - kEndRecordSize + 1; i-- > 0;) {
    const uint8_t* p = bytes.data() + i;
    if (LoadLE(p, 4) != kEndOfDirectory) continue;
    Directory directory{LoadLE(p + 10, 2), LoadLE(p + 16, 4), LoadLE(p + 12, 4)};
    const uint64_t end_record = file.size() - tail + i;
    const bool needs_zip64 = directory.entries == 0xffff || directory.offset == 0xffffffff || directory.size == 0xffffffff;
    if (needs_zip64) {
      if (end_record < 20) throw CheckpointError(path, "zip: the zip64 locator is missing");
      uint8_t locator[20];
      file.ReadAt(end_record - 20, 20, locator, "the zip64 locator");
      if (LoadLE(locator, 4) != kZip64Locator) throw CheckpointError(path, "zip: the zip64 locator is missing or corrupt");
      uint8_t record[56];
      file.ReadAt(LoadLE(locator + 8, 8), 56, record, "the zip64 end record");
      if (LoadLE(record, 4) != kZip64EndOfDirectory) throw CheckpointError(path, "zip: the zip64 end record is corrupt");
      directory = Directory{LoadLE(record + 32, 8), LoadLE(record + 48, 8), LoadLE(record + 40, 8)};
    }
    file.CheckRange(directory.offset, directory.size, "the zip central directory");
    return directory;
  }
  throw CheckpointError(path, "zip: no end-of-central-directory record (truncated archive?)");
}

// Replaces 0xffffffff sizes and offsets with their values from the zip64 extra field.
void ApplyZip64Extra(const std::string& path, const std::string& name, const uint8_t* extra, size_t length, uint64_t& size,
                     uint64_t& compressed, uint64_t& offset) {
  size_t at = 0;
  while (at + 4 <= length) {
    const uint64_t id = LoadLE(extra + at, 2);
    const size_t field = LoadLE(extra + at + 2, 2);
    if (at + 4 + field > length) break;
    if (id == 0x0001) {
      size_t p = at + 4;
      for (uint64_t* value : {&size, &compressed, &offset}) {
        if (*value != 0xffffffff) continue;
        if (p + 8 > at + 4 + field) throw CheckpointError(path, "zip: entry " + name + " has a short zip64 extra field");
        *value = LoadLE(extra + p, 8);
        p += 8;
      }
      return;
    }
    at += 4 + field;
  }
  if (size == 0xffffffff || compressed == 0xffffffff || offset == 0xffffffff) {
    throw CheckpointError(path, "zip: entry " + name + " needs a zip64 extra field but has none");
  }
}

}  // namespace

bool LooksLikeZip(const BinaryFile& file) {
  if (file.size() < 4) return false;
  uint8_t magic[4];
  file.ReadAt(0, 4, magic, "the file signature");
  return LoadLE(magic, 4) == kLocalHeader;
}

ZipArchive::ZipArchive(const BinaryFile& file) : file_(file) {
  const std::string& path = file.path();
  const Directory directory = FindDirectory(file);
  const std::vector<uint8_t> bytes = file.ReadBytes(directory.offset, directory.size, "the zip central directory");
  size_t at = 0;
  for (uint64_t n = 0; n < directory.entries; ++n) {
    if (at + 46 > bytes.size() || LoadLE(bytes.data() + at, 4) != kCentralHeader) {
      throw CheckpointError(path, "zip: central directory entry " + std::to_string(n) + " is corrupt");
    }
    const uint8_t* p = bytes.data() + at;
    const auto method = static_cast<uint16_t>(LoadLE(p + 10, 2));
    uint64_t compressed = LoadLE(p + 20, 4), size = LoadLE(p + 24, 4), offset = LoadLE(p + 42, 4);
    const size_t name_length = LoadLE(p + 28, 2), extra_length = LoadLE(p + 30, 2), comment_length = LoadLE(p + 32, 2);
    if (at + 46 + name_length + extra_length + comment_length > bytes.size()) {
      throw CheckpointError(path, "zip: central directory entry " + std::to_string(n) + " runs past the directory");
    }
    const std::string name(reinterpret_cast<const char*>(p + 46), name_length);
    ApplyZip64Extra(path, name, p + 46 + name_length, extra_length, size, compressed, offset);
    if (method == 0 && compressed != size) throw CheckpointError(path, "zip: stored entry " + name + " has two different sizes");
    entries_[name] = Resolve(name, offset, size, method);
    if (n == 0) top_folder_ = name.substr(0, name.find('/'));
    at += 46 + name_length + extra_length + comment_length;
  }
  if (entries_.empty() || top_folder_.empty() || top_folder_.size() == entries_.begin()->first.size()) {
    throw CheckpointError(path, "zip: the archive has no top folder of records (not written by torch.save?)");
  }
}

ZipEntry ZipArchive::Resolve(const std::string& name, uint64_t local_offset, uint64_t size, uint16_t method) const {
  const std::string& path = file_.path();
  uint8_t header[30];
  file_.ReadAt(local_offset, 30, header, "the local header of zip entry " + name);
  if (LoadLE(header, 4) != kLocalHeader) throw CheckpointError(path, "zip: the local header of entry " + name + " is corrupt");
  // The local header's own name and extra lengths decide where the data starts (torch pads the
  // extra field so that tensor data is 64-byte aligned).
  const uint64_t data_offset = local_offset + 30 + LoadLE(header + 26, 2) + LoadLE(header + 28, 2);
  ZipEntry entry{name, data_offset, size};
  if (method != 0) {
    entry.size = UINT64_MAX;  // marks a compressed entry: refused when it is read
  } else {
    file_.CheckRange(data_offset, size, "zip entry " + name);
  }
  return entry;
}

std::optional<ZipEntry> ZipArchive::Find(const std::string& record) const {
  const auto found = entries_.find(top_folder_ + "/" + record);
  if (found == entries_.end()) return std::nullopt;
  if (found->second.size == UINT64_MAX) {
    throw CheckpointError(file_.path(), "zip: entry " + found->first + " is compressed; torch.save writes stored (uncompressed) entries only");
  }
  return found->second;
}

std::vector<uint8_t> ZipArchive::Read(const ZipEntry& entry) const { return file_.ReadBytes(entry.data_offset, entry.size, "zip entry " + entry.name); }

}  // namespace das::checkpoint
