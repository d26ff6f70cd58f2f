#include "workers/trainer/dropout_mask.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace cluedrop {
namespace {

// SplitMix64 finaliser: a bijective 64-bit mixer with full avalanche.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// FNV-1a over the document id's bytes.
uint64_t HashId(std::string_view id) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : id) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t StreamSeed(const MaskKey& key) {
  uint64_t s = Mix(key.seed);
  s = Mix(s ^ HashId(key.document_id));
  s = Mix(s ^ key.epoch);
  return Mix(s ^ (uint64_t{key.copy} << 32));
}

}  // namespace

double DropProbability(size_t rank, const DropoutParams& params) {
  return params.alpha * (1.0 - std::exp(-params.beta * static_cast<double>(rank)));
}

std::vector<int32_t> RankPositions(std::span<const float> scores,
                                   const std::vector<bool>& droppable) {
  std::vector<int32_t> order;
  for (size_t i = 0; i < droppable.size(); ++i) {
    if (droppable[i]) order.push_back(static_cast<int32_t>(i));
  }
  // NaN (no score) ranks after every number; `>` alone is not a strict weak
  // order once NaN is present.
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    const bool a_nan = std::isnan(scores[a]);
    const bool b_nan = std::isnan(scores[b]);
    if (a_nan || b_nan) return !a_nan && b_nan;
    return scores[a] > scores[b];
  });
  std::vector<int32_t> rank(droppable.size(), -1);
  for (size_t r = 0; r < order.size(); ++r) rank[order[r]] = static_cast<int32_t>(r);
  return rank;
}

double MaskUniform(const MaskKey& key, size_t index) {
  const uint64_t bits = Mix(StreamSeed(key) ^ Mix(index));
  return static_cast<double>(bits >> 11) * 0x1.0p-53;  // 53 random bits
}

std::vector<bool> SampleDropMask(AugmentMode mode, std::span<const float> scores,
                                 const std::vector<bool>& droppable, const DropoutParams& params,
                                 const MaskKey& key) {
  std::vector<bool> drop(droppable.size(), false);
  if (mode == AugmentMode::kNone) return drop;
  std::vector<int32_t> rank;
  if (RanksByScores(mode)) {
    rank = RankPositions(scores, droppable);
  } else if (mode == AugmentMode::kPosition) {
    std::vector<float> earlier_first(droppable.size());
    for (size_t i = 0; i < droppable.size(); ++i) {
      earlier_first[i] = -static_cast<float>(i);
    }
    rank = RankPositions(earlier_first, droppable);
  }
  for (size_t i = 0; i < droppable.size(); ++i) {
    if (!droppable[i]) continue;
    const double p = mode == AugmentMode::kRandom ? params.alpha : DropProbability(rank[i], params);
    drop[i] = MaskUniform(key, i) < p;
  }
  return drop;
}

}  // namespace cluedrop
