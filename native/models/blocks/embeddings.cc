#include "models/blocks/embeddings.h"

#include <ATen/ATen.h>

namespace das::blocks {

namespace {

torch::nn::EmbeddingOptions Table(int64_t rows, int64_t hidden, int64_t padding_idx, bool padded) {
  torch::nn::EmbeddingOptions options(rows, hidden);
  if (padded) options.padding_idx(padding_idx);
  return options;
}

}  // namespace

TextEmbeddingsImpl::TextEmbeddingsImpl(const TextEmbeddingsOptions& o)
    : word_embeddings(register_module("word_embeddings", torch::nn::Embedding(Table(o.vocab_size, o.hidden, o.pad_token_id, true)))),
      position_embeddings(register_module(
          "position_embeddings", torch::nn::Embedding(Table(o.max_positions, o.hidden, o.pad_token_id, o.positions == PositionStyle::kRoberta)))),
      token_type_embeddings(register_module("token_type_embeddings", torch::nn::Embedding(o.type_vocab_size, o.hidden))),
      LayerNorm(register_module("LayerNorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden}).eps(o.eps)))),
      dropout(register_module("dropout", torch::nn::Dropout(o.dropout))),
      options(o) {}

int64_t TextEmbeddingsImpl::MaxTokens() const {
  return options.positions == PositionStyle::kRoberta ? options.max_positions - options.pad_token_id - 1 : options.max_positions;
}

at::Tensor TextEmbeddingsImpl::forward(const at::Tensor& input_ids) {
  // A backstop for callers that bypass the TypeScript checks: the embedding lookup would answer
  // "index out of range in self".
  if (input_ids.numel() > 0) {
    const int64_t low = input_ids.min().item<int64_t>(), high = input_ids.max().item<int64_t>();
    TORCH_CHECK(low >= 0 && high < options.vocab_size, "Expected token ids in [0, ", options.vocab_size, ") (the vocabulary) for input_ids but received values from ",
                low, " to ", high);
  }
  at::Tensor positions;
  if (options.positions == PositionStyle::kRoberta) {
    // real tokens numbered from padding_idx + 1; padding keeps the padding position
    const at::Tensor not_pad = input_ids.ne(options.pad_token_id).to(at::kLong);
    positions = at::cumsum(not_pad, 1) * not_pad + options.pad_token_id;
  } else {
    positions = at::arange(input_ids.size(1), input_ids.options().dtype(at::kLong)).unsqueeze(0).expand_as(input_ids);
  }
  const at::Tensor token_types = at::zeros_like(input_ids);
  at::Tensor x = word_embeddings(input_ids) + position_embeddings(positions) + token_type_embeddings(token_types);
  return dropout(LayerNorm(x));
}

}  // namespace das::blocks
