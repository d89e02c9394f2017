// Errors of the checkpoint readers and writers. Every message names the file, and where it can the
// tensor, record or field, so a user knows which download is broken and where.
#pragma once

#include <string>

#include "common/coded_error.h"

namespace das::checkpoint {

// The file's content violates its format (truncated, corrupt, or refused by the weights-only rules).
class CheckpointError : public CodedError {
 public:
  CheckpointError(const std::string& path, const std::string& detail)
      : CodedError("DAS_CHECKPOINT", "Checkpoint " + path + ": " + detail) {}
};

// The file cannot be opened, read or written at all.
class FileError : public CodedError {
 public:
  explicit FileError(const std::string& message) : CodedError("DAS_FILE", message) {}
};

}  // namespace das::checkpoint
