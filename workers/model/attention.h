// Causal self-attention shared by the model families: the mask rules
// (causal, key padding, sliding window), Gemma-2 logit soft-capping, grouped
// query attention, and the observer hook through which the scorer sees each
// layer's post-RoPE queries and keys without the model materialising
// attention probabilities.
#ifndef CLUEDROP_WORKERS_MODEL_ATTENTION_H_
#define CLUEDROP_WORKERS_MODEL_ATTENTION_H_

#include <torch/torch.h>

#include <optional>

namespace cluedrop::model {

// What decides which keys a query may attend to. Slots index the sequence as
// stored (cache first, then the new tokens), padding included.
struct AttentionMaskSpec {
  // [B, Tk] bool, true for real tokens; undefined = no padding.
  torch::Tensor key_valid;
  // Slot of the first query (tokens already in the KV cache).
  int64_t query_offset = 0;
  // Keys with query_slot - key_slot >= window are hidden (none if unset).
  std::optional<int64_t> sliding_window;
};

// One layer's attention inputs, handed to an AttentionObserver.
struct LayerAttention {
  int64_t layer = 0;
  torch::Tensor query;            // [B, H, Tq, D] after RoPE
  torch::Tensor key;              // [B, KV, Tk, D] after RoPE (cache included, heads not repeated)
  double scale = 1.0;             // softmax(scale * q.k) ...
  std::optional<double> softcap;  // ... of softcap * tanh(scale * q.k / softcap)
  AttentionMaskSpec mask;
};

// Receives every layer's queries and keys during a forward pass, on the
// calling thread, before the layer's attention runs. The tensors are only
// valid during the call (copy what you keep).
class AttentionObserver {
 public:
  virtual ~AttentionObserver() = default;
  virtual void OnLayer(const LayerAttention& attention) = 0;

  // An observer that returns a tile size > 0 for a layer makes that layer
  // compute its attention explicitly, `tile` query rows at a time, and hand
  // each tile's probabilities to OnProbabilities: a scorer then reuses the
  // forward's own softmax instead of recomputing q.k. Only cache-free
  // forwards (query_offset 0). Default 0: the fused SDPA path.
  virtual int64_t ProbabilityTile(const LayerAttention& attention) const { return 0; }
  // probs: [B, H, rows, keys] float32 probabilities of query rows
  // [q_begin, q_begin + rows) over key slots [k_begin, k_begin + keys)
  // (keys outside that range have probability 0). Valid during the call.
  virtual void OnProbabilities(const LayerAttention& attention, int64_t q_begin, int64_t k_begin,
                               const torch::Tensor& probs) {}
};

// [B, 1, Tq, Tk] bool mask (true = attend) for the spec, or an undefined
// tensor when plain causal attention with no offset applies. Every query row
// keeps at least its own slot, so padded queries never produce NaN.
torch::Tensor BuildAttentionMask(const AttentionMaskSpec& spec, int64_t tq, int64_t tk,
                                 const torch::Device& device);

// The same mask for one block of it: query rows [q_begin, q_end) of the
// layer's queries (slots query_offset + row) against key slots
// [k_begin, k_end). Always a tensor, [B or 1, 1, q_end - q_begin,
// k_end - k_begin] bool. The scorer's tiles use it so that they see exactly
// the model's rules without building the whole [Tq, Tk] mask.
torch::Tensor AttentionMaskBlock(const AttentionMaskSpec& spec, int64_t q_begin, int64_t q_end,
                                 int64_t k_begin, int64_t k_end, const torch::Device& device);

// softmax(...) @ v for q [B,H,Tq,D], k/v [B,KV,Tk,D]. Uses scaled dot product
// attention (flash / memory-efficient kernels) unless soft-capping needs the
// explicit path.
torch::Tensor Attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                     double scale, std::optional<double> softcap, const AttentionMaskSpec& spec);

// One tile of a layer's attention: probabilities [B, H, r1 - r0, r1 - k_begin]
// (float32) of query rows [r0, r1) over key slots [k_begin, r1), the keys
// the tile can see (causal; sliding windows move k_begin). `key_f32` is
// attention.key in float32 (convert once per layer). bf16/fp16 q.k products
// use TF32 on CUDA, which is exact for those inputs.
struct AttentionTile {
  int64_t k_begin = 0;
  torch::Tensor probs;
};
AttentionTile TileProbabilities(const LayerAttention& attention, const torch::Tensor& key_f32,
                                int64_t r0, int64_t r1);

// Attend() computed explicitly in query tiles of `tile` rows (float32
// scores and softmax, the same mask rules), handing each tile's
// probabilities to observer.OnProbabilities. Memory O(B * H * tile * T).
torch::Tensor AttendInTiles(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                            const LayerAttention& attention, AttentionObserver& observer,
                            int64_t tile);

// What a layer runs: tells `observer` (may be null) about the layer, then
// attends in tiles when the observer asks for probabilities, else Attend().
torch::Tensor ObservedAttend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const LayerAttention& attention, AttentionObserver* observer);

// The attention probabilities [B, H, Tq, Tk] (float32) a layer computes:
// the explicit reference for tests and small inputs. O(T^2) memory.
torch::Tensor AttentionProbabilities(const LayerAttention& attention);

}  // namespace cluedrop::model

#endif  // CLUEDROP_WORKERS_MODEL_ATTENTION_H_
