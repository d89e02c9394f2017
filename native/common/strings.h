// Small string helpers the models' name maps, trainable rules and runtime reports share.
#pragma once

#include <string>

namespace das {

inline bool StartsWith(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

inline bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The text after `prefix` in `text`, up to the next comma or line end; "" when `prefix` is absent.
// (libtorch's build summary reads "KEY=value, KEY=value" and "  - Name version" lines.)
inline std::string ValueAfter(const std::string& text, const std::string& prefix) {
  const auto at = text.find(prefix);
  if (at == std::string::npos) return "";
  const auto begin = at + prefix.size();
  const auto end = text.find_first_of(",\n", begin);
  return text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

}  // namespace das
