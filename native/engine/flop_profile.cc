#include "engine/flop_profile.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <cstring>
#include <set>

#include "models/blocks/attention.h"
#include "models/blocks/layers.h"

namespace das::engine {

FlopProfile ProfileForwardFlops(models::TaskModel& model, const models::Batch& batch, const std::vector<std::string>& skip) {
  namespace profiler = torch::autograd::profiler;
  const std::vector<bool> mask = model.SkipMask(skip);
  model.eval();
  torch::NoGradGuard no_grad;
  const blocks::ExplicitAttentionScope countable_attention;
  profiler::thread_event_lists events;
  {
    profiler::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU,
                                                                        /*report_input_shapes=*/true, /*profile_memory=*/false,
                                                                        /*with_stack=*/false, /*with_flops=*/true));
    try {
      model.Run(batch, mask);
    } catch (...) {
      profiler::disableProfilerLegacy();
      throw;
    }
    events = profiler::disableProfilerLegacy();
  }
  static const std::set<std::string> kCounted{"aten::mm", "aten::addmm", "aten::bmm", "aten::conv2d"};
  const size_t prefix_length = std::strlen(blocks::LayerScope::kPrefix);
  FlopProfile profile;
  for (auto& thread_events : events) {
    std::vector<std::string> open;  // names of the ranges enclosing the current event (pops carry no name)
    for (auto& event : thread_events) {
      const std::string kind = event.kindStr();
      if (kind == "pop") {
        if (!open.empty()) open.pop_back();
        continue;
      }
      if (kind != "push") continue;
      const std::string name = event.name();
      if (kCounted.count(name)) {
        std::string layer;
        for (auto it = open.rbegin(); it != open.rend(); ++it) {
          if (it->rfind(blocks::LayerScope::kPrefix, 0) == 0) {
            layer = it->substr(prefix_length);
            break;
          }
        }
        const auto macs = static_cast<int64_t>(event.flops() / 2);  // the profiler counts 2 per multiply-add
        profile.total += macs;
        profile.layers[layer] += macs;
      }
      open.push_back(name);
    }
  }
  return profile;
}

}  // namespace das::engine
