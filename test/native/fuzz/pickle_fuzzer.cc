// libFuzzer target: the input is the pickle of a torch.save zip archive. It is wrapped into a
// well-formed archive (archive/data.pkl, stored, with its central directory) so that every
// mutation reaches the restricted unpickler and the tensor index built from what it returns, not
// only the zip parser. Torch-free; built and run by scripts/test/fuzz-checkpoints.sh.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "checkpoint/binary_file.h"
#include "checkpoint/checkpoint_error.h"
#include "checkpoint/torch_save.h"
#include "memory_file.h"

namespace {

void Put(std::vector<uint8_t>& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

// A stored zip holding `records` (name, bytes), as torch.save lays it out.
std::vector<uint8_t> Zip(const std::vector<std::pair<std::string, std::vector<uint8_t>>>& records) {
  std::vector<uint8_t> out, directory;
  for (const auto& [name, bytes] : records) {
    const uint64_t offset = out.size();
    Put(out, 0x04034b50, 4);
    Put(out, 20, 2), Put(out, 0, 2), Put(out, 0, 2), Put(out, 0, 4);  // version, flags, stored, time
    Put(out, 0, 4), Put(out, bytes.size(), 4), Put(out, bytes.size(), 4);  // crc (unchecked), sizes
    Put(out, name.size(), 2), Put(out, 0, 2);
    out.insert(out.end(), name.begin(), name.end());
    out.insert(out.end(), bytes.begin(), bytes.end());
    Put(directory, 0x02014b50, 4);
    Put(directory, 20, 2), Put(directory, 20, 2), Put(directory, 0, 2), Put(directory, 0, 2), Put(directory, 0, 4);
    Put(directory, 0, 4), Put(directory, bytes.size(), 4), Put(directory, bytes.size(), 4);
    Put(directory, name.size(), 2), Put(directory, 0, 2), Put(directory, 0, 2), Put(directory, 0, 2), Put(directory, 0, 2);
    Put(directory, 0, 4), Put(directory, offset, 4);
    directory.insert(directory.end(), name.begin(), name.end());
  }
  const uint64_t directory_offset = out.size();
  out.insert(out.end(), directory.begin(), directory.end());
  Put(out, 0x06054b50, 4);
  Put(out, 0, 2), Put(out, 0, 2), Put(out, records.size(), 2), Put(out, records.size(), 2);
  Put(out, directory.size(), 4), Put(out, directory_offset, 4), Put(out, 0, 2);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One small storage record, so that pickles naming storage "0" of a few elements index fully.
  const std::vector<uint8_t> archive = Zip({{"archive/data.pkl", std::vector<uint8_t>(data, data + size)},
                                            {"archive/data/0", std::vector<uint8_t>(64, 1)},
                                            {"archive/version", {'3', '\n'}}});
  const std::string& path = das::fuzz::WriteMemoryFile(archive.data(), archive.size());
  try {
    das::checkpoint::BinaryFile file(path);
    (void)das::checkpoint::IndexTorchZip(file);
  } catch (const das::checkpoint::CheckpointError&) {
  }
  return 0;
}
