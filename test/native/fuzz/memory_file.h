// The fuzzers' input as a file: the readers take a path (they read with pread, as on real files),
// so each input is written into one in-memory file (memfd) whose /proc path they open.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace das::fuzz {

inline const std::string& WriteMemoryFile(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("das-fuzz-input", 0);
  static const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (fd < 0 || ftruncate(fd, 0) != 0 || (size > 0 && pwrite(fd, data, size, 0) != static_cast<ssize_t>(size))) std::abort();
  return path;
}

}  // namespace das::fuzz
