// Small string helpers the models' name maps, trainable rules and runtime reports share.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

namespace das {

inline bool StartsWith(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

inline bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Whether `text` holds `part`, ignoring ASCII case (libtorch words the same errno differently by version).
inline bool ContainsNoCase(const std::string& text, const std::string& part) {
  auto lower = [](unsigned char c) { return static_cast<char>(std::tolower(c)); };
  std::string a(text.size(), ' '), b(part.size(), ' ');
  std::transform(text.begin(), text.end(), a.begin(), lower);
  std::transform(part.begin(), part.end(), b.begin(), lower);
  return a.find(b) != std::string::npos;
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
