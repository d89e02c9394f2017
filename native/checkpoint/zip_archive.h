// The zip container torch.save writes (since PyTorch 1.6): uncompressed ("stored") records under
// one top folder, e.g. archive/data.pkl, archive/data/0, archive/version. Only what torch needs
// is implemented: the central directory (with zip64 for large files) and stored entries. Every
// offset and size read from the file is checked against the file's size. Plain C++ (no torch).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/binary_file.h"

namespace das::checkpoint {

struct ZipEntry {
  std::string name;
  uint64_t data_offset = 0;  // where the entry's bytes start in the file
  uint64_t size = 0;
};

class ZipArchive {
 public:
  // Reads and checks the central directory; throws CheckpointError on a malformed archive.
  explicit ZipArchive(const BinaryFile& file);

  // The folder every record lives under ("archive" in `archive/data.pkl`).
  const std::string& top_folder() const { return top_folder_; }
  // A record by its name under the top folder ("data.pkl", "data/0"), if present.
  std::optional<ZipEntry> Find(const std::string& record) const;
  std::vector<uint8_t> Read(const ZipEntry& entry) const;

 private:
  ZipEntry Resolve(const std::string& name, uint64_t local_offset, uint64_t size, uint16_t method) const;

  const BinaryFile& file_;
  std::string top_folder_;
  std::map<std::string, ZipEntry> entries_;  // by full name
};

// True when the file starts with a zip local header ("PK\3\4").
bool LooksLikeZip(const BinaryFile& file);

}  // namespace das::checkpoint
