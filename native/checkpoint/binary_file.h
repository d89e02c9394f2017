// A read-only file with bounds-checked positional reads: every reader in this folder goes through
// it, so an offset or length taken from a corrupt file can never read outside the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace das::checkpoint {

class BinaryFile {
 public:
  explicit BinaryFile(std::string path);  // throws FileError when it cannot be opened
  ~BinaryFile();
  BinaryFile(const BinaryFile&) = delete;
  BinaryFile& operator=(const BinaryFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }

  // Reads [offset, offset + length) into `out`; throws CheckpointError naming `what` when the range
  // is not inside the file (a truncated or corrupt file), FileError on an I/O failure.
  void ReadAt(uint64_t offset, uint64_t length, void* out, const std::string& what) const;
  std::vector<uint8_t> ReadBytes(uint64_t offset, uint64_t length, const std::string& what) const;

  // Throws CheckpointError unless [offset, offset + length) lies inside the file.
  void CheckRange(uint64_t offset, uint64_t length, const std::string& what) const;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Little-endian integer decoding from a byte pointer (the caller has checked the bounds).
inline uint64_t LoadLE(const uint8_t* p, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

}  // namespace das::checkpoint
