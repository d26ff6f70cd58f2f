#include "workers/scorer/projection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace cluedrop::scorer {
namespace {

Status CheckSpans(const std::vector<ByteSpan>& spans, const char* name) {
  for (size_t i = 0; i < spans.size(); ++i) {
    if (spans[i].first > spans[i].second) {
      return InvalidArgumentError(std::string(name) + "[" + std::to_string(i) + "]: begin " +
                                  std::to_string(spans[i].first) + " > end " +
                                  std::to_string(spans[i].second));
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::vector<float>> ProjectScores(const std::vector<ByteSpan>& reference_offsets,
                                           const std::vector<float>& reference_scores,
                                           const std::vector<ByteSpan>& target_offsets) {
  if (reference_offsets.size() != reference_scores.size()) {
    return InvalidArgumentError(
        "reference_offsets has " + std::to_string(reference_offsets.size()) +
        " spans but reference_scores has " + std::to_string(reference_scores.size()) + " scores");
  }
  CLUEDROP_RETURN_IF_ERROR(CheckSpans(reference_offsets, "reference_offsets"));
  CLUEDROP_RETURN_IF_ERROR(CheckSpans(target_offsets, "target_offsets"));

  // Scored, non-empty reference tokens sorted by begin; any reference span
  // overlapping [a, b) begins in (a - longest, b).
  struct Ref {
    ByteSpan span;
    float score;
  };
  std::vector<Ref> refs;
  size_t longest = 0;
  for (size_t i = 0; i < reference_offsets.size(); ++i) {
    const ByteSpan& s = reference_offsets[i];
    if (s.first == s.second || std::isnan(reference_scores[i])) continue;
    refs.push_back({s, reference_scores[i]});
    longest = std::max(longest, s.second - s.first);
  }
  std::sort(refs.begin(), refs.end(),
            [](const Ref& x, const Ref& y) { return x.span.first < y.span.first; });

  std::vector<float> out(target_offsets.size(), std::numeric_limits<float>::quiet_NaN());
  for (size_t t = 0; t < target_offsets.size(); ++t) {
    const auto [a, b] = target_offsets[t];
    if (a == b) continue;
    const size_t from = a >= longest ? a - longest + 1 : 0;
    auto it = std::lower_bound(refs.begin(), refs.end(), from,
                               [](const Ref& r, size_t v) { return r.span.first < v; });
    for (; it != refs.end() && it->span.first < b; ++it) {
      if (it->span.second <= a) continue;
      if (std::isnan(out[t]) || it->score > out[t]) out[t] = it->score;
    }
  }
  return out;
}

}  // namespace cluedrop::scorer
