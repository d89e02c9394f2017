// BERT-family text embeddings (word + position + token type, LayerNorm, dropout) with HF names,
// shared by RoBERTa (and METER's language encoder) and ViLT. The two families number positions
// differently: BERT from 0 for every token, RoBERTa from padding_idx + 1 for real tokens only.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>

namespace das::blocks {

enum class PositionStyle { kBert, kRoberta };

struct TextEmbeddingsOptions {
  int64_t vocab_size = 30522;
  int64_t hidden = 768;
  int64_t max_positions = 512;
  int64_t type_vocab_size = 2;
  int64_t pad_token_id = 0;
  double eps = 1e-12;
  double dropout = 0.1;
  PositionStyle positions = PositionStyle::kBert;
};

struct TextEmbeddingsImpl : torch::nn::Module {
  explicit TextEmbeddingsImpl(const TextEmbeddingsOptions& options);
  // input_ids [B, T] int64 -> [B, T, H]; token types are all 0 (none of our models uses others).
  at::Tensor forward(const at::Tensor& input_ids);
  // Tokens this table can number (RoBERTa reserves the first padding_idx + 1 positions).
  int64_t MaxTokens() const;

  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  torch::nn::Dropout dropout{nullptr};
  TextEmbeddingsOptions options;
};
TORCH_MODULE(TextEmbeddings);

}  // namespace das::blocks
