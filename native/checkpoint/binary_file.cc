#include "checkpoint/binary_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "checkpoint/checkpoint_error.h"

namespace das::checkpoint {

BinaryFile::BinaryFile(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw FileError("Cannot open checkpoint " + path_ + ": " + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd_, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw FileError("Cannot read checkpoint " + path_ + ": not a regular file");
  }
  size_ = static_cast<uint64_t>(info.st_size);
}

BinaryFile::~BinaryFile() {
  if (fd_ >= 0) ::close(fd_);
}

void BinaryFile::CheckRange(uint64_t offset, uint64_t length, const std::string& what) const {
  if (offset > size_ || length > size_ - offset) {
    throw CheckpointError(path_, what + " needs bytes [" + std::to_string(offset) + ", " + std::to_string(offset) + " + " +
                                     std::to_string(length) + ") but the file has only " + std::to_string(size_) +
                                     " bytes (truncated or corrupt file)");
  }
}

void BinaryFile::ReadAt(uint64_t offset, uint64_t length, void* out, const std::string& what) const {
  CheckRange(offset, length, what);
  auto* dst = static_cast<uint8_t*>(out);
  // pread moves at most ~2 GB per call on Linux, so large storages are read in chunks.
  constexpr uint64_t kChunk = uint64_t{1} << 30;
  while (length > 0) {
    const size_t want = static_cast<size_t>(std::min(length, kChunk));
    const ssize_t got = ::pread(fd_, dst, want, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      throw FileError("Cannot read checkpoint " + path_ + " (" + what + "): " + (got < 0 ? std::strerror(errno) : "unexpected end of file"));
    }
    dst += got;
    offset += static_cast<uint64_t>(got);
    length -= static_cast<uint64_t>(got);
  }
}

std::vector<uint8_t> BinaryFile::ReadBytes(uint64_t offset, uint64_t length, const std::string& what) const {
  CheckRange(offset, length, what);
  std::vector<uint8_t> bytes(static_cast<size_t>(length));
  if (length > 0) ReadAt(offset, length, bytes.data(), what);
  return bytes;
}

}  // namespace das::checkpoint
