#include "models/checkpoint_adapt.h"

#include <ATen/ATen.h>

#include <cmath>
#include <map>

namespace das::models {

namespace {

bool SplitPart(const std::string& name, std::string& fused, char& part) {
  if (name.size() < 4 || name.back() != ']' || name[name.size() - 3] != '[') return false;
  part = name[name.size() - 2];
  fused = name.substr(0, name.size() - 3);
  return part == 'q' || part == 'k' || part == 'v';
}

int64_t GridSide(int64_t tokens, const std::string& name) {
  const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(tokens - 1))));
  TORCH_CHECK(tokens > 1 && side * side == tokens - 1, name, " has ", tokens, " positions; expected 1 + a square grid");
  return side;
}

}  // namespace

std::string QkvPart(const std::string& fused_name, char part) { return fused_name + "[" + part + "]"; }

void FuseQkvParts(std::vector<MappedTensor>& tensors) {
  std::map<std::string, std::map<char, size_t>> groups;
  for (size_t i = 0; i < tensors.size(); ++i) {
    std::string fused;
    char part = 0;
    if (SplitPart(tensors[i].name, fused, part)) groups[fused][part] = i;
  }
  std::vector<bool> consumed(tensors.size(), false);
  std::vector<MappedTensor> fused_tensors;
  for (const auto& [fused, parts] : groups) {
    if (parts.size() != 3) continue;
    const MappedTensor& q = tensors[parts.at('q')];
    const MappedTensor& k = tensors[parts.at('k')];
    const MappedTensor& v = tensors[parts.at('v')];
    fused_tensors.push_back({q.source + " + " + k.source + " + " + v.source, fused, at::cat({q.tensor, k.tensor, v.tensor}, 0)});
    for (const auto& item : parts) consumed[item.second] = true;
  }
  std::vector<MappedTensor> out;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!consumed[i]) out.push_back(std::move(tensors[i]));
  }
  for (auto& item : fused_tensors) out.push_back(std::move(item));
  tensors = std::move(out);
}

void GrowRows(std::vector<MappedTensor>& tensors, const std::string& name, int64_t rows) {
  for (auto& item : tensors) {
    if (item.name != name || item.tensor.dim() != 2 || item.tensor.size(0) >= rows || item.tensor.size(0) == 0) continue;
    const at::Tensor last = item.tensor.slice(0, item.tensor.size(0) - 1);
    item.tensor = at::cat({item.tensor, last.expand({rows - item.tensor.size(0), item.tensor.size(1)})}, 0);
  }
}

void ResizePositionGrid(std::vector<MappedTensor>& tensors, const std::string& name, int64_t tokens) {
  for (auto& item : tensors) {
    if (item.name != name) continue;
    const bool batched = item.tensor.dim() == 3;
    const at::Tensor table = batched ? item.tensor.select(0, 0) : item.tensor;
    if (table.dim() != 2 || table.size(0) == tokens) continue;
    const int64_t before = GridSide(table.size(0), item.source), after = GridSide(tokens, name);
    const int64_t dim = table.size(1);
    const at::Tensor grid = table.slice(0, 1).to(at::kFloat).reshape({1, before, before, dim}).permute({0, 3, 1, 2});
    const at::Tensor resized = at::upsample_bicubic2d(grid, {after, after}, /*align_corners=*/false);
    at::Tensor rows = at::cat({table.slice(0, 0, 1).to(at::kFloat), resized.permute({0, 2, 3, 1}).reshape({after * after, dim})}, 0);
    rows = rows.to(table.scalar_type());
    item.tensor = batched ? rows.unsqueeze(0) : rows;
  }
}

}  // namespace das::models
