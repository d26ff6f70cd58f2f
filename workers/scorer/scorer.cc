#include "workers/scorer/scorer.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include "workers/model/causal_lm.h"
#include "workers/model/torch_status.h"
#include "workers/scorer/fused_received_attention.h"
#include "workers/scorer/received_attention.h"

namespace cluedrop::scorer {

std::vector<Batch> PlanBatches(const std::vector<int64_t>& lengths, int64_t window,
                               int64_t batch_tokens) {
  std::vector<Segment> segments;
  for (int64_t doc = 0; doc < static_cast<int64_t>(lengths.size()); ++doc) {
    for (int64_t begin = 0; begin < lengths[doc]; begin += window) {
      segments.push_back({doc, begin, std::min(window, lengths[doc] - begin)});
    }
  }
  std::stable_sort(segments.begin(), segments.end(),
                   [](const Segment& a, const Segment& b) { return a.length > b.length; });
  std::vector<Batch> batches;
  for (const Segment& s : segments) {
    // Longest first: the batch's first row fixes its padded length.
    if (batches.empty() ||
        static_cast<int64_t>(batches.back().rows.size() + 1) * batches.back().max_length >
            batch_tokens) {
      batches.push_back(Batch{{}, s.length});
    }
    batches.back().rows.push_back(s);
  }
  return batches;
}

namespace {

// Absolute layer indices for a model of `num_layers` layers.
StatusOr<std::set<int64_t>> ResolveLayers(const std::vector<int64_t>& layers, int64_t num_layers,
                                          const char* which) {
  std::set<int64_t> out;
  for (int64_t l : layers) {
    if (l < -num_layers || l >= num_layers) {
      return InvalidArgumentError("layers: " + std::to_string(l) + " is out of range for the " +
                                  which + " model (" + std::to_string(num_layers) + " layers)");
    }
    out.insert(l < 0 ? l + num_layers : l);
  }
  return out;
}

Status CheckOptions(const ScoreOptions& o) {
  if (o.batch_tokens <= 0) return InvalidArgumentError("batch_tokens: must be > 0");
  if (o.window_tokens < 0) return InvalidArgumentError("window_tokens: must be >= 0");
  if (o.tile < 0) return InvalidArgumentError("tile: must be >= 0 (0 = by device)");
  return OkStatus();
}

Status CheckIds(const std::vector<std::vector<int32_t>>& docs, int64_t vocab, const char* which) {
  for (size_t d = 0; d < docs.size(); ++d) {
    for (size_t i = 0; i < docs[d].size(); ++i) {
      if (docs[d][i] < 0 || docs[d][i] >= vocab) {
        return InvalidArgumentError("docs[" + std::to_string(d) + "][" + std::to_string(i) +
                                    "]: token id " + std::to_string(docs[d][i]) +
                                    " is outside the vocabulary of the " + which + " model (" +
                                    std::to_string(vocab) + " ids)");
      }
    }
  }
  return OkStatus();
}

Status CheckKernel(AttentionKernel kernel, const model::CausalLM& model, const char* which) {
  if (kernel != AttentionKernel::kFused) return OkStatus();
  if (model.input_device().is_cuda()) {
    if (FusedKernelHasCuda()) return OkStatus();
    return FailedPreconditionError(
        "kernel: fused on CUDA needs a CUDA build (configure with CLUEDROP_WITH_CUDA=ON)");
  }
  if (model.dtype() != torch::kFloat) {
    return InvalidArgumentError(
        std::string("kernel: fused on the CPU is the kernel's float32 host emulation, but the ") +
        which + " model is " + std::string(c10::toString(model.dtype())));
  }
  return OkStatus();
}

Status CheckWindow(int64_t window, const model::CausalLM& model, const char* which) {
  const int64_t context = model.config().max_position_embeddings;
  if (context > 0 && window > context) {
    return InvalidArgumentError("window_tokens: " + std::to_string(window) +
                                " exceeds max_position_embeddings " + std::to_string(context) +
                                " of the " + which + " model");
  }
  if (window <= 0) {
    return InvalidArgumentError(
        std::string("window_tokens: 0 needs max_position_embeddings > 0 in the ") + which +
        " model's config");
  }
  return OkStatus();
}

// Runs one batch; returns received [rows, max_length] on the CPU.
torch::Tensor RunBatch(model::CausalLM& model, const Batch& batch,
                       const std::vector<std::vector<int32_t>>& docs,
                       const ReceivedAttentionOptions& options) {
  const int64_t rows = static_cast<int64_t>(batch.rows.size()), width = batch.max_length;
  torch::Tensor ids = torch::zeros({rows, width}, torch::kLong);
  torch::Tensor mask = torch::zeros({rows, width}, torch::kLong);
  auto id_acc = ids.accessor<int64_t, 2>();
  auto mask_acc = mask.accessor<int64_t, 2>();
  for (int64_t r = 0; r < rows; ++r) {
    const Segment& s = batch.rows[r];
    for (int64_t i = 0; i < s.length; ++i) {
      id_acc[r][i] = docs[s.doc][s.begin + i];
      mask_acc[r][i] = 1;
    }
  }
  ReceivedAttentionAccumulator acc(options);
  model::ForwardOptions forward;
  forward.attention_mask = mask.to(model.input_device());
  forward.observer = &acc;
  forward.skip_lm_head = true;
  model.Forward(ids.to(model.input_device()), forward);
  return acc.Result().to(torch::kCPU).contiguous();
}

}  // namespace

StatusOr<std::vector<std::vector<float>>> Scorer::ReceivedWithWindow(
    model::CausalLM& model, const char* which, const std::vector<std::vector<int32_t>>& docs,
    int64_t window) const {
  CLUEDROP_RETURN_IF_ERROR(CheckOptions(options_));
  CLUEDROP_RETURN_IF_ERROR(CheckWindow(window, model, which));
  CLUEDROP_RETURN_IF_ERROR(CheckKernel(options_.kernel, model, which));
  CLUEDROP_RETURN_IF_ERROR(CheckIds(docs, model.config().vocab_size, which));
  ReceivedAttentionOptions acc_options;
  acc_options.include_self = options_.include_self;
  acc_options.kernel = options_.kernel;
  acc_options.tile =
      options_.tile > 0 ? options_.tile : (model.input_device().is_cuda() ? 1024 : 128);
  CLUEDROP_ASSIGN_OR_RETURN(acc_options.layers,
                            ResolveLayers(options_.layers, model.config().num_layers, which));

  std::vector<std::vector<float>> out(docs.size());
  std::vector<int64_t> lengths(docs.size());
  for (size_t d = 0; d < docs.size(); ++d) {
    lengths[d] = static_cast<int64_t>(docs[d].size());
    out[d].assign(docs[d].size(), std::numeric_limits<float>::quiet_NaN());
  }
  for (const Batch& batch : PlanBatches(lengths, window, options_.batch_tokens)) {
    torch::Tensor received;
    CLUEDROP_RETURN_IF_ERROR(
        model::TorchCall(std::string("scoring with the ") + which + " model", [&] {
          c10::InferenceMode inference;
          received = RunBatch(model, batch, docs, acc_options);
        }));
    auto acc = received.accessor<float, 2>();
    for (size_t r = 0; r < batch.rows.size(); ++r) {
      const Segment& s = batch.rows[r];
      for (int64_t i = 0; i < s.length; ++i) out[s.doc][s.begin + i] = acc[r][i];
    }
  }
  return out;
}

StatusOr<std::vector<std::vector<float>>> Scorer::Received(
    model::CausalLM& model, const std::vector<std::vector<int32_t>>& docs) const {
  const int64_t window =
      options_.window_tokens > 0 ? options_.window_tokens : model.config().max_position_embeddings;
  return ReceivedWithWindow(model, "reference", docs, window);
}

StatusOr<std::vector<DocumentScores>> Scorer::Score(
    model::CausalLM& large, model::CausalLM& small,
    const std::vector<std::vector<int32_t>>& docs) const {
  int64_t window = options_.window_tokens;
  if (window == 0) {
    window =
        std::min(large.config().max_position_embeddings, small.config().max_position_embeddings);
  }
  CLUEDROP_RETURN_IF_ERROR(CheckOptions(options_));
  CLUEDROP_RETURN_IF_ERROR(CheckWindow(window, large, "large"));
  CLUEDROP_RETURN_IF_ERROR(CheckWindow(window, small, "small"));
  // Everything that can be checked up front is, before the first forward.
  for (auto [model, which] : {std::pair{&large, "large"}, std::pair{&small, "small"}}) {
    CLUEDROP_RETURN_IF_ERROR(
        ResolveLayers(options_.layers, model->config().num_layers, which).status());
    CLUEDROP_RETURN_IF_ERROR(CheckKernel(options_.kernel, *model, which));
    CLUEDROP_RETURN_IF_ERROR(CheckIds(docs, model->config().vocab_size, which));
  }
  CLUEDROP_ASSIGN_OR_RETURN(auto received_large, ReceivedWithWindow(large, "large", docs, window));
  CLUEDROP_ASSIGN_OR_RETURN(auto received_small, ReceivedWithWindow(small, "small", docs, window));
  std::vector<DocumentScores> out(docs.size());
  for (size_t d = 0; d < docs.size(); ++d) {
    DocumentScores& s = out[d];
    s.received_large = std::move(received_large[d]);
    s.received_small = std::move(received_small[d]);
    s.contrast.resize(s.received_large.size());
    for (size_t i = 0; i < s.contrast.size(); ++i) {
      s.contrast[i] = s.received_large[i] - s.received_small[i];
    }
  }
  return out;
}

}  // namespace cluedrop::scorer
