#include "workers/trainer/augmenter.h"

#include <algorithm>
#include <span>

#include "workers/trainer/dropout_mask.h"
#include "workers/trainer/span_edit.h"

namespace cluedrop {
namespace {

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view Strip(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The score vector the mode ranks by (null for modes that use none).
const std::vector<float>* RankingScores(AugmentMode mode, const ScoredDocument& doc) {
  switch (mode) {
    case AugmentMode::kLarge:
      return &doc.received_large;
    case AugmentMode::kSmall:
      return &doc.received_small;
    case AugmentMode::kContrast:
      return &doc.contrast;
    default:
      return nullptr;
  }
}

}  // namespace

Augmenter::Augmenter(AugmentationOptions options, const TextEncoder* encoder)
    : options_(std::move(options)), encoder_(encoder) {
  for (const std::string& p : options_.protected_tokens) protected_.emplace_back(Strip(p));
}

Status Augmenter::CheckDocument(const ScoredDocument& doc) const {
  CLUEDROP_RETURN_IF_ERROR(ValidateAugmentationOptions(options_));
  const size_t n = doc.tokens.size();
  const std::string where = "document '" + doc.id + "'";
  if (doc.offsets.size() != n) {
    return InvalidArgumentError(where + ": " + std::to_string(doc.offsets.size()) +
                                " offsets for " + std::to_string(n) + " tokens");
  }
  if (!doc.special.empty() && doc.special.size() != n) {
    return InvalidArgumentError(where + ": " + std::to_string(doc.special.size()) +
                                " special flags for " + std::to_string(n) + " tokens");
  }
  if (doc.special.empty() && encoder_ == nullptr) {
    return FailedPreconditionError(where +
                                   ": no special-token flags and no tokenizer to derive them");
  }
  for (size_t i = 0; i < n; ++i) {
    const auto [begin, end] = doc.offsets[i];
    if (begin > end || end > doc.text.size()) {
      return InvalidArgumentError(where + ": token " + std::to_string(i) + " has byte span [" +
                                  std::to_string(begin) + ", " + std::to_string(end) +
                                  ") outside the text (" + std::to_string(doc.text.size()) +
                                  " bytes)");
    }
  }
  const std::vector<float>* scores = RankingScores(options_.mode, doc);
  if (scores != nullptr && scores->size() != n) {
    return InvalidArgumentError(where + ": mode " + AugmentModeName(options_.mode) + " needs " +
                                std::to_string(n) + " scores, got " +
                                std::to_string(scores->size()));
  }
  if (options_.form == DropForm::kBlank && options_.mode != AugmentMode::kNone &&
      encoder_ == nullptr) {
    return FailedPreconditionError(where + ": the blank form needs a tokenizer to re-encode");
  }
  return OkStatus();
}

StatusOr<std::vector<bool>> Augmenter::Droppable(const ScoredDocument& doc) const {
  CLUEDROP_RETURN_IF_ERROR(CheckDocument(doc));
  std::vector<bool> droppable(doc.tokens.size(), false);
  for (size_t i = 0; i < doc.tokens.size(); ++i) {
    const bool special =
        doc.special.empty() ? encoder_->IsSpecial(doc.tokens[i]) : doc.special[i] != 0;
    const auto [begin, end] = doc.offsets[i];
    if (special || begin == end) continue;
    const std::string_view text = Strip(std::string_view(doc.text).substr(begin, end - begin));
    droppable[i] = std::find(protected_.begin(), protected_.end(), text) == protected_.end();
  }
  return droppable;
}

std::vector<bool> Augmenter::MaskOf(const ScoredDocument& doc, const std::vector<bool>& droppable,
                                    uint32_t epoch, uint32_t copy) const {
  const std::vector<float>* scores = RankingScores(options_.mode, doc);
  const MaskKey key{.seed = options_.seed,
                    .document_id = doc.id,
                    .epoch = options_.resample == Resample::kFixed ? 0 : epoch,
                    .copy = copy};
  return SampleDropMask(options_.mode,
                        scores == nullptr ? std::span<const float>() : std::span(*scores),
                        droppable, {.alpha = options_.alpha, .beta = options_.beta}, key);
}

StatusOr<std::vector<bool>> Augmenter::DropMask(const ScoredDocument& doc, uint32_t epoch,
                                                uint32_t copy) const {
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<bool> droppable, Droppable(doc));
  return MaskOf(doc, droppable, epoch, copy);
}

StatusOr<AugmentedSample> Augmenter::Augment(const ScoredDocument& doc, uint32_t epoch,
                                             int32_t copy) const {
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<bool> droppable, Droppable(doc));
  return AugmentWith(doc, droppable, epoch, copy);
}

StatusOr<AugmentedSample> Augmenter::AugmentWith(const ScoredDocument& doc,
                                                 const std::vector<bool>& droppable, uint32_t epoch,
                                                 int32_t copy) const {
  AugmentedSample sample;
  sample.copy = copy;
  sample.droppable = static_cast<size_t>(std::count(droppable.begin(), droppable.end(), true));
  if (copy == AugmentedSample::kOriginal || options_.mode == AugmentMode::kNone) {
    sample.text = doc.text;
    sample.tokens = doc.tokens;
    return sample;
  }
  if (copy < 0) return InvalidArgumentError("copy: must be >= 0 or kOriginal");
  const std::vector<bool> drop = MaskOf(doc, droppable, epoch, static_cast<uint32_t>(copy));
  std::vector<std::pair<size_t, size_t>> spans;
  for (size_t i = 0; i < drop.size(); ++i) {
    if (!drop[i]) {
      if (options_.form == DropForm::kDelete) sample.tokens.push_back(doc.tokens[i]);
      continue;
    }
    sample.dropped.push_back(static_cast<int32_t>(i));
    spans.push_back(doc.offsets[i]);
  }
  if (options_.form == DropForm::kDelete) {
    sample.text = DeleteSpans(doc.text, spans);
    return sample;
  }
  sample.text = BlankSpans(doc.text, spans);
  StatusOr<EncodedText> encoded = encoder_->Encode(sample.text);
  if (!encoded.ok()) return encoded.status().Annotated("document '" + doc.id + "'");
  sample.tokens = std::move(encoded->ids);
  return sample;
}

StatusOr<std::vector<AugmentedSample>> Augmenter::SamplesForEpoch(const ScoredDocument& doc,
                                                                  uint32_t epoch) const {
  CLUEDROP_ASSIGN_OR_RETURN(std::vector<bool> droppable, Droppable(doc));
  std::vector<AugmentedSample> samples;
  if (options_.keep_original || options_.mode == AugmentMode::kNone) {
    CLUEDROP_ASSIGN_OR_RETURN(AugmentedSample original,
                              AugmentWith(doc, droppable, epoch, AugmentedSample::kOriginal));
    samples.push_back(std::move(original));
  }
  if (options_.mode == AugmentMode::kNone) return samples;
  for (uint32_t c = 0; c < options_.copies; ++c) {
    CLUEDROP_ASSIGN_OR_RETURN(AugmentedSample sample,
                              AugmentWith(doc, droppable, epoch, static_cast<int32_t>(c)));
    samples.push_back(std::move(sample));
  }
  return samples;
}

}  // namespace cluedrop
