// Runs the torch-free checkpoint readers (everything up to the tensor index) over every truncation
// and many random corruptions of the given files, built with AddressSanitizer and UBSan by
// scripts/test/checkpoint-sanitizers.sh: any out-of-bounds read, leak or undefined behaviour the
// JS-level sweep could miss aborts this program. Prints a one-line summary.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "checkpoint/checkpoint_error.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/torch_save.h"
#include "checkpoint/zip_archive.h"

using namespace das::checkpoint;

namespace {

bool IndexOnce(const std::string& path) {
  try {
    BinaryFile file(path);
    if (LooksLikeZip(file)) {
      IndexTorchZip(file);
    } else if (LooksLikeTorchLegacy(file)) {
      IndexTorchLegacy(file);
    } else {
      IndexSafetensors(file);
    }
    return true;
  } catch (const CheckpointError&) {
    return false;
  }
}

void Write(const std::string& path, const std::vector<char>& bytes, size_t length) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(length));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: checkpoint_fuzz <scratch file> <checkpoint>...\n");
    return 2;
  }
  const std::string scratch = argv[1];
  std::mt19937 random(1234);
  size_t tried = 0, refused = 0, truncated_accepted = 0;
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    const std::vector<char> whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!IndexOnce(argv[i])) {
      std::fprintf(stderr, "%s: the intact file is refused\n", argv[i]);
      return 1;
    }
    for (size_t cut = 0; cut < whole.size(); ++cut) {
      Write(scratch, whole, cut);
      ++tried;
      if (IndexOnce(scratch)) ++truncated_accepted; else ++refused;
    }
    for (int n = 0; n < 2000; ++n) {
      std::vector<char> bytes = whole;
      for (int flips = 1 + random() % 4; flips > 0; --flips) bytes[random() % bytes.size()] = static_cast<char>(random());
      Write(scratch, bytes, bytes.size());
      ++tried;
      if (!IndexOnce(scratch)) ++refused;
    }
  }
  std::printf("{\"tried\": %zu, \"refused\": %zu, \"truncatedAccepted\": %zu}\n", tried, refused, truncated_accepted);
  return truncated_accepted == 0 ? 0 : 1;
}
