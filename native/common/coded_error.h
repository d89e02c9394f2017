// An exception that carries one of the TypeScript DasError codes (lib/errors.ts), so that the
// boundary can tell a malformed checkpoint (DAS_CHECKPOINT) or an unreadable file (DAS_FILE) from
// a libtorch failure (DAS_NATIVE) without parsing messages. Plain C++: no napi.h, no torch.
#pragma once

#include <stdexcept>
#include <string>

namespace das {

class CodedError : public std::runtime_error {
 public:
  CodedError(const char* code, const std::string& message) : std::runtime_error(message), code_(code) {}
  const char* code() const noexcept { return code_; }

 private:
  const char* code_;  // a string literal: one of the DasErrorCode values
};

}  // namespace das
