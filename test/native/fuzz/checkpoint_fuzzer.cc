// libFuzzer target: one whole file through ReadCheckpoint, as the addon reads a checkpoint: format
// detection, the safetensors / torch.save zip / legacy readers, the restricted unpickler, storage
// reads and the tensor views built on them (with libtorch). A refusal (CheckpointError, FileError)
// is the expected answer to a bad file; any other exception (libtorch's text, std::bad_alloc from a
// size taken on trust, ...) escapes and aborts, and so does every sanitizer report: each is a finding.
// Built and run by scripts/test/fuzz-checkpoints.sh.
#include <cstddef>
#include <cstdint>

#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpoint_error.h"
#include "memory_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = das::fuzz::WriteMemoryFile(data, size);
  try {
    const das::checkpoint::Checkpoint checkpoint = das::checkpoint::ReadCheckpoint(path);
    for (const auto& [name, tensor] : checkpoint.tensors) {
      // touch every element the view claims, so a view reaching past its storage would be read
      if (tensor.numel() > 0) (void)tensor.sum().item<double>();
    }
  } catch (const das::checkpoint::CheckpointError&) {
  } catch (const das::checkpoint::FileError&) {
  }
  return 0;
}
