// What a parameter-efficient method puts at one layer's attachment points. The blocks build exactly
// what this says and know nothing of the method that asked for it (native/methods/ decides).
//
// Attachment points of every transformer layer:
//  - its projections (AdaptableLinear), by role: query, key, value, attn_out, cross_query,
//    cross_key, cross_value, cross_out, ffn_in, ffn_out; a low-rank delta (LoRA) on any of them,
//    ViLT's fused qkv included (one delta per q/k/v slice);
//  - adapter sites beside (parallel) or after (sequential) each sub-layer: attention, cross-attention
//    (METER's fusion layers), feed-forward;
//  - extra key/value positions (a prefix) in front of the self-attention's keys and values;
//  - the skip adapter that stands in for the whole layer when it is skipped.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

namespace das::blocks {

// The sub-layers that carry adapter sites.
enum class Site { kAttention = 0, kCross = 1, kFfn = 2 };
constexpr size_t kSites = 3;

// The LayerNorm an adapter applies to its input: weight and bias, weight only (the shift would be
// folded into the down-projection's bias anyway), or none.
enum class AdapterNorm { kAffine, kScale, kNone };

// How an adapter starts: both projections normal(0, 0.02) (DAS), or the up-projection zero so the
// layer starts exactly as the pre-trained one (down as a default Linear, as LoRA's A).
enum class AdapterInit { kNormal, kZeroUp };

struct AdapterSpec {
  int64_t bottleneck = 0;  // 0 = no adapter here
  double scale = 1.0;
  AdapterNorm norm = AdapterNorm::kAffine;
  AdapterInit init = AdapterInit::kNormal;
};

struct LoraSpec {
  int64_t rank = 0;  // 0 = no delta
  double alpha = 1.0;
  double dropout = 0.0;
};

// Prefix keys and values: `separate` learns them directly (2 x length x hidden per layer);
// `projected` learns `length` virtual tokens whose keys and values come from the layer's own
// (frozen) key and value projections (length x hidden per layer).
enum class PrefixForm { kSeparate, kProjected };

struct PrefixSpec {
  int64_t length = 0;  // 0 = no prefix
  PrefixForm form = PrefixForm::kSeparate;
};

struct LayerAttachments {
  std::map<std::string, LoraSpec> lora;  // by projection role
  std::array<AdapterSpec, kSites> parallel{};
  std::array<AdapterSpec, kSites> sequential{};
  PrefixSpec prefix;  // self-attention only
  AdapterSpec skip;   // bottleneck 0: the layer cannot be skipped
};

inline const AdapterSpec& SiteSpec(const std::array<AdapterSpec, kSites>& specs, Site site) { return specs[static_cast<size_t>(site)]; }
inline AdapterSpec& SiteSpec(std::array<AdapterSpec, kSites>& specs, Site site) { return specs[static_cast<size_t>(site)]; }

}  // namespace das::blocks
